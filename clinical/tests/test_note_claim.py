from __future__ import annotations

from decimal import Decimal

import pytest

from claims.models import Claim
from claims.tests.factories import FeeScheduleEntryFactory, InsurancePolicyFactory

pytestmark = pytest.mark.django_db


def _url(note) -> str:
    return f"/notes/{note.pk}/claim/"


def test_it_turns_a_signed_note_into_a_draft_claim_and_opens_it(client, teammate, signed_note):
    InsurancePolicyFactory(practice=signed_note.practice, patient=signed_note.patient)
    FeeScheduleEntryFactory(practice=signed_note.practice, code="99213", charge=Decimal("95.00"))
    client.force_login(teammate)

    response = client.post(_url(signed_note))

    claim = Claim.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/claims/{claim.pk}/"
    assert claim.status == "draft" and claim.lines.get().charge == Decimal("95.00")
    claim_page = client.get(response["Location"]).content.decode()
    assert '$95.00<span class="amount-note">posted when submitted</span>' in claim_page
    page = client.get(f"/notes/{signed_note.pk}/")
    assert f"Claim {claim.claim_number}".encode() in page.content and b"Create claim" not in page.content


def test_it_explains_why_a_note_cannot_be_billed(client, teammate, signed_note):
    client.force_login(teammate)
    response = client.post(_url(signed_note))
    assert response.status_code == 400 and b"has no insurance policy on file" in response.content
    assert not Claim.objects.exists()


def test_it_hides_another_practices_note(client, outsider, signed_note):
    client.force_login(outsider)
    assert client.post(_url(signed_note)).status_code == 404


def test_it_refuses_get_and_anonymous(client, teammate, signed_note):
    assert client.post(_url(signed_note)).status_code == 302
    client.force_login(teammate)
    assert client.get(_url(signed_note)).status_code == 405
