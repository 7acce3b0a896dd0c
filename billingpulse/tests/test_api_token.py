from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token


@pytest.mark.django_db
def test_it_creates_a_token_and_shows_it_once(teammate_client, teammate):
    response = teammate_client.post("/settings/api-token/")

    token = Token.objects.get(user=teammate)
    assert token.key.encode() in response.content
    again = teammate_client.get("/settings/api-token/")
    assert token.key.encode() not in again.content
    assert b"You have a token" in again.content


@pytest.mark.django_db
def test_it_replaces_the_old_token(owner_client, owner):
    old = Token.objects.create(user=owner).key

    owner_client.post("/settings/api-token/")

    assert Token.objects.get(user=owner).key != old


@pytest.mark.django_db
def test_it_sends_anonymous_users_to_sign_in(client):
    assert client.post("/settings/api-token/")["Location"].startswith("/accounts/login/")
