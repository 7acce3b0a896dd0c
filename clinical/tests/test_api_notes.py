from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from billingpulse.tests.factories import PASSWORD, PatientFactory
from clinical.models import ClinicalNote, NoteEvent
from clinical.status import NoteStatus
from clinical.tests.factories import NoteTemplateFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(doctor):
    client = APIClient()
    client.force_authenticate(doctor)
    return client


def test_it_starts_a_note_from_a_template_with_content(api, practice, doctor):
    template = NoteTemplateFactory(practice=practice, sections={"plan": "Recheck."})
    patient = PatientFactory(practice=practice)

    response = api.post(
        "/api/v1/notes",
        {
            "patient": patient.pk,
            "provider": doctor.provider.pk,
            "template": template.pk,
            "subjective": "Sore throat.",
            "diagnosis_codes": ["j02.9"],
            "procedures": [{"code": "99213", "pointers": "A"}],
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["plan"], body["subjective"], body["diagnosis_codes"]) == ("Recheck.", "Sore throat.", ["J02.9"])
    assert body["status"] == "in_progress" and body["signatures"] == []


def test_it_refuses_another_practices_patient_as_if_it_did_not_exist(api, doctor, other_practice):
    stranger = PatientFactory(practice=other_practice)
    response = api.post("/api/v1/notes", {"patient": stranger.pk, "provider": doctor.provider.pk}, format="json")
    assert response.status_code == 400 and "does not exist" in response.json()["patient"][0]


def test_it_hides_another_practices_note(note, other_practice):
    from billingpulse.tests.factories import UserFactory

    client = APIClient()
    client.force_authenticate(UserFactory(practice=other_practice))
    assert client.get(f"/api/v1/notes/{note.pk}").status_code == 404
    assert client.post(f"/api/v1/notes/{note.pk}/sign", {"password": PASSWORD, "meaning": "author"}).status_code == 404
    assert client.get("/api/v1/notes").json()["results"] == []


def test_it_updates_a_draft_and_answers_a_stale_revision_with_409(api, note):
    assert api.patch(f"/api/v1/notes/{note.pk}", {"plan": "A", "revision": 1}, format="json").status_code == 200
    stale = api.patch(f"/api/v1/notes/{note.pk}", {"plan": "B", "revision": 1}, format="json")
    assert stale.status_code == 409 and "Someone else saved" in stale.json()["detail"]


def test_it_gives_field_errors_for_bad_codes(api, note):
    response = api.patch(f"/api/v1/notes/{note.pk}", {"diagnosis_codes": ["250.00"]}, format="json")
    assert response.status_code == 400 and "ICD-9" in response.json()["diagnosis_codes"][0]


def test_it_signs_with_password_and_meaning_then_refuses_edits(api, note):
    wrong = api.post(f"/api/v1/notes/{note.pk}/sign", {"password": "nope", "meaning": "author"}, format="json")
    assert wrong.status_code == 400 and "password is not right" in wrong.json()["detail"]

    signed = api.post(f"/api/v1/notes/{note.pk}/sign", {"password": PASSWORD, "meaning": "author"}, format="json")
    assert signed.status_code == 200 and signed.json()["status"] == "signed"
    assert signed.json()["signatures"][0]["printed_name"] == "Dana Doctor"

    edit = api.patch(f"/api/v1/notes/{note.pk}", {"plan": "After signing"}, format="json")
    assert edit.status_code == 400 and "your changes were not saved" in edit.json()["detail"]
    note.refresh_from_db()
    assert note.plan == "Fluids, rest; return if worse."
    assert api.put(f"/api/v1/notes/{note.pk}", {"plan": "x"}, format="json").status_code == 405
    assert api.delete(f"/api/v1/notes/{note.pk}").status_code == 405


def test_it_refuses_signing_by_staff_with_403(note, teammate):
    client = APIClient()
    client.force_authenticate(teammate)
    response = client.post(f"/api/v1/notes/{note.pk}/sign", {"password": PASSWORD, "meaning": "author"}, format="json")
    assert response.status_code == 403
    assert note.events.filter(kind=NoteEvent.Kind.REFUSED, actor=teammate).exists()


def test_it_locks_amends_and_adds_an_addendum(api, signed_note):
    base = f"/api/v1/notes/{signed_note.pk}"
    assert api.post(f"{base}/amend", {"reason": ""}, format="json").status_code == 400
    amendment = api.post(f"{base}/amend", {"reason": "Wrong code."}, format="json")
    assert amendment.status_code == 201 and amendment.json()["version"] == 2
    assert api.post(f"{base}/lock").json()["status"] == "locked"
    addendum = api.post(f"{base}/addendum", {"password": PASSWORD, "text": "Seen again."}, format="json")
    assert addendum.status_code == 201 and addendum.json()["addenda"][0]["text"] == "Seen again."
    assert ClinicalNote.objects.get(pk=signed_note.pk).status == NoteStatus.LOCKED


def test_it_lists_appointments_and_refuses_a_status_the_machine_forbids(api, practice, doctor):
    patient = PatientFactory(practice=practice)
    created = api.post(
        "/api/v1/appointments",
        {"patient": patient.pk, "provider": doctor.provider.pk, "starts_at": "2026-12-07T15:00:00Z"},
        format="json",
    )
    assert created.status_code == 201, created.content
    url = f"/api/v1/appointments/{created.json()['id']}"
    assert api.patch(url, {"status": "completed"}, format="json").status_code == 200
    refused = api.patch(url, {"status": "no_show"}, format="json")
    assert refused.status_code == 400 and "cannot become no-show" in refused.json()["status"][0]
    assert api.get("/api/v1/appointments?status=bogus").status_code == 400


def test_it_checks_the_signatures_each_time_a_note_is_read(api, signed_note):
    from clinical.tests.test_tamper import _change_behind_the_guards

    assert api.get(f"/api/v1/notes/{signed_note.pk}").json()["signatures_intact"] is True
    _change_behind_the_guards(signed_note, "Changed behind the guards.")

    assert api.get(f"/api/v1/notes/{signed_note.pk}").json()["signatures_intact"] is False
    assert signed_note.events.filter(kind=NoteEvent.Kind.TAMPER).exists()
