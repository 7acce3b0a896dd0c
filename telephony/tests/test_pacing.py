from __future__ import annotations

import os
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine

from claims.tests.factories import ClaimFactory, PayerFactory
from telephony import pacing
from telephony.models import Call
from telephony.tests.factories import CallFactory

# 2026-11-17 is a Tuesday. Chicago is UTC-6 in November, New York UTC-5, Los Angeles UTC-8.
TUESDAY_9_CHICAGO = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)


def _payer(practice, **fields):
    fields.setdefault("time_zone", "America/Chicago")
    return PayerFactory(practice=practice, **fields)


def _queued(payer, **fields) -> Call:
    claim = ClaimFactory(practice=payer.practice, payer=payer)
    return CallFactory(practice=payer.practice, claim=claim, status=Call.Status.QUEUED, provider_call_id=None, **fields)


@pytest.fixture(params=["database", "redis"])
def backend(request, settings):
    """Run a test against each place the shared counters can live."""
    if request.param == "redis":
        url = os.environ.get("REDIS_URL")
        if not url:
            pytest.skip("Set REDIS_URL to test the Redis rate limiter.")
        settings.REDIS_URL = url
        client = pacing.redis_client(url)
        for key in client.scan_iter(f"{pacing.REDIS_PREFIX}:*"):
            client.delete(key)
    else:
        settings.REDIS_URL = ""
    return request.param


# Business hours


@pytest.mark.django_db
def test_it_is_open_inside_business_hours_in_the_payers_time_zone(practice):
    payer = _payer(practice)

    assert pacing.is_open(payer, TUESDAY_9_CHICAGO)
    assert pacing.next_opening(payer, TUESDAY_9_CHICAGO) == TUESDAY_9_CHICAGO


@pytest.mark.django_db
def test_it_waits_for_the_opening_of_the_same_day(practice):
    payer = _payer(practice)
    before_opening = datetime(2026, 11, 17, 13, 59, tzinfo=UTC)  # 07:59 in Chicago

    assert not pacing.is_open(payer, before_opening)
    assert pacing.next_opening(payer, before_opening) == datetime(2026, 11, 17, 14, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_it_starts_no_call_in_the_last_quarter_hour_before_closing(practice):
    payer = _payer(practice)
    at_4_50_pm = datetime(2026, 11, 17, 22, 50, tzinfo=UTC)

    assert pacing.is_open(payer, at_4_50_pm - timedelta(minutes=10))
    assert not pacing.is_open(payer, at_4_50_pm)
    assert pacing.next_opening(payer, at_4_50_pm) == datetime(2026, 11, 18, 14, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_it_skips_the_weekend(practice):
    payer = _payer(practice)
    friday_evening = datetime(2026, 11, 21, 0, 30, tzinfo=UTC)  # Friday 18:30 in Chicago
    saturday_noon = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)
    monday_8 = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)

    assert pacing.next_opening(payer, friday_evening) == monday_8
    assert pacing.next_opening(payer, saturday_noon) == monday_8


@pytest.mark.django_db
def test_it_opens_on_the_payers_own_weekdays(practice):
    payer = _payer(practice, open_weekdays="0123456")
    saturday_noon = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)

    assert pacing.is_open(payer, saturday_noon)


@pytest.mark.django_db
def test_it_reads_the_clock_in_each_payers_time_zone(practice):
    new_york = _payer(practice, time_zone="America/New_York")
    los_angeles = _payer(practice, time_zone="America/Los_Angeles")
    at = datetime(2026, 11, 17, 13, 30, tzinfo=UTC)  # 08:30 in New York, 05:30 in Los Angeles

    assert pacing.is_open(new_york, at)
    assert not pacing.is_open(los_angeles, at)
    assert pacing.next_opening(los_angeles, at) == datetime(2026, 11, 17, 16, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_it_follows_the_change_from_daylight_saving_time(practice):
    payer = _payer(practice)
    friday_evening = datetime(2026, 10, 30, 23, 0, tzinfo=UTC)  # 18:00 CDT; clocks go back on Sunday

    # 08:00 CST on Monday is 14:00 UTC, an hour later in UTC than the Friday opening was.
    assert pacing.next_opening(payer, friday_evening) == datetime(2026, 11, 2, 14, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_it_takes_a_line_that_closes_before_it_opens_to_run_past_midnight(practice):
    payer = _payer(practice, opens_at=time(22), closes_at=time(2), open_weekdays="0")
    monday_night = datetime(2026, 11, 17, 6, 0, tzinfo=UTC)  # Tuesday 00:00 in Chicago

    assert pacing.is_open(payer, monday_night)
    assert not pacing.is_open(payer, monday_night + timedelta(hours=2))


@pytest.mark.django_db
def test_it_takes_a_line_that_closes_when_it_opens_to_be_open_around_the_clock(practice):
    payer = _payer(practice, opens_at=time(0), closes_at=time(0), open_weekdays="0123456")
    start = datetime(2026, 11, 17, 5, 0, tzinfo=UTC)

    assert all(pacing.is_open(payer, start + timedelta(minutes=5 * n)) for n in range(24 * 12 * 2))


@pytest.mark.django_db
def test_it_has_no_opening_for_a_payer_never_open(practice):
    payer = _payer(practice, opens_at=time(9), closes_at=time(9, 10))  # shorter than the closing margin

    assert pacing.next_opening(payer, TUESDAY_9_CHICAGO) is None


# Limits


@pytest.mark.django_db
def test_it_uses_the_default_rate_limit_unless_the_payer_has_its_own(practice, settings):
    settings.CALL_RATE_LIMIT, settings.CALL_RATE_WINDOW_SECONDS = 2, 300

    assert pacing.rate_limit(_payer(practice)) == (2, 300)
    assert pacing.rate_limit(_payer(practice, max_calls_per_window=5, call_window_minutes=10)) == (5, 600)
    assert pacing.rate_limit(_payer(practice, max_calls_per_window=5)) == (2, 300)


@pytest.mark.django_db
def test_it_defers_a_call_over_the_rate_limit_and_allows_it_once_the_window_frees(practice, settings, backend):
    settings.CALL_RATE_LIMIT, settings.CALL_RATE_WINDOW_SECONDS = 2, 300
    payer = _payer(practice)
    first, second, third = (_queued(payer) for _ in range(3))

    with time_machine.travel(TUESDAY_9_CHICAGO, tick=False):
        assert pacing.claim_slot(first).granted
    with time_machine.travel(TUESDAY_9_CHICAGO + timedelta(seconds=30), tick=False):
        assert pacing.claim_slot(second).granted
        refused = pacing.claim_slot(third)

    assert not refused.granted
    assert refused.reason == pacing.Reason.RATE_LIMIT
    assert refused.retry_at == TUESDAY_9_CHICAGO + timedelta(seconds=300)
    with time_machine.travel(refused.retry_at - timedelta(seconds=1), tick=False):
        assert not pacing.claim_slot(third).granted
    with time_machine.travel(refused.retry_at, tick=False):
        assert pacing.claim_slot(third).granted
    third.refresh_from_db()
    assert third.placed_at == refused.retry_at


@pytest.mark.django_db
def test_it_keeps_each_payer_to_its_own_limit(practice, settings, backend):
    settings.CALL_RATE_LIMIT, settings.CALL_RATE_WINDOW_SECONDS = 2, 300
    strict = _payer(practice, max_calls_per_window=1, call_window_minutes=10)
    other = _payer(practice)

    with time_machine.travel(TUESDAY_9_CHICAGO, tick=False):
        assert pacing.claim_slot(_queued(strict)).granted
        refused = pacing.claim_slot(_queued(strict))
        assert pacing.claim_slot(_queued(other)).granted

    assert refused.retry_at == TUESDAY_9_CHICAGO + timedelta(minutes=10)


@pytest.mark.django_db
def test_it_marks_a_call_placed_for_one_worker_only(practice, backend):
    call = _queued(_payer(practice))
    stale_copy = Call.objects.select_related("practice", "payer").get(pk=call.pk)

    assert pacing.claim_slot(call).granted
    taken = pacing.claim_slot(stale_copy)

    assert taken == pacing.Slot(False)


@pytest.mark.django_db
def test_it_gives_the_slot_back_when_another_worker_took_the_call(practice, settings, backend):
    settings.CALL_RATE_LIMIT = 1
    payer = _payer(practice)
    taken = _queued(payer, placed_at=TUESDAY_9_CHICAGO - timedelta(days=1))
    waiting = _queued(payer)

    with time_machine.travel(TUESDAY_9_CHICAGO, tick=False):
        assert pacing.claim_slot(taken) == pacing.Slot(False)
        assert pacing.claim_slot(waiting).granted


@pytest.mark.django_db
def test_it_holds_calls_while_the_practice_is_at_its_concurrency_cap(practice, settings, backend):
    settings.PRACTICE_MAX_CONCURRENT_CALLS = 2
    payer = _payer(practice)
    CallFactory(practice=practice, status=Call.Status.IN_PROGRESS)
    _queued(payer, placed_at=TUESDAY_9_CHICAGO)  # sent, no answer from the platform yet
    CallFactory(practice=practice, status=Call.Status.ENDED)

    with time_machine.travel(TUESDAY_9_CHICAGO, tick=False):
        refused = pacing.claim_slot(_queued(payer))

    assert refused.reason == pacing.Reason.CONCURRENCY
    assert timedelta(seconds=60) <= refused.retry_at - TUESDAY_9_CHICAGO <= timedelta(seconds=75)


@pytest.mark.django_db
def test_it_holds_calls_until_tomorrow_at_the_daily_cap_of_the_practice(practice, settings, backend):
    settings.PRACTICE_DAILY_CALL_LIMIT = 2
    payer = _payer(practice)
    # Chicago's day began at 06:00 UTC; the call at 05:00 UTC was yesterday there.
    CallFactory(practice=practice, placed_at=datetime(2026, 11, 17, 5, 0, tzinfo=UTC))
    CallFactory(practice=practice, placed_at=datetime(2026, 11, 17, 6, 30, tzinfo=UTC))

    with time_machine.travel(TUESDAY_9_CHICAGO, tick=False):
        assert pacing.claim_slot(_queued(payer)).granted
        refused = pacing.claim_slot(_queued(payer))

    assert refused.reason == pacing.Reason.DAILY_LIMIT
    assert refused.retry_at == datetime(2026, 11, 18, 6, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_it_shows_when_a_payer_can_next_be_called(practice, settings, backend):
    settings.CALL_RATE_LIMIT, settings.CALL_RATE_WINDOW_SECONDS = 1, 300
    payer = _payer(practice)

    with time_machine.travel(TUESDAY_9_CHICAGO, tick=False):
        assert pacing.next_allowed_at(payer) == TUESDAY_9_CHICAGO
        assert pacing.claim_slot(_queued(payer)).granted
        assert pacing.next_allowed_at(payer) == TUESDAY_9_CHICAGO + timedelta(seconds=300)
    assert pacing.next_allowed_at(payer, datetime(2026, 11, 17, 23, 0, tzinfo=UTC)) == datetime(
        2026, 11, 18, 14, 0, tzinfo=UTC
    )
