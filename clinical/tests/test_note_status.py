from __future__ import annotations

import pytest

from clinical.models import ClinicalNote

pytestmark = pytest.mark.django_db


def _url(note) -> str:
    return f"/notes/{note.pk}/status/"


def test_it_marks_a_note_completed_and_reopens_it(owner_client, note):
    response = owner_client.post(_url(note), {"status": "completed"})

    assert response.status_code == 302 and response["Location"] == f"/notes/{note.pk}/edit/"
    assert ClinicalNote.objects.get(pk=note.pk).status == "completed"

    owner_client.post(_url(note), {"status": "in_progress"})
    assert ClinicalNote.objects.get(pk=note.pk).status == "in_progress"


def test_it_lets_staff_mark_notes_completed(teammate_client, note):
    assert teammate_client.post(_url(note), {"status": "completed"}).status_code == 302


def test_it_refuses_a_signed_note_with_the_services_message(owner_client, signed_note):
    response = owner_client.post(_url(signed_note), {"status": "completed"})

    assert response.status_code == 400
    assert b"cannot be marked completed" in response.content


def test_it_hides_another_practices_note(outsider_client, note):
    assert outsider_client.post(_url(note), {"status": "completed"}).status_code == 404


def test_it_refuses_get(owner_client, note):
    assert owner_client.get(_url(note)).status_code == 405


def test_it_sends_anonymous_users_to_sign_in(client, note):
    response = client.post(_url(note), {"status": "completed"})

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
