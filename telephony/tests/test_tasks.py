from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
import time_machine
from django.db import OperationalError
from redis.exceptions import RedisError

from claims.tests.factories import ClaimFactory
from telephony import tasks
from telephony.models import Call, ScheduledCall
from telephony.tests.factories import CallFactory, ScheduledCallFactory
from telephony.tests.fake_provider import FakeProvider

NOW = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)  # a Tuesday, 09:00 in Chicago


@pytest.fixture(autouse=True)
def _tuesday_morning():
    with time_machine.travel(NOW, tick=False):
        yield


def _queued(practice, **fields) -> Call:
    claim = ClaimFactory(practice=practice)
    return CallFactory(practice=practice, claim=claim, status=Call.Status.QUEUED, provider_call_id=None, **fields)


@pytest.mark.django_db
def test_it_places_a_call(practice):
    call = _queued(practice)
    provider = FakeProvider()

    with mock.patch("telephony.services.get_provider", return_value=provider):
        tasks.place_call(call.pk)

    call.refresh_from_db()
    assert call.status == Call.Status.DIALING
    assert provider.started == [call.pk]


@pytest.mark.django_db
def test_it_tolerates_a_deleted_call():
    tasks.place_call(999999)


def test_it_retries_only_on_database_and_redis_errors_and_acks_late():
    for task in (tasks.place_call, tasks.dispatch_due_followups, tasks.place_deferred_calls):
        assert set(task.autoretry_for) >= {OperationalError, RedisError}
        assert task.retry_backoff and task.retry_jitter
    assert tasks.place_call.acks_late


@pytest.mark.django_db
def test_it_dispatches_due_follow_ups(practice):
    scheduled = ScheduledCallFactory(practice=practice, call_after=NOW - timedelta(minutes=1))

    with mock.patch("telephony.tasks.place_call.delay"):
        tasks.dispatch_due_followups()

    assert ScheduledCall.objects.get(pk=scheduled.pk).status == "dispatched"
    assert Call.objects.get().scheduled_call == scheduled


@pytest.mark.django_db
def test_it_wakes_deferred_calls_with_the_grace_it_is_given(practice):
    call = _queued(practice, not_before=NOW - timedelta(seconds=10))

    with mock.patch("telephony.tasks.place_call.delay") as delay:
        tasks.place_deferred_calls()
        delay.assert_not_called()
        tasks.place_deferred_calls(grace_seconds=5)

    delay.assert_called_once_with(call.pk)
