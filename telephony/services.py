"""The call queue: enqueue calls, place them at a safe pace, retry or flag failures, follow-ups.

The database is the queue's truth; Celery messages only wake it up. A call is ``queued``
until a worker marks it placed (``placed_at``, in ``pacing.claim_slot``) and sends it,
and every step is a conditional update, so a task delivered twice, two beat processes or
a worker killed halfway place nothing twice. A wake-up lost with a worker or a broker
restart is found again by ``place_deferred_calls``.

Placing is never retried blindly. Once ``placed_at`` is set the call may exist at the
platform: on an ambiguous failure (timeout) the call stays queued with ``placed_at`` and
no provider id, and the reconciler asks the platform (``provider.find_call``) before
anything else happens to it. ``fail_call`` + ``handle_call_end`` are the way to give up
on such an attempt and let the failure policy queue the next one.
"""

from __future__ import annotations

import functools
import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

import audit
from billingpulse.lib import unique
from billingpulse.lib.unique import Duplicate, unique_errors
from billingpulse.models import Practice, User
from claims.models import Claim, ClaimEvent
from claims.worklist import matching_claims
from inbox import services as inbox
from inbox.models import ActionItem
from telephony import pacing, tasks
from telephony.models import Call, CallEvent, ScheduledCall
from telephony.providers import AmbiguousProviderError, CallProvider, ProviderError, get_provider
from telephony.status import ACTIVE, CallStatus, FailureCategory

logger = logging.getLogger(__name__)

NO_PHONE = "Add the payer's claims phone number first."
ONE_ACTIVE_CALL = "one_active_call_per_claim"
ALREADY_ACTIVE = unique.message(Call, ONE_ACTIVE_CALL)
# Longer waits are not handed to the broker as a countdown (Redis would redeliver such a
# message every visibility timeout); the minute sweep, place_deferred_calls, wakes those calls.
MAX_ETA = timedelta(minutes=30)
# A queued call whose wake-up is this late was lost (worker killed, broker restarted).
SWEEP_GRACE = timedelta(seconds=60)
SWEEP_LIMIT = 1000
DISPATCH_BATCH = 200
# "Call all matching claims": one click queues at most this many calls (five days of calls at the
# default daily cap), ENQUEUE_CHUNK claims at a time.
MAX_CALLS_PER_CLICK = 1000
ENQUEUE_CHUNK = 200

# Failure policy (see handle_call_end).
RETRY_CATEGORIES = {
    FailureCategory.NO_ANSWER,
    FailureCategory.PROVIDER_ERROR,
    FailureCategory.HOLD_TOO_LONG,
    FailureCategory.IVR_FAILURE,
}
BACKOFF_BASE = timedelta(minutes=15)
VOICEMAIL_RETRY_AFTER = timedelta(hours=2)


# Enqueue


@dataclass
class EnqueueResult:
    queued: list[Call] = field(default_factory=list)
    skipped: list[tuple[Claim, str]] = field(default_factory=list)


@transaction.atomic
def enqueue_calls(
    practice: Practice,
    claim_ids: Iterable[int],
    user: User | None,
    *,
    scheduled_call: ScheduledCall | None = None,
    dispatch: bool = True,
) -> EnqueueResult:
    """Queue one call per claim of ``practice``; claims of other practices are ignored.

    A claim whose payer has no phone number, or with a call already queued or in
    progress, is skipped with the reason. Each queued call is handed to a worker after
    commit (``dispatch=False`` leaves that to the caller, as the ``place_call`` command does).
    """
    wanted = list(dict.fromkeys(claim_ids))
    claims = {
        claim.pk: claim for claim in Claim.objects.filter(practice=practice, pk__in=wanted).select_related("payer")
    }
    active = set(Call.objects.filter(claim_id__in=claims, status__in=ACTIVE).values_list("claim_id", flat=True))
    result = EnqueueResult()
    now = timezone.now()
    for claim in (claims[pk] for pk in wanted if pk in claims):
        if not claim.payer.phone:
            result.skipped.append((claim, NO_PHONE))
            continue
        if claim.pk in active:
            result.skipped.append((claim, ALREADY_ACTIVE))
            continue
        try:
            # The constraint one_active_call_per_claim settles a race with another enqueue.
            with unique_errors():
                call = Call.objects.create(
                    practice=practice,
                    claim=claim,
                    payer=claim.payer,
                    provider=settings.TELEPHONY_PROVIDER,
                    status=CallStatus.QUEUED,
                    status_changed_at=now,
                    attempt=1,
                    started_by=user,
                    scheduled_call=scheduled_call,
                )
        except Duplicate as duplicate:
            if duplicate.rule.name != ONE_ACTIVE_CALL:
                raise
            result.skipped.append((claim, ALREADY_ACTIVE))
            continue
        result.queued.append(call)
        if dispatch:
            transaction.on_commit(functools.partial(tasks.place_call.delay, call.pk))
    return result


def enqueue_matching_calls(practice: Practice, query: str, confirmed_count: int, user: User | None) -> EnqueueResult:
    """Queue a call for each claim the worklist at ``?query`` lists ("select all N matching claims").

    The biller confirmed ``confirmed_count`` claims; when that many no longer match, or more than
    one click may queue, nothing is queued (``ValidationError`` saying why). The claims are queued
    ``ENQUEUE_CHUNK`` at a time, each chunk in its own transaction with its calls dispatched when it
    commits; a run cut short can be repeated, as claims already being called are skipped.
    """
    claims = matching_claims(practice, query)  # the practice's claims only; bad filters raise
    count = claims.count()
    if count != confirmed_count:
        raise ValidationError(
            f"The matching claims changed since you selected them: {count:,} match now. "
            "Check the list and select again."
        )
    if count > MAX_CALLS_PER_CLICK:
        raise ValidationError(
            f"{count:,} claims match, and one click queues at most {MAX_CALLS_PER_CLICK:,} calls. "
            "Narrow the filters (a payer or a status) and call them in parts."
        )
    result = EnqueueResult()
    last_pk, done = 0, 0
    while done < count:
        # Never more claims than the biller confirmed, even if others start matching meanwhile.
        size = min(ENQUEUE_CHUNK, count - done)
        ids = list(claims.filter(pk__gt=last_pk).order_by("pk").values_list("pk", flat=True)[:size])
        if not ids:
            break
        chunk = enqueue_calls(practice, ids, user)
        result.queued += chunk.queued
        result.skipped += chunk.skipped
        last_pk, done = ids[-1], done + len(ids)
    return result


# Place


class Placement:
    PLACED = "placed"
    DEFERRED = "deferred"
    FAILED = "failed"
    UNKNOWN = "unknown"  # ambiguous: left for the reconciler
    SKIPPED = "skipped"  # not waiting to be placed (gone, placed, finished or taken by another worker)


@dataclass(frozen=True)
class PlaceResult:
    outcome: str
    message: str
    call: Call | None = None


def place_call(call_id: int, *, provider: CallProvider | None = None) -> PlaceResult:
    """Place a queued call now if its payer's hours and every limit allow, else defer it.

    Steps, in order: the call must still be queued and unplaced; it must not be early
    (``not_before``); the payer must be open; ``pacing.claim_slot`` then checks the caps and
    the payer's rate limit and records the attempt (``placed_at``) before anything is sent.
    """
    call = Call.objects.select_related("practice", "payer", "claim").filter(pk=call_id).first()
    if call is None:
        return PlaceResult(Placement.SKIPPED, f"Call {call_id} no longer exists.")
    if call.status != CallStatus.QUEUED or call.placed_at is not None:
        return PlaceResult(Placement.SKIPPED, f"Call {call.pk} is not waiting to be placed.", call)
    now = timezone.now()
    if call.not_before and call.not_before > now:
        # Woken early (a duplicate wake-up, or the sweep): keep to the time already set.
        return _defer(call, call.not_before, "", now)
    opening = pacing.next_opening(call.payer, now)
    if opening is None:
        return _defer(call, now + timedelta(days=1), "the payer has no business hours set", now)
    if opening > now:
        return _defer(call, opening, pacing.REASON_TEXT[pacing.Reason.CLOSED], now)
    slot = pacing.claim_slot(call)
    if not slot.granted:
        if slot.retry_at is None:
            return PlaceResult(Placement.SKIPPED, f"Call {call.pk} was taken by another worker.", call)
        retry_at = slot.retry_at
        if slot.reason == pacing.Reason.RATE_LIMIT:
            retry_at = _after_the_calls_ahead(call, retry_at)
        # The wait may run past closing time.
        retry_at = pacing.next_opening(call.payer, retry_at) or retry_at
        return _defer(call, retry_at, pacing.REASON_TEXT[slot.reason], now)
    return _send(call, provider or get_provider(call.provider))


def _after_the_calls_ahead(call: Call, free_at: datetime) -> datetime:
    """Spread the calls waiting for one payer over the windows to come, oldest first,
    instead of waking all of them each time a single slot frees up."""
    limit, window = pacing.rate_limit(call.payer)
    ahead = Call.objects.filter(
        payer_id=call.payer_id, status=CallStatus.QUEUED, placed_at__isnull=True, pk__lt=call.pk
    ).count()
    return free_at + timedelta(seconds=window * (ahead // limit))


def _defer(call: Call, until: datetime, reason: str, now: datetime) -> PlaceResult:
    deferred = Call.objects.filter(pk=call.pk, status=CallStatus.QUEUED, placed_at__isnull=True).update(
        not_before=until, updated_at=now
    )
    if not deferred:
        return PlaceResult(Placement.SKIPPED, f"Call {call.pk} is not waiting to be placed.", call)
    call.not_before = until
    _wake_at(call.pk, until, now)
    because = f" because {reason}" if reason else ""
    local = timezone.localtime(until, ZoneInfo(call.payer.time_zone))  # the payer's clock, as its hours are
    return PlaceResult(Placement.DEFERRED, f"Call {call.pk} waits until {local:%Y-%m-%d %H:%M:%S %Z}{because}.", call)


def _wake_at(call_id: int, when: datetime | None, now: datetime) -> None:
    """Hand the call to a worker at ``when`` (after commit); far-off times are left to the sweep."""
    if when is None or when <= now:
        transaction.on_commit(functools.partial(tasks.place_call.delay, call_id))
    elif when - now <= MAX_ETA:
        transaction.on_commit(functools.partial(tasks.place_call.apply_async, (call_id,), eta=when))


def _send(call: Call, provider: CallProvider) -> PlaceResult:
    """Send the call (its attempt is already recorded), then store the platform's id with it.

    No transaction is held open around the request (Vapi may take seconds to answer). The
    platform's first events can therefore arrive before the id is stored: ingestion finds
    the call by our id in the call's metadata and adopts the platform's id itself.
    """
    try:
        provider_call_id = provider.start_call(call)
        now = timezone.now()
        with transaction.atomic():
            Call.objects.filter(pk=call.pk, provider_call_id__isnull=True).update(
                provider_call_id=provider_call_id, updated_at=now
            )
            # The platform's first status update may have arrived already; never move the call back.
            Call.objects.filter(pk=call.pk, status=CallStatus.QUEUED).update(
                status=CallStatus.DIALING, status_changed_at=now
            )
    except AmbiguousProviderError as error:
        _note_error(call, f"Unknown whether the call was placed: {error}")
        logger.warning("Call %s: placing it had an unclear result; left for reconciliation", call.pk)
        return PlaceResult(
            Placement.UNKNOWN, f"Call {call.pk}: unknown whether it was placed ({error}); it will be reconciled.", call
        )
    except ProviderError as error:
        fail_call(call.pk, str(error))
        decision = handle_call_end(call.pk)
        return PlaceResult(Placement.FAILED, f"Call {call.pk} could not be placed: {error}. {decision.message}", call)
    except Exception as error:
        # A bug, or the database lost after the request went out: as unclear as a timeout.
        logger.exception("Call %s: unexpected error while placing it; left for reconciliation", call.pk)
        _note_error(call, f"Unexpected error while placing the call: {type(error).__name__}")
        return PlaceResult(Placement.UNKNOWN, f"Call {call.pk}: unexpected error; it will be reconciled.", call)
    audit.record("call_started", target=call, actor=call.started_by, detail=f"{call.provider} call {provider_call_id}")
    call.refresh_from_db()
    return PlaceResult(Placement.PLACED, f"Call {call.pk} placed ({call.provider} call {provider_call_id}).", call)


def _note_error(call: Call, message: str) -> None:
    Call.objects.filter(pk=call.pk).update(last_error=message[:2000], updated_at=timezone.now())


def fail_call(call_id: int, error: str, category: str = FailureCategory.PROVIDER_ERROR) -> bool:
    """Mark a call that never reached the platform as failed. False if it had already moved on."""
    now = timezone.now()
    failed = Call.objects.filter(pk=call_id, status=CallStatus.QUEUED).update(
        status=CallStatus.FAILED,
        status_changed_at=now,
        ended_at=now,
        failure_category=category,
        last_error=error[:2000],
        updated_at=now,
    )
    return failed == 1


def place_deferred_calls(now: datetime | None = None, grace: timedelta = SWEEP_GRACE) -> int:
    """Wake queued calls whose time has come but whose wake-up never ran; returns how many.

    Covers waits longer than ``MAX_ETA`` (woken up to ``grace`` plus a minute late) and
    wake-ups lost with a worker or the broker. A duplicate wake-up is harmless:
    ``place_call`` places a call once.
    """
    now = now or timezone.now()
    cutoff = now - grace
    due = (
        Call.objects.filter(status=CallStatus.QUEUED, placed_at__isnull=True)
        .filter(Q(not_before__lte=cutoff) | Q(not_before__isnull=True, created_at__lte=cutoff))
        .order_by("not_before", "pk")
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
    ids = list(due)
    for call_id in ids:
        tasks.place_call.delay(call_id)
    return len(ids)


# Failure policy


@dataclass(frozen=True)
class EndDecision:
    RETRY = "retry"
    FLAG = "flag"
    NONE = "none"

    action: str
    message: str
    retry: Call | None = None


def handle_call_end(call_id: int) -> EndDecision:
    """Apply the failure policy to a finished call, once (a second run changes nothing).

    By failure category: no answer/busy, platform error, hold too long and IVR failure are
    retried with exponential backoff (15 min × 2^(attempt-1), ±20 %, moved into business
    hours) up to ``CALL_MAX_ATTEMPTS`` attempts; voicemail is retried once, two hours later;
    payer refused, our error, an unknown category or no attempts left stop the calling and
    flag the claim for a person: a timeline entry saying what happened, and the claim's
    follow-up date set to today. A call without a failure category succeeded: nothing to do.
    """
    call = Call.objects.select_related("practice", "payer", "claim").filter(pk=call_id).first()
    if call is None or call.status not in (CallStatus.ENDED, CallStatus.FAILED):
        return EndDecision(EndDecision.NONE, "The call has not finished.")
    if call.failure_category in ("", FailureCategory.CANCELED):
        return EndDecision(EndDecision.NONE, "Nothing to retry.")
    action, delay, message = _policy(call)
    with transaction.atomic():
        try:
            # The decision is recorded on the call once; its unique key makes a second run a no-op.
            with unique_errors():
                record = CallEvent.objects.create(
                    call=call, kind="failure-policy", dedupe_key=f"{call.pk}:failure-policy"
                )
        except Duplicate as duplicate:
            if duplicate.rule.name != "dedupe_key":
                raise
            return EndDecision(EndDecision.NONE, "Already handled.")
        retry = None
        if action == EndDecision.RETRY:
            retry = _queue_retry(call, delay)
            if retry is None:
                message = "Not retried: another call about this claim is already queued or in progress."
                action = EndDecision.NONE
            else:
                message = f"Call {call.pk}: retry as call {retry.pk} from {retry.not_before:%Y-%m-%d %H:%M %Z}."
        else:
            flag_claim(call, message)
        record.payload = {"action": action, "message": message, "retry_call_id": retry.pk if retry else None}
        record.save(update_fields=["payload"])
    return EndDecision(action, message, retry)


def _policy(call: Call) -> tuple[str, timedelta, str]:
    """(action, delay before the retry, message for a person) for a finished call."""
    category = call.failure_category
    label = FailureCategory(category).label if category in FailureCategory.values else category
    payer = call.payer.name
    attempts_left = call.attempt < settings.CALL_MAX_ATTEMPTS
    if category == FailureCategory.PAYER_REFUSED:
        return (
            EndDecision.FLAG,
            timedelta(),
            f"{payer} would not give the claim's status to the automated caller. A person should call the payer.",
        )
    if category == FailureCategory.OUR_ERROR:
        return (
            EndDecision.FLAG,
            timedelta(),
            f"The call to {payer} failed because of an error on our side. A person should call the payer.",
        )
    if category == FailureCategory.VOICEMAIL:
        if attempts_left and not _voicemail_earlier(call):
            return EndDecision.RETRY, VOICEMAIL_RETRY_AFTER, ""
        return EndDecision.FLAG, timedelta(), f"Reached {payer}'s voicemail again. A person should call the payer."
    if category in RETRY_CATEGORIES and attempts_left:
        backoff = BACKOFF_BASE * 2 ** (call.attempt - 1) * random.uniform(0.8, 1.2)
        return EndDecision.RETRY, backoff, ""
    if category in RETRY_CATEGORIES:
        return (
            EndDecision.FLAG,
            timedelta(),
            f"Stopped calling {payer} after {call.attempt} attempts; the last one ended with: {label.lower()}. "
            "A person should call the payer.",
        )
    return (
        EndDecision.FLAG,
        timedelta(),
        f"The call to {payer} ended with: {label.lower()}. A person should call the payer.",
    )


def _voicemail_earlier(call: Call) -> bool:
    """Whether an earlier attempt of the same series (since the last attempt 1) reached voicemail."""
    series_start = (
        Call.objects.filter(claim_id=call.claim_id, attempt=1, pk__lte=call.pk)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    earlier = Call.objects.filter(claim_id=call.claim_id, pk__lt=call.pk, failure_category=FailureCategory.VOICEMAIL)
    if series_start is not None:
        earlier = earlier.filter(pk__gte=series_start)
    return earlier.exists()


def _queue_retry(call: Call, delay: timedelta) -> Call | None:
    now = timezone.now()
    not_before = pacing.next_opening(call.payer, now + delay) or now + delay
    try:
        with unique_errors():
            retry = Call.objects.create(
                practice_id=call.practice_id,
                claim_id=call.claim_id,
                payer_id=call.claim.payer_id,
                provider=settings.TELEPHONY_PROVIDER,
                status=CallStatus.QUEUED,
                status_changed_at=now,
                attempt=call.attempt + 1,
                started_by_id=call.started_by_id,
                scheduled_call_id=call.scheduled_call_id,
                not_before=not_before,
            )
    except Duplicate as duplicate:
        if duplicate.rule.name != ONE_ACTIVE_CALL:
            raise
        return None
    _wake_at(retry.pk, not_before, now)
    return retry


def flag_claim(call: Call, message: str, reason: str = ActionItem.Reason.CALL_FAILED) -> None:
    """Hand the claim to a person: a timeline entry, a follow-up date of today, and an item in
    the needs-action inbox (``reason``: the calls failed, or the payer needs something)."""
    today = call.practice.today()
    ClaimEvent.objects.create(claim_id=call.claim_id, kind=ClaimEvent.Kind.CALL, message=message, source="call")
    Claim.objects.filter(pk=call.claim_id).update(next_follow_up_date=today, updated_at=timezone.now())
    inbox.call_handed_to_person(call.claim, reason, message)


# Follow-up calls


@transaction.atomic
def schedule_follow_up(
    claim: Claim,
    call_after: datetime,
    reason: str = "",
    user: User | None = None,
    source: str = ScheduledCall.Source.PERSON,
) -> ScheduledCall:
    """Schedule the claim's next call, replacing (canceling) any follow-up still pending for it.

    The same follow-up again (same time and reason, still pending: a double submit, two tabs,
    a retried request) is not a new one: it is answered with the pending one, unchanged.
    """
    # Lock the claim, so two schedulers at once cannot leave two pending follow-ups.
    Claim.objects.select_for_update().filter(pk=claim.pk).values_list("pk").first()
    reason = reason.strip()[:300]
    pending = ScheduledCall.objects.filter(claim=claim, status=ScheduledCall.Status.PENDING)
    if same := pending.filter(call_after=call_after, reason=reason).first():
        return same
    cancel_pending_follow_ups(claim)
    scheduled = ScheduledCall.objects.create(
        practice_id=claim.practice_id,
        claim=claim,
        call_after=call_after,
        reason=reason,
        source=source,
        created_by=user,
    )
    local = timezone.localtime(call_after, ZoneInfo(claim.practice.time_zone))
    because = f": {scheduled.reason}" if scheduled.reason else "."
    ClaimEvent.objects.create(
        claim=claim,
        kind=ClaimEvent.Kind.CALL,
        message=f"Follow-up call scheduled for {local:%b %-d, %Y %-I:%M %p %Z}{because}",
        actor=user,
        source="user" if source == ScheduledCall.Source.PERSON else "call",
    )
    return scheduled


def cancel_pending_follow_ups(claim: Claim) -> int:
    """Cancel the claim's pending follow-ups (a new one replaces them, or none is needed); returns how many."""
    return ScheduledCall.objects.filter(claim=claim, status=ScheduledCall.Status.PENDING).update(
        status=ScheduledCall.Status.CANCELED, updated_at=timezone.now()
    )


def set_follow_up_cadence(practice: Practice, days_by_status: dict[str, int]) -> None:
    """Store the practice's intervals, keeping only those that differ from the defaults."""
    from telephony.pipeline import DEFAULT_CADENCE

    practice.follow_up_cadence = {
        status: int(days) for status, days in days_by_status.items() if DEFAULT_CADENCE.get(status) != days
    }
    practice.save(update_fields=["follow_up_cadence", "updated_at"])


@transaction.atomic
def cancel_scheduled_call(scheduled: ScheduledCall, user: User | None = None) -> ScheduledCall:
    """Cancel a pending follow-up. Canceling one already canceled is fine; a dispatched one is an error."""
    now = timezone.now()
    canceled = ScheduledCall.objects.filter(pk=scheduled.pk, status=ScheduledCall.Status.PENDING).update(
        status=ScheduledCall.Status.CANCELED, updated_at=now
    )
    scheduled.refresh_from_db()
    if canceled:
        ClaimEvent.objects.create(
            claim_id=scheduled.claim_id,
            kind=ClaimEvent.Kind.CALL,
            message=f"Follow-up call of {scheduled.call_after:%Y-%m-%d} canceled.",
            actor=user,
            source="user",
        )
    elif scheduled.status == ScheduledCall.Status.DISPATCHED:
        raise ValidationError("This follow-up call is already in the call queue; cancel the call instead.")
    return scheduled


def dispatch_due_followups(now: datetime | None = None) -> int:
    """Queue a call for every pending follow-up that is due, each exactly once; returns how many.

    Each follow-up is claimed with a conditional update (pending → dispatched) in its own
    transaction together with its call, so two beat processes, or this task running twice
    at once, dispatch it once; a failure rolls both back and the next run tries again.
    """
    now = now or timezone.now()
    dispatched = 0
    seen: set[int] = set()
    while True:
        due = list(
            ScheduledCall.objects.filter(status=ScheduledCall.Status.PENDING, call_after__lte=now)
            .exclude(pk__in=seen)
            .order_by("call_after", "pk")
            .values_list("pk", flat=True)[:DISPATCH_BATCH]
        )
        if not due:
            return dispatched
        seen.update(due)
        for scheduled_id in due:
            dispatched += _dispatch_one(scheduled_id, now)


@transaction.atomic
def _dispatch_one(scheduled_id: int, now: datetime) -> int:
    claimed = ScheduledCall.objects.filter(pk=scheduled_id, status=ScheduledCall.Status.PENDING).update(
        status=ScheduledCall.Status.DISPATCHED, dispatched_at=now, updated_at=now
    )
    if claimed != 1:
        return 0  # another dispatcher has it
    scheduled = ScheduledCall.objects.select_related("practice", "created_by").get(pk=scheduled_id)
    result = enqueue_calls(scheduled.practice, [scheduled.claim_id], scheduled.created_by, scheduled_call=scheduled)
    for claim, reason in result.skipped:
        ClaimEvent.objects.create(
            claim=claim,
            kind=ClaimEvent.Kind.CALL,
            message=f"The follow-up call was not placed: {reason}",
            source="system",
        )
    return 1
