from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from claims.tests.factories import ClaimFactory, PayerFactory
from telephony.models import Call
from telephony.tests.factories import CallFactory

pytestmark = pytest.mark.django_db

URL = "/calls/queue/"
HTMX = {"HX-Request": "true"}
# Friday 10:00 in Chicago, where the payers' lines are (8:00–17:00, Monday to Friday).
NOW = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen(settings):
    settings.REDIS_URL = ""
    settings.CALL_RATE_LIMIT = 2
    settings.CALL_RATE_WINDOW_SECONDS = 300
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def aetna(practice):
    practice.time_zone = "America/Chicago"
    practice.save()
    return PayerFactory(practice=practice, name="Aetna", phone="+18005550142")


def _call(payer, status, **fields):
    claim = ClaimFactory(practice=payer.practice, payer=payer)
    return CallFactory(practice=payer.practice, claim=claim, status=status, **fields)


def test_it_shows_each_payers_queue(owner_client, aetna):
    _call(aetna, Call.Status.QUEUED)
    _call(aetna, Call.Status.QUEUED)
    _call(aetna, Call.Status.IN_PROGRESS, placed_at=NOW - timedelta(minutes=1))
    _call(aetna, Call.Status.ENDED, placed_at=NOW - timedelta(minutes=3))
    _call(aetna, Call.Status.ENDED, placed_at=NOW - timedelta(minutes=20))  # outside the window

    body = owner_client.get(URL).content.decode()

    row = body[body.index("Aetna") :]
    assert "Open" in row
    assert ">2<" in row  # waiting
    assert ">1<" in row  # on the line
    assert "2 of 2" in row and "per 5 min" in row
    # The limit is reached until the older of the two placements leaves the window: 10:02 Chicago time.
    assert "Fri Nov 20, 10:02 AM CST" in row
    assert "call limit reached" in row


def test_it_says_a_payer_with_room_can_take_a_call_now(owner_client, aetna):
    _call(aetna, Call.Status.ENDED, placed_at=NOW - timedelta(minutes=3))

    body = owner_client.get(URL).content.decode()

    assert "1 of 2" in body
    assert "Now" in body


def test_it_uses_a_payers_own_limit(owner_client, aetna):
    aetna.max_calls_per_window, aetna.call_window_minutes = 5, 10
    aetna.save()

    assert "0 of 5" in owner_client.get(URL).content.decode()


def test_it_says_when_a_closed_line_opens(owner_client, owner, aetna):
    with time_machine.travel(datetime(2026, 11, 20, 23, 30, tzinfo=UTC), tick=False):  # Friday 17:30 in Chicago
        owner_client.force_login(owner)  # hours after the module's clock: a session idle that long has ended
        body = owner_client.get(URL).content.decode()

    assert "Closed" in body
    assert "Mon Nov 23, 8:00 AM CST" in body
    assert "when the line opens" in body


def test_it_shows_the_practice_limits(owner_client, aetna, settings):
    settings.PRACTICE_MAX_CONCURRENT_CALLS = 5
    settings.PRACTICE_DAILY_CALL_LIMIT = 200
    _call(aetna, Call.Status.RINGING, placed_at=NOW - timedelta(minutes=1))

    body = owner_client.get(URL).content.decode()

    assert '1<span class="tile-of"> / 5</span>' in body
    assert "/ 200" in body


def test_it_shows_teammates_the_queue(teammate_client, aetna):
    assert b"Aetna" in teammate_client.get(URL).content


def test_it_hides_another_practices_payers(outsider_client, aetna):
    assert b"Aetna" not in outsider_client.get(URL).content


def test_it_only_answers_get(owner_client):
    assert owner_client.post(URL).status_code == 405


def test_it_redirects_anonymous_visitors_to_sign_in(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_it_polls_while_calls_are_active(owner_client, aetna):
    _call(aetna, Call.Status.QUEUED)

    response = owner_client.get(URL, headers=HTMX)

    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="queue-state"')
    assert "<html" not in body
    assert 'hx-trigger="every 5s"' in body


def test_it_stops_polling_when_no_call_is_active(owner_client, aetna):
    _call(aetna, Call.Status.ENDED, placed_at=NOW - timedelta(minutes=3))

    response = owner_client.get(URL, headers=HTMX)

    assert response.status_code == 286
    assert 'id="queue-state"' in response.content.decode()


def test_it_says_when_the_first_waiting_call_is_due(owner_client, aetna):
    _call(aetna, Call.Status.QUEUED, not_before=NOW + timedelta(minutes=10))

    assert "next 10:10 AM" in owner_client.get(URL).content.decode()


def test_it_reads_every_payers_window_in_the_same_few_queries(
    owner_client, practice, aetna, django_assert_max_num_queries
):
    def busy_payer(name):
        payer = PayerFactory(practice=practice, name=name, phone="+18005550143")
        _call(payer, Call.Status.QUEUED)
        _call(payer, Call.Status.ENDED, placed_at=NOW - timedelta(minutes=1))
        _call(payer, Call.Status.ENDED, placed_at=NOW - timedelta(minutes=2))

    busy_payer("Cigna")
    with CaptureQueriesContext(connection) as one_payer:
        owner_client.get(URL)
    for name in ("Humana", "Kaiser", "UnitedHealthcare", "Anthem"):
        busy_payer(name)

    with django_assert_max_num_queries(len(one_payer)):
        body = owner_client.get(URL).content.decode()

    assert body.count("2 of 2") == 5


def test_it_says_a_payer_open_around_the_clock_is_open_24_hours(owner_client, aetna):
    aetna.opens_at = aetna.closes_at = time(0, 0)
    aetna.save()

    body = owner_client.get(URL).content.decode()

    row = body[body.index("Aetna") :]
    assert "Open 24 hours" in row
    assert "12:00 AM" not in row
