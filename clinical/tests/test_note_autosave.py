from __future__ import annotations

import pytest

from clinical.models import ClinicalNote

HX = {"HTTP_HX_REQUEST": "true"}
pytestmark = pytest.mark.django_db


def _url(note) -> str:
    return f"/notes/{note.pk}/autosave/"


def _form(note, **changes) -> dict:
    data = {
        "revision": note.revision,
        "note_type": note.note_type,
        "note_date": note.note_date.isoformat(),
        "subjective": note.subjective,
        "plan": note.plan,
        "diagnosis_codes": "J20.9",
        "procedures": "99213 x1 A",
    }
    return data | changes


def test_it_saves_and_answers_with_the_status_and_the_new_revision(owner_client, note):
    response = owner_client.post(_url(note), _form(note, plan="Rest."), **HX)

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="autosave-status"') and "Saved " in body
    assert '<input type="hidden" name="revision" id="id_revision" value="2" hx-swap-oob="true">' in body
    assert "<html" not in body
    assert ClinicalNote.objects.get(pk=note.pk).plan == "Rest."


def test_it_lets_staff_autosave(teammate_client, note):
    assert teammate_client.post(_url(note), _form(note, plan="Rest."), **HX).status_code == 200


def test_it_answers_409_on_a_conflict_and_saves_nothing(owner_client, note):
    ClinicalNote.objects.filter(pk=note.pk).update(revision=3)

    response = owner_client.post(_url(note), _form(note, plan="Mine"), **HX)

    body = response.content.decode()
    assert response.status_code == 409
    assert 'id="autosave-status"' in body and "Someone else saved this note" in body
    assert "hx-swap-oob" not in body
    assert ClinicalNote.objects.get(pk=note.pk).plan != "Mine"


def test_it_refuses_to_save_into_a_signed_note(owner_client, signed_note):
    before = ClinicalNote.objects.get(pk=signed_note.pk)

    response = owner_client.post(_url(signed_note), _form(signed_note, plan="Changed"), **HX)

    assert response.status_code == 400
    assert "This note was signed by Dana Doctor" in response.content.decode()
    after = ClinicalNote.objects.get(pk=signed_note.pk)
    assert (after.plan, after.revision, after.content_hash()) == (before.plan, before.revision, before.content_hash())


def test_it_shows_field_errors_for_bad_codes(owner_client, note):
    response = owner_client.post(_url(note), _form(note, diagnosis_codes="ZZZ"), **HX)

    body = response.content.decode()
    assert response.status_code == 400
    assert "Not saved:" in body and "Diagnosis codes (ICD-10-CM):" in body
    assert ClinicalNote.objects.get(pk=note.pk).revision == note.revision


def test_it_hides_another_practices_note(outsider_client, note):
    assert outsider_client.post(_url(note), _form(note, plan="x"), **HX).status_code == 404


def test_it_refuses_get(owner_client, note):
    assert owner_client.get(_url(note)).status_code == 405


def test_it_sends_anonymous_users_to_sign_in(client, note):
    response = client.post(_url(note), _form(note))

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
