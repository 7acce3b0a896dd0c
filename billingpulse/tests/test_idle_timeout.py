"""The idle timeout: signed out after SESSION_IDLE_TIMEOUT_MINUTES without activity, with the
reason on the sign-in page; requests a page makes by itself do not keep a session alive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

pytestmark = pytest.mark.django_db

START = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)
TIMED_OUT = "You were signed out after 30 minutes without activity. Sign in again to continue."
HTMX = {"HX-Request": "true", "HX-Current-URL": "http://testserver/calls/"}


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def client(clock, teammate) -> Client:
    client = Client()
    client.force_login(teammate)
    return client


def test_it_signs_out_after_thirty_idle_minutes_and_says_why(client, clock):
    assert client.get("/claims/").status_code == 200
    clock.shift(timedelta(minutes=31))

    response = client.get("/claims/", follow=True)

    assert response.redirect_chain[-1][0] == "/accounts/login/?next=/claims/"
    assert TIMED_OUT in response.content.decode()
    assert client.get("/claims/").status_code == 302  # the session is gone, not just hidden


def test_it_keeps_an_active_session(client, clock):
    for _ in range(4):
        clock.shift(timedelta(minutes=20))
        assert client.get("/claims/").status_code == 200


def test_it_counts_a_form_post_as_activity(client, clock):
    clock.shift(timedelta(minutes=25))
    client.post("/accounts/session/extend/")
    clock.shift(timedelta(minutes=25))

    assert client.get("/claims/").status_code == 200


def test_it_does_not_let_polling_keep_a_session_alive(client, clock):
    for _ in range(3):
        clock.shift(timedelta(minutes=9))
        assert client.get("/calls/", headers=HTMX).status_code in (200, 286)  # 286: nothing in flight
    clock.shift(timedelta(minutes=4))

    response = client.get("/calls/", headers=HTMX)

    # htmx moves the whole page to the sign-in page, not a fragment into a corner.
    assert response.headers["HX-Redirect"] == "/accounts/login/?next=%2Fcalls%2F"
    assert TIMED_OUT in client.get("/accounts/login/").content.decode()


def test_it_tells_the_page_how_long_is_left_without_counting_the_question(client, clock):
    clock.shift(timedelta(minutes=10))

    status = client.get("/accounts/session/").json()
    page = client.get("/claims/", headers=HTMX)

    assert status == {"signed_in": True, "expires_in": 20 * 60}
    assert page["X-Session-Expires-In"] == str(20 * 60)
    clock.shift(timedelta(minutes=21))
    assert client.get("/accounts/session/").json() == {"signed_in": False, "expires_in": 0}


def test_it_extends_the_session_when_the_person_says_stay(client, clock):
    clock.shift(timedelta(minutes=28))

    response = client.post("/accounts/session/extend/")

    assert response.json() == {"signed_in": True, "expires_in": 30 * 60}


def test_it_puts_the_warning_in_every_signed_in_page(client):
    body = client.get("/claims/").content.decode()

    assert 'id="session-timeout"' in body
    assert 'data-expires-in="1800"' in body
    assert 'data-warn-before="120"' in body
    assert "js/session.js" in body


def test_it_reads_the_timeout_from_settings(client, clock, settings):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 5
    clock.shift(timedelta(minutes=6))

    assert client.get("/claims/").status_code == 302


def test_it_leaves_api_tokens_alone(clock, teammate_api):
    assert teammate_api.get("/api/v1/claims").status_code == 200
    clock.shift(timedelta(hours=3))

    assert teammate_api.get("/api/v1/claims").status_code == 200


def test_it_answers_an_idle_session_on_the_api_as_signed_out(client, clock):
    assert client.get("/api/v1/claims").status_code == 200
    clock.shift(timedelta(minutes=31))

    assert client.get("/api/v1/claims").status_code in (401, 403)
