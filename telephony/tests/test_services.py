from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection, connections

from claims.models import ClaimEvent
from claims.tests.factories import ClaimFactory, PayerFactory
from telephony import services
from telephony.models import Call, CallEvent, ScheduledCall
from telephony.providers import AmbiguousProviderError, ProviderError
from telephony.status import FailureCategory
from telephony.tests.factories import CallFactory, ScheduledCallFactory
from telephony.tests.fake_provider import FakeProvider

# A Tuesday, 09:00 in Chicago (the factories' payer and practice time zone).
NOW = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)
DELAY = "telephony.tasks.place_call.delay"
APPLY_ASYNC = "telephony.tasks.place_call.apply_async"


@pytest.fixture(autouse=True)
def _tuesday_morning():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def payer(practice):
    return PayerFactory(practice=practice, name="Aetna")


@pytest.fixture
def claim(practice, payer):
    return ClaimFactory(practice=practice, payer=payer)


def _queued(claim, **fields) -> Call:
    fields.setdefault("status", Call.Status.QUEUED)
    return CallFactory(practice=claim.practice, claim=claim, provider_call_id=None, **fields)


def _ended(claim, category, attempt=1, **fields) -> Call:
    return CallFactory(
        practice=claim.practice,
        claim=claim,
        status=Call.Status.ENDED,
        failure_category=category,
        attempt=attempt,
        **fields,
    )


# Enqueue


@pytest.mark.django_db
def test_it_queues_one_call_per_claim_and_hands_the_ids_to_a_worker_after_commit(
    practice, owner, payer, settings, django_capture_on_commit_callbacks
):
    settings.TELEPHONY_PROVIDER = "sandbox"
    claims = [ClaimFactory(practice=practice, payer=payer) for _ in range(2)]

    with mock.patch(DELAY) as delay, django_capture_on_commit_callbacks(execute=True):
        result = services.enqueue_calls(practice, [c.pk for c in claims], owner)

    assert result.skipped == []
    assert [call.claim for call in result.queued] == claims
    for call in result.queued:
        assert (call.status, call.attempt, call.provider) == (Call.Status.QUEUED, 1, "sandbox")
        assert (call.payer, call.started_by, call.practice) == (payer, owner, practice)
    assert delay.call_args_list == [mock.call(call.pk) for call in result.queued]


@pytest.mark.django_db
def test_it_skips_a_claim_with_a_call_already_queued_or_in_progress(practice, owner, claim):
    in_progress = _queued(claim)
    Call.objects.filter(pk=in_progress.pk).update(status=Call.Status.IN_PROGRESS)

    with mock.patch(DELAY):
        result = services.enqueue_calls(practice, [claim.pk], owner)

    assert result.queued == []
    assert result.skipped == [(claim, services.ALREADY_ACTIVE)]


@pytest.mark.django_db
def test_it_relies_on_the_database_when_two_enqueues_race(practice, owner, claim):
    _queued(claim)

    # As if the other enqueue committed after this one looked for active calls.
    with mock.patch("telephony.services.ACTIVE", set()), mock.patch(DELAY):
        result = services.enqueue_calls(practice, [claim.pk], owner)

    assert result.skipped == [(claim, services.ALREADY_ACTIVE)]
    assert Call.objects.filter(claim=claim).count() == 1


@pytest.mark.django_db
def test_it_skips_a_claim_whose_payer_has_no_phone_number(practice, owner):
    claim = ClaimFactory(practice=practice, payer=PayerFactory(practice=practice, phone=""))

    result = services.enqueue_calls(practice, [claim.pk], owner)

    assert result.skipped == [(claim, "Add the payer's claims phone number first.")]
    assert not Call.objects.exists()


@pytest.mark.django_db
def test_it_ignores_claims_of_another_practice(practice, other_practice, owner):
    theirs = ClaimFactory(practice=other_practice)

    result = services.enqueue_calls(practice, [theirs.pk, 999999], owner)

    assert (result.queued, result.skipped) == ([], [])
    assert not Call.objects.exists()


@pytest.mark.django_db
def test_it_retries_a_claim_once_its_last_call_ended(practice, owner, claim):
    _ended(claim, "")

    with mock.patch(DELAY):
        result = services.enqueue_calls(practice, [claim.pk], owner)

    assert len(result.queued) == 1


# Place


@pytest.mark.django_db
def test_it_records_the_attempt_and_places_the_call(claim):
    call = _queued(claim)
    seen_before_sending = []
    provider = FakeProvider(on_start=lambda c: seen_before_sending.append(Call.objects.get(pk=c.pk).placed_at))

    result = services.place_call(call.pk, provider=provider)

    call.refresh_from_db()
    assert result.outcome == services.Placement.PLACED
    assert provider.started == [call.pk]
    assert seen_before_sending == [NOW]
    assert (call.status, call.provider_call_id, call.placed_at) == (Call.Status.DIALING, f"fake-{call.pk}", NOW)


@pytest.mark.django_db
def test_it_places_through_the_configured_provider(claim):
    call = _queued(claim, provider="sandbox")
    provider = FakeProvider()

    with mock.patch("telephony.services.get_provider", return_value=provider) as get_provider:
        services.place_call(call.pk)

    get_provider.assert_called_once_with("sandbox")
    assert provider.started == [call.pk]


@pytest.mark.django_db
def test_it_places_a_call_once_however_often_it_is_asked(claim):
    call = _queued(claim)
    provider = FakeProvider()

    services.place_call(call.pk, provider=provider)
    again = services.place_call(call.pk, provider=provider)

    assert again.outcome == services.Placement.SKIPPED
    assert provider.started == [call.pk]


@pytest.mark.django_db
def test_it_ignores_a_deleted_or_canceled_call(claim):
    canceled = _queued(claim, status=Call.Status.CANCELED)
    provider = FakeProvider()

    assert services.place_call(canceled.pk, provider=provider).outcome == services.Placement.SKIPPED
    assert services.place_call(999999, provider=provider).outcome == services.Placement.SKIPPED
    assert provider.started == []


@pytest.mark.django_db
def test_it_never_moves_a_call_back_when_the_platform_reported_first(claim):
    call = _queued(claim)

    def webhook_arrives(c):
        Call.objects.filter(pk=c.pk).update(status=Call.Status.RINGING)

    services.place_call(call.pk, provider=FakeProvider(on_start=webhook_arrives))

    call.refresh_from_db()
    assert (call.status, call.provider_call_id) == (Call.Status.RINGING, f"fake-{call.pk}")


@pytest.mark.django_db
def test_it_waits_for_the_payer_to_open(claim, django_capture_on_commit_callbacks):
    call = _queued(claim)
    provider = FakeProvider()
    opening = datetime(2026, 11, 17, 14, 0, tzinfo=UTC)

    with (
        time_machine.travel(opening - timedelta(minutes=20), tick=False),
        mock.patch(APPLY_ASYNC) as apply_async,
        django_capture_on_commit_callbacks(execute=True),
    ):
        result = services.place_call(call.pk, provider=provider)

    call.refresh_from_db()
    assert result.outcome == services.Placement.DEFERRED
    assert "closed" in result.message
    assert (call.status, call.not_before, call.placed_at) == (Call.Status.QUEUED, opening, None)
    apply_async.assert_called_once_with((call.pk,), eta=opening)
    assert provider.started == []


@pytest.mark.django_db
def test_it_leaves_a_wait_of_hours_to_the_sweep_not_the_broker(claim, django_capture_on_commit_callbacks):
    call = _queued(claim)
    saturday = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)

    with (
        time_machine.travel(saturday, tick=False),
        mock.patch(APPLY_ASYNC) as apply_async,
        mock.patch(DELAY) as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.place_call(call.pk, provider=FakeProvider())

    call.refresh_from_db()
    assert call.not_before == datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    apply_async.assert_not_called()
    delay.assert_not_called()


@pytest.mark.django_db
def test_it_defers_a_rate_limited_call_until_the_window_frees(
    practice, payer, settings, django_capture_on_commit_callbacks
):
    settings.REDIS_URL = ""
    settings.CALL_RATE_LIMIT, settings.CALL_RATE_WINDOW_SECONDS = 2, 300
    calls = [_queued(ClaimFactory(practice=practice, payer=payer)) for _ in range(5)]
    provider = FakeProvider()

    with mock.patch(APPLY_ASYNC) as apply_async, django_capture_on_commit_callbacks(execute=True):
        results = [services.place_call(call.pk, provider=provider) for call in calls]

    assert [r.outcome for r in results] == ["placed", "placed", "deferred", "deferred", "deferred"]
    # The waiting calls are spread over the windows to come, oldest first: two per window.
    window = timedelta(seconds=300)
    expected = [NOW + window, NOW + window, NOW + 2 * window]
    assert [Call.objects.get(pk=c.pk).not_before for c in calls[2:]] == expected
    assert apply_async.call_args_list == [mock.call((c.pk,), eta=at) for c, at in zip(calls[2:], expected, strict=True)]


@pytest.mark.django_db
def test_it_keeps_a_call_woken_early_waiting(claim):
    later = NOW + timedelta(minutes=10)
    call = _queued(claim, not_before=later)
    provider = FakeProvider()

    with mock.patch(APPLY_ASYNC):
        result = services.place_call(call.pk, provider=provider)

    assert result.outcome == services.Placement.DEFERRED
    assert provider.started == []
    assert Call.objects.get(pk=call.pk).not_before == later


@pytest.mark.django_db
def test_it_fails_a_call_the_platform_refused_and_retries_it_later(claim, django_capture_on_commit_callbacks):
    call = _queued(claim)

    with mock.patch(APPLY_ASYNC), django_capture_on_commit_callbacks(execute=True):
        result = services.place_call(call.pk, provider=FakeProvider(error=ProviderError("402 out of credits")))

    call.refresh_from_db()
    assert result.outcome == services.Placement.FAILED
    assert (call.status, call.failure_category) == (Call.Status.FAILED, FailureCategory.PROVIDER_ERROR)
    assert call.last_error == "402 out of credits"
    retry = Call.objects.get(claim=call.claim, attempt=2)
    assert retry.status == Call.Status.QUEUED
    assert timedelta(minutes=12) <= retry.not_before - NOW <= timedelta(minutes=18)


@pytest.mark.django_db
def test_it_never_resends_after_an_ambiguous_failure(claim):
    """A timeout may have placed the call: leave it for the reconciler (placed_at set, no provider id)."""
    call = _queued(claim)
    provider = FakeProvider(error=AmbiguousProviderError("read timeout"))

    result = services.place_call(call.pk, provider=provider)
    services.place_call(call.pk, provider=provider)

    call.refresh_from_db()
    assert result.outcome == services.Placement.UNKNOWN
    assert provider.started == [call.pk]
    assert (call.status, call.placed_at, call.provider_call_id) == (Call.Status.QUEUED, NOW, None)
    assert "read timeout" in call.last_error
    assert Call.objects.filter(claim=claim).count() == 1


@pytest.mark.django_db
def test_it_treats_an_unexpected_error_while_placing_as_ambiguous(claim):
    call = _queued(claim)

    result = services.place_call(call.pk, provider=FakeProvider(error=KeyError("id")))

    call.refresh_from_db()
    assert result.outcome == services.Placement.UNKNOWN
    assert (call.status, call.placed_at) == (Call.Status.QUEUED, NOW)


@pytest.mark.django_db
def test_it_wakes_calls_whose_wake_up_was_lost(practice, payer):
    def claim():
        return ClaimFactory(practice=practice, payer=payer)

    lost = _queued(claim(), not_before=NOW - timedelta(minutes=5))
    never_woken = _queued(claim())
    Call.objects.filter(pk=never_woken.pk).update(created_at=NOW - timedelta(minutes=5))
    _queued(claim(), not_before=NOW - timedelta(seconds=10))  # its wake-up is due about now
    _queued(claim())  # just queued
    _queued(claim(), not_before=NOW + timedelta(hours=1))
    _queued(claim(), not_before=NOW - timedelta(minutes=5), placed_at=NOW - timedelta(minutes=4))
    CallFactory(practice=practice, status=Call.Status.ENDED)

    with mock.patch(DELAY) as delay:
        woken = services.place_deferred_calls()

    assert woken == 2
    assert sorted(c.args for c in delay.call_args_list) == sorted([(lost.pk,), (never_woken.pk,)])


# Failure policy


@pytest.mark.django_db
def test_it_does_nothing_after_a_successful_call(claim):
    call = _ended(claim, "")

    decision = services.handle_call_end(call.pk)

    assert decision.action == "none"
    assert Call.objects.count() == 1


@pytest.mark.django_db
def test_it_does_nothing_before_the_call_ends(claim):
    call = _queued(claim, failure_category=FailureCategory.NO_ANSWER)

    assert services.handle_call_end(call.pk).action == "none"
    assert services.handle_call_end(999999).action == "none"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "category",
    [
        FailureCategory.NO_ANSWER,
        FailureCategory.PROVIDER_ERROR,
        FailureCategory.HOLD_TOO_LONG,
        FailureCategory.IVR_FAILURE,
    ],
)
def test_it_retries_a_failed_call_with_backoff(claim, owner, category, django_capture_on_commit_callbacks):
    call = _ended(claim, category, started_by=owner)

    with mock.patch(APPLY_ASYNC) as apply_async, django_capture_on_commit_callbacks(execute=True):
        decision = services.handle_call_end(call.pk)

    retry = decision.retry
    assert decision.action == "retry"
    assert (retry.status, retry.attempt, retry.started_by, retry.claim) == (Call.Status.QUEUED, 2, owner, claim)
    assert timedelta(minutes=12) <= retry.not_before - NOW <= timedelta(minutes=18)
    apply_async.assert_called_once_with((retry.pk,), eta=retry.not_before)


@pytest.mark.django_db
def test_it_doubles_the_wait_with_each_attempt(claim, settings):
    settings.CALL_MAX_ATTEMPTS = 5
    call = _ended(claim, FailureCategory.NO_ANSWER, attempt=3)

    with mock.patch(APPLY_ASYNC):
        retry = services.handle_call_end(call.pk).retry

    assert retry.attempt == 4
    assert timedelta(minutes=48) <= retry.not_before - NOW <= timedelta(minutes=72)


@pytest.mark.django_db
def test_it_moves_a_retry_into_business_hours(claim):
    call = _ended(claim, FailureCategory.NO_ANSWER)

    with time_machine.travel(datetime(2026, 11, 17, 22, 40, tzinfo=UTC), tick=False):  # 16:40 in Chicago
        retry = services.handle_call_end(call.pk).retry

    assert retry.not_before == datetime(2026, 11, 18, 14, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_it_applies_the_policy_once(claim):
    call = _ended(claim, FailureCategory.NO_ANSWER)

    with mock.patch(APPLY_ASYNC):
        first = services.handle_call_end(call.pk)
        second = services.handle_call_end(call.pk)

    assert (first.action, second.action) == ("retry", "none")
    assert Call.objects.filter(claim=claim, attempt=2).count() == 1
    assert CallEvent.objects.get(call=call).payload["retry_call_id"] == first.retry.pk


@pytest.mark.django_db
def test_it_retries_voicemail_once_and_then_asks_a_person(claim):
    first = _ended(claim, FailureCategory.VOICEMAIL)

    with mock.patch(APPLY_ASYNC):
        retry = services.handle_call_end(first.pk).retry
    Call.objects.filter(pk=retry.pk).update(status=Call.Status.ENDED, failure_category=FailureCategory.VOICEMAIL)
    decision = services.handle_call_end(retry.pk)

    assert retry.not_before == NOW + timedelta(hours=2)
    assert decision.action == "flag"
    assert "voicemail" in claim.events.get(kind=ClaimEvent.Kind.CALL).message


@pytest.mark.django_db
def test_it_stops_after_the_last_attempt_and_flags_the_claim_for_a_person(claim, settings):
    settings.CALL_MAX_ATTEMPTS = 3
    call = _ended(claim, FailureCategory.NO_ANSWER, attempt=3)

    with time_machine.travel(datetime(2026, 11, 18, 4, 0, tzinfo=UTC), tick=False):  # still the 17th in Chicago
        decision = services.handle_call_end(call.pk)

    claim.refresh_from_db()
    event = claim.events.get()
    assert decision.action == "flag"
    assert Call.objects.filter(claim=claim).count() == 1
    assert claim.next_follow_up_date == date(2026, 11, 17)
    assert (event.kind, event.source) == (ClaimEvent.Kind.CALL, "call")
    assert event.message == (
        "Stopped calling Aetna after 3 attempts; the last one ended with: no answer or busy. "
        "A person should call the payer."
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("category", "words"),
    [(FailureCategory.PAYER_REFUSED, "would not give"), (FailureCategory.OUR_ERROR, "error on our side")],
)
def test_it_asks_a_person_at_once_when_calling_again_would_not_help(claim, category, words):
    call = _ended(claim, category)

    decision = services.handle_call_end(call.pk)

    claim.refresh_from_db()
    assert decision.action == "flag"
    assert words in claim.events.get().message
    assert claim.next_follow_up_date == date(2026, 11, 17)
    assert Call.objects.filter(claim=claim).count() == 1


@pytest.mark.django_db
def test_it_does_not_retry_when_another_call_is_already_queued(claim):
    call = _ended(claim, FailureCategory.NO_ANSWER)
    _queued(claim)

    decision = services.handle_call_end(call.pk)

    assert decision.action == "none"
    assert Call.objects.filter(claim=claim, attempt=2).count() == 0


# Follow-ups


@pytest.mark.django_db
def test_it_schedules_a_follow_up_replacing_the_pending_one(claim, owner):
    earlier = ScheduledCallFactory(practice=claim.practice, claim=claim)
    done = ScheduledCallFactory(practice=claim.practice, claim=claim, status=ScheduledCall.Status.DISPATCHED)
    call_after = datetime(2026, 11, 24, 16, 30, tzinfo=UTC)

    scheduled = services.schedule_follow_up(claim, call_after, "  Payer reprocessing  ", user=owner)

    earlier.refresh_from_db()
    done.refresh_from_db()
    assert (scheduled.status, scheduled.call_after, scheduled.reason) == ("pending", call_after, "Payer reprocessing")
    assert (scheduled.source, scheduled.created_by, scheduled.practice) == ("person", owner, claim.practice)
    assert (earlier.status, done.status) == ("canceled", "dispatched")
    assert claim.events.get().message == "Follow-up call scheduled for Nov 24, 2026 10:30 AM CST: Payer reprocessing"


@pytest.mark.django_db
def test_it_cancels_a_pending_follow_up(claim, owner):
    scheduled = ScheduledCallFactory(practice=claim.practice, claim=claim)

    services.cancel_scheduled_call(scheduled, owner)
    services.cancel_scheduled_call(scheduled, owner)

    assert scheduled.status == "canceled"
    assert claim.events.count() == 1


@pytest.mark.django_db
def test_it_refuses_to_cancel_a_dispatched_follow_up(claim):
    scheduled = ScheduledCallFactory(practice=claim.practice, claim=claim, status=ScheduledCall.Status.DISPATCHED)

    with pytest.raises(ValidationError, match="already in the call queue"):
        services.cancel_scheduled_call(scheduled)


@pytest.mark.django_db
def test_it_dispatches_due_follow_ups_exactly_once(practice, payer, owner, django_capture_on_commit_callbacks):
    due = ScheduledCallFactory(
        practice=practice, claim=ClaimFactory(practice=practice, payer=payer), call_after=NOW, created_by=owner
    )
    later = ScheduledCallFactory(practice=practice, call_after=NOW + timedelta(minutes=1))
    canceled = ScheduledCallFactory(practice=practice, call_after=NOW, status=ScheduledCall.Status.CANCELED)

    with mock.patch(DELAY) as delay, django_capture_on_commit_callbacks(execute=True):
        first = services.dispatch_due_followups()
        second = services.dispatch_due_followups()

    call = Call.objects.get()
    due.refresh_from_db()
    assert (first, second) == (1, 0)
    assert (due.status, due.dispatched_at) == ("dispatched", NOW)
    assert (call.claim, call.scheduled_call, call.started_by) == (due.claim, due, owner)
    delay.assert_called_once_with(call.pk)
    assert ScheduledCall.objects.get(pk=later.pk).status == "pending"
    assert ScheduledCall.objects.get(pk=canceled.pk).status == "canceled"


@pytest.mark.django_db
def test_it_notes_on_the_claim_a_follow_up_that_could_not_be_queued(practice):
    claim = ClaimFactory(practice=practice, payer=PayerFactory(practice=practice, phone=""))
    scheduled = ScheduledCallFactory(practice=practice, claim=claim, call_after=NOW)

    assert services.dispatch_due_followups() == 1

    assert ScheduledCall.objects.get(pk=scheduled.pk).status == "dispatched"
    assert claim.events.get().message == (
        "The follow-up call was not placed: Add the payer's claims phone number first."
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="Concurrent dispatchers need PostgreSQL's row locks.")
@pytest.mark.django_db(transaction=True)
def test_it_dispatches_once_with_two_dispatchers_at_the_same_time(practice, payer):
    for _ in range(20):
        ScheduledCallFactory(practice=practice, claim=ClaimFactory(practice=practice, payer=payer), call_after=NOW)
    counts: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def dispatcher():
        try:
            start.wait()
            counts.append(services.dispatch_due_followups(now=NOW))
        except BaseException as error:  # surfaced below; a thread cannot fail the test itself
            errors.append(error)
        finally:
            connections.close_all()

    with mock.patch(DELAY):
        threads = [threading.Thread(target=dispatcher) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    assert errors == []
    assert sum(counts) == 20
    assert Call.objects.count() == 20
    assert set(Call.objects.values_list("scheduled_call", flat=True)) == set(
        ScheduledCall.objects.values_list("pk", flat=True)
    )
    assert not ScheduledCall.objects.filter(status="pending").exists()
