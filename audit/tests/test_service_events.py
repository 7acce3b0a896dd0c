"""Call initiation, e-signature, share-link downloads and key rotation land in the log."""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime

import pytest
import time_machine

from audit.models import Action
from audit.tests.helpers import only_entry
from billingpulse.actor import Actor
from billingpulse.tests.factories import PASSWORD, ProviderFactory, UserFactory
from claims.tests.factories import ClaimFactory, PayerFactory
from clinical import services as clinical
from clinical.tests.factories import ClinicalNoteFactory
from documents import services as documents
from documents.tests.factories import DocumentFactory
from telephony import services as telephony
from telephony.models import Call
from telephony.tests.factories import CallFactory
from telephony.tests.fake_provider import FakeProvider

pytestmark = pytest.mark.django_db


@time_machine.travel(datetime(2026, 11, 17, 15, 0, tzinfo=UTC), tick=False)  # a Tuesday, payers open
def test_it_records_a_call_being_placed_for_the_user_who_started_it(practice, teammate):
    claim = ClaimFactory(practice=practice, payer=PayerFactory(practice=practice))
    call = CallFactory(
        practice=practice, claim=claim, status=Call.Status.QUEUED, provider_call_id=None, started_by=teammate
    )

    telephony.place_call(call.pk, provider=FakeProvider())

    entry = only_entry(action=Action.CALL_STARTED)
    assert (entry.actor_id, entry.resource_type, entry.resource_id) == (teammate.pk, "call", str(call.pk))
    assert (entry.practice_id, entry.patient_id) == (practice.pk, claim.patient_id)
    assert f"fake-{call.pk}" in entry.message


def test_it_records_an_e_signature(practice):
    doctor = UserFactory(practice=practice)
    ProviderFactory(practice=practice, user=doctor, first_name="Dana", last_name="Doctor", credentials="MD")
    note = ClinicalNoteFactory(practice=practice, provider=doctor.provider, author=doctor)

    clinical.sign(note, actor=Actor(doctor, ip_address="10.4.4.4"), password=PASSWORD, meaning="author")

    entry = only_entry(action=Action.NOTE_SIGNED)
    assert (entry.actor_id, entry.resource_type, entry.resource_id) == (doctor.pk, "note", str(note.pk))
    assert entry.patient_id == note.patient_id
    assert "Dana Doctor" in entry.message


def test_it_records_a_download_through_a_share_link(client, practice, owner):
    document = DocumentFactory(practice=practice)
    _link, token = documents.share(document.current_version, actor=Actor(owner))

    response = client.get(f"/documents/shared/{token}/download/", REMOTE_ADDR="198.51.100.9")
    b"".join(response.streaming_content)

    entry = only_entry(action=Action.DOWNLOADED)
    assert (entry.actor_id, entry.resource_type, entry.resource_id) == (None, "document", str(document.pk))
    assert (entry.practice_id, entry.patient_id, entry.remote_addr) == (
        practice.pk,
        document.patient_id,
        "198.51.100.9",
    )


def test_it_records_each_file_re_encrypted_by_a_key_rotation(practice, settings):
    old, new = (base64.urlsafe_b64encode(os.urandom(32)).decode() for _ in range(2))
    settings.DOCUMENT_ENCRYPTION_KEYS = [old]
    document = DocumentFactory(practice=practice)
    settings.DOCUMENT_ENCRYPTION_KEYS = [new, old]

    assert documents.rotate_keys() == 1

    entry = only_entry(action=Action.KEY_ROTATED)
    assert (entry.actor_id, entry.resource_type, entry.resource_id) == (None, "document", str(document.pk))
    assert entry.practice_id == practice.pk
