from __future__ import annotations

import pytest
from django.test import Client

from clinical.models import ClinicalNote

pytestmark = pytest.mark.django_db


def _url(note) -> str:
    return f"/notes/{note.pk}/lock/"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_it_locks_a_signed_note(doctor, signed_note):
    response = _client(doctor).post(_url(signed_note))

    assert response.status_code == 302 and response["Location"] == f"/notes/{signed_note.pk}/"
    note = ClinicalNote.objects.get(pk=signed_note.pk)
    assert note.status == "locked" and note.locked_by == doctor


def test_it_refuses_staff_who_are_not_providers(teammate_client, signed_note):
    response = teammate_client.post(_url(signed_note))

    assert response.status_code == 403
    assert b"Only the note&#x27;s provider or a supervising provider can lock it." in response.content
    assert ClinicalNote.objects.get(pk=signed_note.pk).status == "signed"


def test_it_refuses_a_draft(owner_client, doctor, note):
    response = _client(doctor).post(_url(note))

    assert response.status_code == 400
    assert b"Only a signed note can be locked" in response.content


def test_it_hides_another_practices_note(outsider_client, signed_note):
    assert outsider_client.post(_url(signed_note)).status_code == 404


def test_it_refuses_get(owner_client, signed_note):
    assert owner_client.get(_url(signed_note)).status_code == 405


def test_it_sends_anonymous_users_to_sign_in(client, signed_note):
    response = client.post(_url(signed_note))

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
