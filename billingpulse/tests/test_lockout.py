"""Sign-in lockout (django-axes): failures lock the account, with a clear message, until the
cool-off ends or a practice admin unlocks it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from billingpulse.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

START = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)
LOCKED = "Too many failed sign-ins. Try again in 15 minutes or ask your practice admin."


def _sign_in(client: Client, email: str, password: str):
    return client.post("/accounts/login/", {"username": email, "password": password})


def _fail(client: Client, email: str, times: int) -> list[int]:
    return [_sign_in(client, email, "not-the-password").status_code for _ in range(times)]


@time_machine.travel(START, tick=False)
def test_it_locks_the_account_after_five_failures_with_a_clear_message(teammate):
    client = Client()

    assert _fail(client, teammate.email, 4) == [200, 200, 200, 200]
    response = _sign_in(client, teammate.email, "not-the-password")

    assert response.status_code == 429
    assert LOCKED in response.content.decode()


@time_machine.travel(START, tick=False)
def test_it_refuses_even_the_right_password_while_locked(teammate):
    client = Client()
    _fail(client, teammate.email, 5)

    response = _sign_in(client, teammate.email, PASSWORD)

    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert client.get("/").status_code == 302  # not signed in


def test_it_unlocks_after_the_cool_off(teammate):
    with time_machine.travel(START, tick=False) as traveller:
        client = Client()
        _fail(client, teammate.email, 5)
        traveller.shift(timedelta(minutes=14))
        assert _sign_in(client, teammate.email, PASSWORD).status_code == 429
        # The cool-off runs from the last failure, the refused try included.
        traveller.shift(timedelta(minutes=16))

        response = _sign_in(client, teammate.email, PASSWORD)

    assert response.status_code == 302
    assert response.url == "/"


@time_machine.travel(START, tick=False)
def test_it_counts_every_spelling_of_an_address_as_one_account(teammate):
    client = Client()
    spellings = [teammate.email.upper(), f" {teammate.email}", teammate.email.title(), teammate.email]
    for spelling in spellings:
        _sign_in(client, spelling, "not-the-password")

    response = _sign_in(client, teammate.email.upper(), "not-the-password")

    assert response.status_code == 429


@time_machine.travel(START, tick=False)
def test_it_lets_a_practice_admin_unlock_a_member(owner_client, teammate):
    client = Client()
    _fail(client, teammate.email, 5)
    page = owner_client.get("/settings/security/").content.decode()
    assert "Locked after failed sign-ins" in page

    response = owner_client.post(f"/settings/security/members/{teammate.pk}/unlock/", follow=True)

    assert f"{teammate.display_name} can sign in again." in response.content.decode()
    assert "Locked after failed sign-ins" not in response.content.decode()
    assert _sign_in(client, teammate.email, PASSWORD).status_code == 302


@time_machine.travel(START, tick=False)
def test_it_forgets_failures_after_a_successful_sign_in(teammate):
    client = Client()
    _fail(client, teammate.email, 4)
    assert _sign_in(client, teammate.email, PASSWORD).status_code == 302
    client.post("/accounts/logout/")

    assert _fail(client, teammate.email, 4) == [200, 200, 200, 200]


@time_machine.travel(START, tick=False)
def test_it_does_not_lock_the_account_from_another_address(teammate):
    # Locked per account and address: someone guessing elsewhere cannot keep its owner out.
    _fail(Client(REMOTE_ADDR="203.0.113.9"), teammate.email, 5)

    assert _sign_in(Client(REMOTE_ADDR="198.51.100.4"), teammate.email, PASSWORD).status_code == 302


def test_it_lets_only_admins_of_the_members_practice_unlock(teammate_client, outsider_client, owner):
    assert teammate_client.post(f"/settings/security/members/{owner.pk}/unlock/").status_code == 403
    assert outsider_client.post(f"/settings/security/members/{owner.pk}/unlock/").status_code == 404
