"""When a call may be placed: payer business hours, per-payer rate limits, practice caps.

``claim_slot`` is the one place a queued call becomes "placed" (``placed_at`` set). It
checks the practice's caps and the payer's rate limit and marks the call in one critical
section, so workers racing for the same payer or practice never overshoot:

* with ``REDIS_URL``: a Redis lock per practice around the caps, and a sliding-window
  counter per payer kept by a Lua script (atomic on its own);
* without Redis: a database transaction that first writes the practice's row (a row lock
  on PostgreSQL, the write lock on SQLite) and then counts the calls placed in the window.

Never a per-process counter: a worker only knows what Redis or the database tell it.
"""

from __future__ import annotations

import functools
import logging
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import redis
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from billingpulse.models import Practice
from claims.models import Payer
from telephony.models import Call
from telephony.status import CallStatus

logger = logging.getLogger(__name__)

# A call started just before the line closes would spend its hold time after hours.
LAST_CALL_BEFORE_CLOSING = timedelta(minutes=15)
# Nobody can say when an active call ends, so a practice at its concurrency cap looks again after this.
CONCURRENCY_RETRY = timedelta(seconds=60)
REDIS_PREFIX = "billingpulse:pacing"
# How long a practice's lock may be held before Redis frees it (a worker killed inside it).
LOCK_TIMEOUT_SECONDS = 30
LOCK_WAIT_SECONDS = 10
# Placed but without a final status yet: these hold a slot of the practice's concurrency cap.
IN_FLIGHT = Q(status__in=[CallStatus.DIALING, CallStatus.RINGING, CallStatus.IN_PROGRESS]) | Q(
    status=CallStatus.QUEUED, placed_at__isnull=False
)


class Reason:
    CLOSED = "closed"
    RATE_LIMIT = "rate_limit"
    CONCURRENCY = "concurrency"
    DAILY_LIMIT = "daily_limit"


REASON_TEXT = {
    Reason.CLOSED: "the payer's line is closed",
    Reason.RATE_LIMIT: "the payer's call limit is reached",
    Reason.CONCURRENCY: "the practice has its maximum of calls in progress",
    Reason.DAILY_LIMIT: "the practice reached its daily call limit",
}


@dataclass(frozen=True)
class Slot:
    """The answer of ``claim_slot``.

    ``granted``: the call is now marked placed (``placed_at``) and must be sent.
    Otherwise ``retry_at`` says when to try again and ``reason`` why; both are empty when
    the call was no longer waiting (another worker took it, or it was canceled).
    """

    granted: bool
    retry_at: datetime | None = None
    reason: str = ""


# Business hours


def business_intervals(payer: Payer, day: date) -> list[tuple[datetime, datetime]]:
    """The span of ``day`` (in the payer's time zone) during which a call may start, as aware datetimes.

    A line that "closes" before it opens (22:00–02:00) is taken to run past midnight; one
    that closes when it opens (00:00–00:00) is open around the clock, with no closing margin.
    """
    if str(day.weekday()) not in payer.open_weekdays:
        return []
    zone = ZoneInfo(payer.time_zone)
    opens = datetime.combine(day, payer.opens_at, tzinfo=zone)
    if payer.closes_at == payer.opens_at:
        return [(opens, datetime.combine(day + timedelta(days=1), payer.opens_at, tzinfo=zone))]
    closes_day = day if payer.closes_at > payer.opens_at else day + timedelta(days=1)
    last_start = datetime.combine(closes_day, payer.closes_at, tzinfo=zone) - LAST_CALL_BEFORE_CLOSING
    return [(opens, last_start)] if last_start > opens else []


def next_opening(payer: Payer, at: datetime) -> datetime | None:
    """``at`` itself when a call may start then, otherwise the next time one may; None if the payer is never open."""
    local_day = at.astimezone(ZoneInfo(payer.time_zone)).date()
    # From the day before (a line open past midnight) to a week ahead covers every weekday once.
    for offset in range(-1, 8):
        for opens, last_start in business_intervals(payer, local_day + timedelta(days=offset)):
            if opens <= at < last_start:
                return at
            if opens > at:
                return opens
    return None


def is_open(payer: Payer, at: datetime) -> bool:
    return next_opening(payer, at) == at


# Limits


def rate_limit(payer: Payer) -> tuple[int, int]:
    """(calls, window in seconds) for the payer: its own override when it has both numbers, else the default."""
    if payer.max_calls_per_window and payer.call_window_minutes:
        return payer.max_calls_per_window, payer.call_window_minutes * 60
    return settings.CALL_RATE_LIMIT, settings.CALL_RATE_WINDOW_SECONDS


def start_of_day(practice: Practice, at: datetime) -> datetime:
    zone = ZoneInfo(practice.time_zone)
    return datetime.combine(at.astimezone(zone).date(), time(), tzinfo=zone)


def _caps_wait(call: Call, now: datetime) -> Slot | None:
    """A refusal when the practice is at its concurrency or daily cap (a cap of 0 means none)."""
    practice_calls = Call.objects.filter(practice_id=call.practice_id)
    cap = settings.PRACTICE_MAX_CONCURRENT_CALLS
    if cap > 0 and practice_calls.filter(IN_FLIGHT).count() >= cap:
        # Jitter, so the waiting calls do not all come back in the same second.
        retry_at = now + CONCURRENCY_RETRY + timedelta(seconds=random.uniform(0, 15))
        return Slot(False, retry_at, Reason.CONCURRENCY)
    daily = settings.PRACTICE_DAILY_CALL_LIMIT
    today = start_of_day(call.practice, now)
    if daily > 0 and practice_calls.filter(placed_at__gte=today).count() >= daily:
        tomorrow = start_of_day(call.practice, today + timedelta(hours=36))
        return Slot(False, tomorrow, Reason.DAILY_LIMIT)
    return None


def _mark_placed(call: Call, now: datetime) -> bool:
    """Record the attempt before it is sent; only one worker ever gets True for a call."""
    marked = Call.objects.filter(pk=call.pk, status=CallStatus.QUEUED, placed_at__isnull=True).update(
        placed_at=now, updated_at=now
    )
    if marked:
        call.placed_at = now
    return marked == 1


def claim_slot(call: Call) -> Slot:
    """Take a slot for ``call`` under the caps and its payer's rate limit, marking it placed.

    ``call`` needs its ``practice`` and ``payer`` loaded. Raises ``redis.RedisError`` (or a
    database error) when the shared state cannot be reached: the caller retries later.
    """
    if settings.REDIS_URL:
        return _claim_slot_redis(call)
    return _claim_slot_database(call)


def _claim_slot_database(call: Call) -> Slot:
    with transaction.atomic():
        # A write, not select_for_update: PostgreSQL locks the practice's row until commit, and
        # SQLite (which ignores select_for_update) takes its write lock now, before we count.
        Practice.objects.filter(pk=call.practice_id).update(updated_at=F("updated_at"))
        now = timezone.now()
        if refused := _caps_wait(call, now):
            return refused
        limit, window = rate_limit(call.payer)
        recent = list(
            Call.objects.filter(payer_id=call.payer_id, placed_at__gt=now - timedelta(seconds=window))
            .order_by("placed_at")
            .values_list("placed_at", flat=True)
        )
        if len(recent) >= limit:
            # The window frees up when the call that would be one too many falls out of it.
            return Slot(False, recent[len(recent) - limit] + timedelta(seconds=window), Reason.RATE_LIMIT)
        return Slot(True) if _mark_placed(call, now) else Slot(False)


# A sliding window per payer: a sorted set of call ids scored by the time they were placed.
# Returns 0 when the call got a slot, -1 when it already had one, else milliseconds until one frees.
SLIDING_WINDOW = """
local key = KEYS[1]
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZSCORE', key, ARGV[4]) then
  return -1
end
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('PEXPIRE', key, window)
  return 0
end
local blocking = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
return math.max(1, tonumber(blocking[2]) + window - now)
"""


@functools.cache
def redis_client(url: str) -> redis.Redis:
    # One connection pool per process and URL; redis-py makes pools safe across fork.
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


@functools.cache
def _sliding_window(url: str):
    return redis_client(url).register_script(SLIDING_WINDOW)


def payer_key(payer_id: int) -> str:
    return f"{REDIS_PREFIX}:payer:{payer_id}"


def _claim_slot_redis(call: Call) -> Slot:
    client = redis_client(settings.REDIS_URL)
    lock = client.lock(
        f"{REDIS_PREFIX}:practice:{call.practice_id}", timeout=LOCK_TIMEOUT_SECONDS, blocking_timeout=LOCK_WAIT_SECONDS
    )
    if not lock.acquire():
        raise redis.exceptions.LockError(f"Practice {call.practice_id}'s pacing lock is busy.")
    try:
        now = timezone.now()
        if refused := _caps_wait(call, now):
            return refused
        limit, window = rate_limit(call.payer)
        key = payer_key(call.payer_id)
        now_ms = int(now.timestamp() * 1000)
        wait_ms = int(_sliding_window(settings.REDIS_URL)(keys=[key], args=[now_ms, window * 1000, limit, call.pk]))
        if wait_ms > 0:
            return Slot(False, now + timedelta(milliseconds=wait_ms), Reason.RATE_LIMIT)
        if _mark_placed(call, now):
            return Slot(True)
        if wait_ms == 0:
            client.zrem(key, call.pk)  # a slot taken just now for a call another worker had: give it back
        return Slot(False)
    finally:
        try:
            lock.release()
        except redis.exceptions.LockNotOwnedError:
            # Held past its timeout (a stalled database): the work is done and was consistent
            # as far as Redis knew; say so rather than fail a call that was already marked.
            logger.warning("Pacing lock of practice %s expired while held", call.practice_id)


def placements_in_window(payers: list[Payer], now: datetime) -> dict[int, list[datetime]]:
    """Each payer's placements (``placed_at``) within its own rate window, oldest first, in one query."""
    windows = {payer.pk: rate_limit(payer)[1] for payer in payers}
    placed: dict[int, list[datetime]] = {pk: [] for pk in windows}
    longest = max(windows.values(), default=0)
    rows = (
        Call.objects.filter(payer_id__in=windows, placed_at__gt=now - timedelta(seconds=longest))
        .order_by("placed_at")
        .values_list("payer_id", "placed_at")
    )
    for payer_id, placed_at in rows:
        if placed_at > now - timedelta(seconds=windows[payer_id]):
            placed[payer_id].append(placed_at)
    return placed


def next_allowed_at(payer: Payer, now: datetime | None = None, placed: list[datetime] | None = None) -> datetime | None:
    """When the payer's next call could start, as far as its hours and rate limit say (for display).

    ``placed``: the payer's placements in its window (``placements_in_window``), when the caller
    has read them already; without Redis they are what the limit counts, so no query is made.
    """
    now = now or timezone.now()
    limit, window = rate_limit(payer)
    if settings.REDIS_URL:
        client = redis_client(settings.REDIS_URL)
        since_ms = int((now - timedelta(seconds=window)).timestamp() * 1000)
        scores = [
            score
            for _member, score in client.zrangebyscore(payer_key(payer.pk), f"({since_ms}", "+inf", withscores=True)
        ]
        recent = [datetime.fromtimestamp(score / 1000, tz=UTC) for score in scores]
    elif placed is not None:
        recent = placed
    else:
        recent = placements_in_window([payer], now)[payer.pk]
    free_at = recent[len(recent) - limit] + timedelta(seconds=window) if len(recent) >= limit else now
    return next_opening(payer, free_at)
