from __future__ import annotations

import pytest
from django.test import Client

from clinical.models import ClinicalNote, NoteEvent

pytestmark = pytest.mark.django_db


def _url(note) -> str:
    return f"/notes/{note.pk}/edit/"


def _form(note, **changes) -> dict:
    data = {
        "revision": note.revision,
        "note_type": note.note_type,
        "note_date": note.note_date.isoformat(),
        "subjective": note.subjective,
        "objective": note.objective,
        "assessment": note.assessment,
        "plan": note.plan,
        "diagnosis_codes": "J20.9",
        "procedures": "99213 x1 A",
        "medications": "",
        "orders": "",
    }
    return data | changes


def test_it_shows_the_editor_with_the_notes_content(owner_client, note):
    response = owner_client.get(_url(note))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Cough for three days, no fever." in body
    assert f'name="revision" id="id_revision" value="{note.revision}"' in body
    assert f'hx-post="/notes/{note.pk}/autosave/"' in body
    assert "99213 x1 A" in body


def test_it_saves_a_draft(teammate_client, teammate, note):
    response = teammate_client.post(
        _url(note),
        _form(
            note,
            hpi="Started Monday.",
            diagnosis_codes="J20.9, R05.1",
            procedures="99213 25 x1 AB\n94640 x2",
            medications="Albuterol inhaler\nGuaifenesin",
        ),
    )

    assert response.status_code == 302 and response["Location"] == _url(note)
    note.refresh_from_db()
    assert note.hpi == "Started Monday." and note.status == "in_progress" and note.revision == 2
    assert note.diagnosis_codes == ["J20.9", "R05.1"]
    assert note.procedures == [
        {"code": "99213", "modifiers": ["25"], "units": 1, "pointers": "AB"},
        {"code": "94640", "modifiers": [], "units": 2, "pointers": "A"},
    ]
    assert note.medications == ["Albuterol inhaler", "Guaifenesin"]
    assert note.events.get().kind == NoteEvent.Kind.EDITED


def test_it_shows_the_services_field_errors_for_bad_codes(owner_client, note):
    response = owner_client.post(_url(note), _form(note, diagnosis_codes="NOTACODE", procedures="ABC"))

    body = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_diagnosis_codes_error"' in body and 'id="id_procedures_error"' in body
    assert "is not a CPT or HCPCS code" in body
    assert ClinicalNote.objects.get(pk=note.pk).revision == note.revision


def test_it_reports_a_conflict_when_someone_saved_meanwhile(owner_client, note):
    stale = _form(note, plan="Mine")
    ClinicalNote.objects.filter(pk=note.pk).update(revision=5)

    response = owner_client.post(_url(note), stale)

    assert response.status_code == 409
    assert "Someone else saved this note" in response.content.decode()
    assert ClinicalNote.objects.get(pk=note.pk).plan != "Mine"


def test_it_refuses_to_edit_a_signed_note(owner_client, signed_note):
    response = owner_client.get(_url(signed_note))

    assert response.status_code == 409
    assert b"can no longer be edited" in response.content


def test_it_refuses_to_save_into_a_signed_note_with_the_services_message(owner_client, signed_note):
    response = owner_client.post(_url(signed_note), _form(signed_note, plan="Changed"))

    assert response.status_code == 400
    assert b"This note was signed by Dana Doctor" in response.content
    assert ClinicalNote.objects.get(pk=signed_note.pk).plan != "Changed"
    assert signed_note.events.filter(kind=NoteEvent.Kind.REFUSED).exists()


def test_it_hides_another_practices_note(outsider_client, note):
    assert outsider_client.get(_url(note)).status_code == 404
    assert outsider_client.post(_url(note), _form(note, plan="x")).status_code == 404


def test_it_refuses_put(owner_client, note):
    assert owner_client.put(_url(note)).status_code == 405


def test_it_sends_anonymous_users_to_sign_in(note):
    response = Client().get(_url(note))

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_it_offers_the_sections_of_the_notes_type_and_folds_the_others(owner_client, note):
    body = owner_client.get(f"/notes/{note.pk}/edit/").content.decode()

    folded = body[body.index('<details class="more-sections">') :]
    assert 'name="assessment"' in body[: body.index('<details class="more-sections">')]
    assert 'name="hpi"' in folded and 'name="ros"' in folded and 'name="assessment"' not in folded


def test_every_note_type_has_its_sections():
    from clinical.models import SECTION_NAMES, TYPE_SECTIONS, NoteType

    assert set(TYPE_SECTIONS) == set(NoteType.values)
    assert all(set(sections) <= set(SECTION_NAMES) for sections in TYPE_SECTIONS.values())
