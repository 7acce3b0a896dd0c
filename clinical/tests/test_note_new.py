from __future__ import annotations

import pytest

from billingpulse.tests.factories import PatientFactory
from clinical.models import ClinicalNote, NoteEvent
from clinical.tests.factories import NoteTemplateFactory

URL = "/notes/new/"
pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(practice):
    return PatientFactory(practice=practice, first_name="Eleanor", last_name="Whitfield")


def test_it_shows_the_form_with_the_practices_active_templates(owner_client, practice, other_practice):
    NoteTemplateFactory(practice=practice, name="Cough visit")
    NoteTemplateFactory(practice=practice, name="Retired one", is_active=False)
    NoteTemplateFactory(practice=other_practice, name="Bravo template")

    response = owner_client.get(URL)

    assert response.status_code == 200
    assert b"Cough visit" in response.content
    assert b"Retired one" not in response.content and b"Bravo template" not in response.content


def test_it_starts_a_note_from_a_template_and_opens_the_editor(teammate_client, teammate, doctor, patient, practice):
    template = NoteTemplateFactory(practice=practice, name="Cough visit", note_type="progress")

    response = teammate_client.post(
        URL,
        {"patient": patient.pk, "provider": doctor.provider.pk, "note_type": "soap", "template": template.pk},
    )

    note = ClinicalNote.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/notes/{note.pk}/edit/"
    assert (note.patient, note.provider, note.author, note.template) == (patient, doctor.provider, teammate, template)
    assert note.note_type == "progress" and note.subjective == "Patient reports "
    assert note.events.get().kind == NoteEvent.Kind.CREATED


def test_it_refuses_another_practices_patient(owner_client, doctor, other_practice):
    stranger = PatientFactory(practice=other_practice)

    response = owner_client.post(URL, {"patient": stranger.pk, "provider": doctor.provider.pk, "note_type": "soap"})

    assert response.status_code == 400
    assert not ClinicalNote.objects.exists()


def test_it_refuses_delete(owner_client):
    assert owner_client.delete(URL).status_code == 405


def test_it_sends_anonymous_users_to_sign_in(client):
    response = client.get(URL)

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_it_preselects_the_signed_in_provider(client, doctor):
    client.force_login(doctor)
    body = client.get("/notes/new/").content.decode()
    assert f'<option value="{doctor.provider.pk}" selected>' in body
