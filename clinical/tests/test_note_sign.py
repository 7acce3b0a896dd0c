from __future__ import annotations

import pytest
from django.test import Client

from billingpulse.tests.factories import PASSWORD
from clinical.models import ClinicalNote, NoteEvent, Signature

HX = {"HTTP_HX_REQUEST": "true"}
pytestmark = pytest.mark.django_db


def _url(note) -> str:
    return f"/notes/{note.pk}/sign/"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_it_shows_the_form_with_the_allowed_meanings_and_attestation(doctor, note):
    response = _client(doctor).get(_url(note))

    body = response.content.decode()
    assert response.status_code == 200
    assert '<option value="author" selected>Author</option>' in body and 'value="cosigner"' not in body
    assert 'id="attestation"' in body and "I am the author of this note." in body
    assert 'name="attest"' in body and 'name="password"' in body


def test_it_signs_and_shows_the_manifestation(doctor, note):
    client = _client(doctor)

    response = client.post(_url(note), {"password": PASSWORD, "meaning": "author", "attest": "on"})

    assert response.status_code == 302 and response["Location"] == f"/notes/{note.pk}/"
    assert ClinicalNote.objects.get(pk=note.pk).status == "signed"
    body = client.get(response["Location"]).content.decode()
    assert "Dana Doctor, MD" in body and "Electronically signed" in body


def test_it_needs_the_attestation(doctor, note):
    response = _client(doctor).post(_url(note), {"password": PASSWORD, "meaning": "author"})

    assert response.status_code == 400
    assert not Signature.objects.exists()


def test_it_shows_a_wrong_password_and_signs_nothing(doctor, note):
    response = _client(doctor).post(_url(note), {"password": "wrong", "meaning": "author", "attest": "on"})

    assert response.status_code == 400
    assert b"That password is not right, so nothing was signed." in response.content
    assert not Signature.objects.exists()
    assert note.events.filter(kind=NoteEvent.Kind.SIGNING_FAILED).exists()


def test_it_refuses_a_signer_who_is_not_the_author(supervisor, note):
    response = _client(supervisor).post(_url(note), {"password": PASSWORD, "meaning": "author", "attest": "on"})

    assert response.status_code == 403
    assert b"Only Dana Doctor, the note&#x27;s provider, can sign it" in response.content
    assert not Signature.objects.exists()


def test_it_tells_staff_they_cannot_sign(teammate_client, note):
    response = teammate_client.get(_url(note))

    assert response.status_code == 403
    assert b"You cannot sign this note now." in response.content


def test_it_lets_a_supervisor_co_sign(supervisor, signed_note):
    client = _client(supervisor)
    page = client.get(_url(signed_note)).content.decode()
    assert 'value="cosigner"' in page and 'value="author"' not in page

    response = client.post(_url(signed_note), {"password": PASSWORD, "meaning": "cosigner", "attest": "on"})

    assert response.status_code == 302
    assert signed_note.signatures.filter(signer=supervisor, meaning="cosigner").exists()


def test_it_swaps_the_attestation_for_htmx(doctor, signed_note, supervisor):
    response = _client(supervisor).get(_url(signed_note), {"meaning": "reviewer"}, **HX)

    body = response.content.decode()
    assert body.lstrip().startswith('<blockquote id="attestation"') and "I have reviewed this note." in body
    assert "<html" not in body


def test_it_hides_another_practices_note(outsider_client, note):
    assert outsider_client.get(_url(note)).status_code == 404


def test_it_refuses_put(owner_client, note):
    assert owner_client.put(_url(note)).status_code == 405


def test_it_sends_anonymous_users_to_sign_in(client, note):
    response = client.get(_url(note))

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
