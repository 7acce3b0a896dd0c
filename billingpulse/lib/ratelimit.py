"""Attempt limits shared by every process: at most N attempts per key in any window of T seconds.

The counts live in Django's cache, which is Redis when ``REDIS_URL`` is set and a database
table otherwise, so web processes and workers share them (never a per-process cache).

Each attempt takes one of the key's N slots, a cache entry that expires T seconds after
it was taken: a sliding window, no burst at a window's edge. A slot is taken with
``cache.add``, which is atomic on both backends (Redis ``SET NX``, the cache table's
primary key), so two requests at once cannot both take the last slot, as a read-then-write
counter would let them. Keys are hashed with the secret key: an email address never lands in the cache as text.

``hit`` records an attempt if one is allowed; ``check`` only looks (a limit on failures, such
as share-link guesses, asks before trying and records misses only); ``reset`` forgets a key's
attempts. Sign-ins are not limited here but by django-axes (billingpulse/security/lockout.py),
so no sign-in is counted twice.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpRequest
from django.utils.crypto import salted_hmac


@dataclass(frozen=True)
class Rate:
    """At most ``limit`` attempts per key in any ``window`` seconds, counted under ``scope``."""

    scope: str
    limit: int
    window: int


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # seconds until an attempt is allowed again; 0 when allowed

    @property
    def retry_after_minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))


def hit(rate: Rate, key: str) -> Verdict:
    """Record an attempt for ``key`` if the rate allows one; a refused attempt is not recorded."""
    keys = _slot_keys(rate, key)
    taken = cache.get_many(keys)
    now = time.time()
    for slot in keys:
        if slot not in taken and cache.add(slot, now, timeout=rate.window):
            return Verdict(True)
    # Every slot is taken (some perhaps just now, by a request racing this one).
    return _refused(rate, cache.get_many(keys), now)


def check(rate: Rate, key: str) -> Verdict:
    """Whether an attempt for ``key`` would be allowed now, without recording one."""
    taken = cache.get_many(_slot_keys(rate, key))
    if len(taken) < rate.limit:
        return Verdict(True)
    return _refused(rate, taken, time.time())


def reset(rate: Rate, key: str) -> None:
    cache.delete_many(_slot_keys(rate, key))


def client_ip(request: HttpRequest) -> str:
    """The address the request came from, as the server saw it.

    Forwarded-for headers are not trusted: any client can send one. The app is served by
    gunicorn directly (docker-compose.yml); behind a proxy every client would share the
    proxy's address, and this is the place to read the proxy's header instead.
    """
    return request.META.get("REMOTE_ADDR") or "unknown"


def _refused(rate: Rate, taken: dict[str, float], now: float) -> Verdict:
    if len(taken) < rate.limit:
        # A slot expired between the two looks: let the caller try again at once.
        return Verdict(False, 1)
    oldest = min(taken.values())
    return Verdict(False, max(1, math.ceil(oldest + rate.window - now)))


def _slot_keys(rate: Rate, key: str) -> list[str]:
    digest = salted_hmac("billingpulse.ratelimit", key).hexdigest()[:32]
    return [f"ratelimit:{rate.scope}:{digest}:{slot}" for slot in range(rate.limit)]
