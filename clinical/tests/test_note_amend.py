from __future__ import annotations

import pytest
from django.test import Client

from clinical.models import ClinicalNote

pytestmark = pytest.mark.django_db


def _url(note) -> str:
    return f"/notes/{note.pk}/amend/"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_it_shows_the_form(owner_client, signed_note):
    response = owner_client.get(_url(signed_note))

    assert response.status_code == 200
    assert b'name="reason"' in response.content


def test_it_starts_an_amendment_and_opens_its_editor(doctor, signed_note):
    response = _client(doctor).post(_url(signed_note), {"reason": "Wrong plan recorded"})

    draft = ClinicalNote.objects.get(amends=signed_note)
    assert response.status_code == 302 and response["Location"] == f"/notes/{draft.pk}/edit/"
    assert (draft.version, draft.amendment_reason, draft.status) == (2, "Wrong plan recorded", "draft")


def test_it_needs_a_reason(doctor, signed_note):
    response = _client(doctor).post(_url(signed_note), {"reason": "  "})

    assert response.status_code == 400
    assert b"Say why the note is being amended" in response.content
    assert not ClinicalNote.objects.filter(amends=signed_note).exists()


def test_it_refuses_staff_who_are_not_providers(teammate_client, signed_note):
    response = teammate_client.post(_url(signed_note), {"reason": "Typo"})

    assert response.status_code == 403
    assert not ClinicalNote.objects.filter(amends=signed_note).exists()


def test_it_refuses_a_second_amendment_with_409(doctor, signed_note):
    client = _client(doctor)
    client.post(_url(signed_note), {"reason": "First"})

    response = client.post(_url(signed_note), {"reason": "Second"})

    assert response.status_code == 409
    assert b"already being written" in response.content


def test_it_hides_another_practices_note(outsider_client, signed_note):
    assert outsider_client.get(_url(signed_note)).status_code == 404


def test_it_refuses_put(owner_client, signed_note):
    assert owner_client.put(_url(signed_note)).status_code == 405


def test_it_sends_anonymous_users_to_sign_in(client, signed_note):
    response = client.get(_url(signed_note))

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
