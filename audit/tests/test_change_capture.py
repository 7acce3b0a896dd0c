"""Changes to patient and financial records (django-auditlog) land in the chained log."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry

from audit.models import Action
from audit.registry import TRACKED
from audit.tests.helpers import entries, only_entry
from billingpulse.tests.factories import PatientFactory
from claims.tests.factories import ClaimFactory

pytestmark = pytest.mark.django_db


def test_it_records_a_change_with_before_and_after_actor_address_and_request(api, owner, practice):
    patient = PatientFactory(practice=practice, phone="")

    response = api.patch(f"/api/v1/patients/{patient.pk}", {"phone": "+15125550123"}, REMOTE_ADDR="10.9.8.7")

    assert response.status_code == 200
    entry = only_entry(action=Action.CHANGED)
    assert entry.changes == {"phone": ["", "+15125550123"]}
    assert (entry.actor_id, entry.resource_type, entry.resource_id) == (owner.pk, "patient", str(patient.pk))
    assert (entry.patient_id, entry.practice_id) == (patient.pk, practice.pk)
    assert (entry.remote_addr, entry.request_id) == ("10.9.8.7", response["X-Request-ID"])
    # django-auditlog's own row says the same.
    log = LogEntry.objects.get(action=LogEntry.Action.UPDATE, object_id=patient.pk, content_type__model="patient")
    assert (log.actor_id, log.remote_addr, log.cid) == (owner.pk, "10.9.8.7", response["X-Request-ID"])


def test_it_records_creation_and_deletion(api, practice):
    response = api.post(
        "/api/v1/patients",
        {"first_name": "Ada", "last_name": "Quill", "date_of_birth": "1980-02-03", "sex": "F"},
        format="json",
    )
    patient_id = response.json()["id"]
    api.delete(f"/api/v1/patients/{patient_id}")

    created = only_entry(action=Action.CREATED, resource_type="patient")
    deleted = only_entry(action=Action.DELETED, resource_type="patient")
    assert created.patient_id == deleted.patient_id == patient_id
    assert created.changes["last_name"] == ["None", "Quill"]
    # The entry outlives the patient it names.
    assert deleted.resource_label.startswith("Quill") or "Quill" in deleted.resource_label


def test_a_claims_change_records_what_the_biller_changed_and_not_the_search_text(practice):
    # The instance still holds the search text it was created with; the database wrote the real one.
    claim = ClaimFactory(practice=practice, denial_code="")

    claim.denial_code = "CO-16"
    claim.save()

    assert only_entry(action=Action.CHANGED, resource_type="claim").changes == {"denial_code": ["", "CO-16"]}


def test_it_never_copies_encrypted_free_text_into_the_log(practice):
    claim = ClaimFactory(practice=practice)

    claim.next_steps = "Patient disclosed a diagnosis on the call"
    claim.save()

    entry = only_entry(action=Action.CHANGED, resource_type="claim")
    assert entry.changes["next_steps"] == ["", "(redacted)"]
    assert "diagnosis" not in str(LogEntry.objects.filter(action=LogEntry.Action.UPDATE).values_list("changes"))


def test_it_tracks_every_listed_model_and_no_append_only_log():
    from auditlog.registry import auditlog
    from django.apps import apps

    tracked = {apps.get_model(item.model) for item in TRACKED}

    assert all(auditlog.contains(model) for model in tracked)
    for label in ("billing.LedgerEntry", "billing.JournalTransaction", "clinical.Signature", "claims.ClaimEvent"):
        assert not auditlog.contains(apps.get_model(label))


def test_it_writes_nothing_when_the_change_is_rolled_back(practice):
    from django.db import transaction

    patient = PatientFactory(practice=practice)
    before = len(entries())
    with pytest.raises(RuntimeError), transaction.atomic():
        patient.phone = "+15125550999"
        patient.save()
        raise RuntimeError

    assert len(entries()) == before


def test_recording_a_new_patient_leaves_its_account_to_be_found_later(practice):
    from billing.models import PatientAccount

    patient = PatientFactory(practice=practice)  # recorded as created
    PatientAccount.objects.create(practice=practice, patient=patient)

    # The same instance finds the account made after it was recorded (nothing cached "none").
    assert patient.account.patient_id == patient.pk


def test_a_new_record_lists_only_the_values_it_was_given(practice):
    PatientFactory(practice=practice, first_name="Ada", phone="")

    changes = only_entry(action=Action.CREATED, resource_type="patient").changes

    assert changes["first_name"] == ["None", "Ada"]
    assert "phone" not in changes  # empty then and now
