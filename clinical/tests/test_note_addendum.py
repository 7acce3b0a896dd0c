from __future__ import annotations

import pytest
from django.test import Client

from billingpulse.tests.factories import PASSWORD
from clinical.models import Addendum

pytestmark = pytest.mark.django_db


def _url(note) -> str:
    return f"/notes/{note.pk}/addendum/"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_it_shows_the_form(owner_client, signed_note):
    response = owner_client.get(_url(signed_note))

    assert response.status_code == 200
    assert b'name="text"' in response.content and b'name="password"' in response.content


def test_it_adds_a_signed_addendum(doctor, signed_note):
    response = _client(doctor).post(_url(signed_note), {"text": "Culture negative.", "password": PASSWORD})

    assert response.status_code == 302 and response["Location"] == f"/notes/{signed_note.pk}/"
    addendum = Addendum.objects.get(note=signed_note)
    assert addendum.text == "Culture negative." and addendum.signature.signer == doctor


def test_it_needs_the_password(doctor, signed_note):
    response = _client(doctor).post(_url(signed_note), {"text": "Culture negative.", "password": ""})

    assert response.status_code == 400
    assert not Addendum.objects.exists()


def test_it_shows_a_wrong_password_and_adds_nothing(doctor, signed_note):
    response = _client(doctor).post(_url(signed_note), {"text": "Culture negative.", "password": "wrong"})

    assert response.status_code == 400
    assert b"That password is not right" in response.content
    assert not Addendum.objects.exists()


def test_it_refuses_an_unsigned_note(doctor, note):
    response = _client(doctor).post(_url(note), {"text": "Too early.", "password": PASSWORD})

    assert response.status_code == 400
    assert b"this one can still be edited" in response.content


def test_it_hides_another_practices_note(outsider_client, signed_note):
    assert outsider_client.get(_url(signed_note)).status_code == 404


def test_it_refuses_put(owner_client, signed_note):
    assert owner_client.put(_url(signed_note)).status_code == 405


def test_it_sends_anonymous_users_to_sign_in(client, signed_note):
    response = client.get(_url(signed_note))

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
