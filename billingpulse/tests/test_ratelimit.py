"""billingpulse.lib.ratelimit: attempt limits kept in the shared cache (Redis, or the database table)."""

from __future__ import annotations

import threading

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection, connections
from django.test import RequestFactory

from billingpulse.lib import ratelimit
from billingpulse.lib.ratelimit import Rate

pytestmark = pytest.mark.django_db

THREE_A_MINUTE = Rate("test", limit=3, window=60)


def test_it_allows_the_limit_then_refuses_and_says_when_to_come_back():
    with time_machine.travel(1_900_000_000, tick=False):
        verdicts = [ratelimit.hit(THREE_A_MINUTE, "k") for _ in range(3)]
    with time_machine.travel(1_900_000_020, tick=False):
        refused = ratelimit.hit(THREE_A_MINUTE, "k")

    assert all(verdict.allowed for verdict in verdicts)
    assert (refused.allowed, refused.retry_after, refused.retry_after_minutes) == (False, 40, 1)


def test_it_counts_each_key_apart():
    for _ in range(3):
        ratelimit.hit(THREE_A_MINUTE, "k")

    assert ratelimit.hit(THREE_A_MINUTE, "other").allowed
    assert not ratelimit.hit(Rate("test", limit=3, window=60), "k").allowed
    assert ratelimit.hit(Rate("another-scope", limit=3, window=60), "k").allowed


def test_it_checks_without_counting_and_forgets_on_reset():
    for _ in range(2):
        ratelimit.hit(THREE_A_MINUTE, "k")

    assert ratelimit.check(THREE_A_MINUTE, "k").allowed
    assert ratelimit.check(THREE_A_MINUTE, "k").allowed
    ratelimit.hit(THREE_A_MINUTE, "k")
    assert not ratelimit.check(THREE_A_MINUTE, "k").allowed

    ratelimit.reset(THREE_A_MINUTE, "k")

    assert ratelimit.check(THREE_A_MINUTE, "k").allowed


def test_it_never_keeps_the_key_as_text():
    ratelimit.hit(THREE_A_MINUTE, "dana@example.com")

    keys = ratelimit._slot_keys(THREE_A_MINUTE, "dana@example.com")
    assert cache.get(keys[0]) is not None
    assert all("dana" not in key for key in keys)


def test_it_takes_the_client_address_from_the_connection_not_a_header():
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="198.51.100.1")

    assert ratelimit.client_ip(request) == "203.0.113.7"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="Concurrent writers need PostgreSQL (or Redis).")
@pytest.mark.django_db(transaction=True)
def test_it_lets_exactly_the_limit_through_when_attempts_come_at_once():
    rate = Rate("test-at-once", limit=3, window=60)
    start = threading.Barrier(10)
    verdicts: list[bool] = []

    def attempt() -> None:
        try:
            start.wait(timeout=30)
            verdicts.append(ratelimit.hit(rate, "k").allowed)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(verdicts) == [False] * 7 + [True] * 3
    ratelimit.reset(rate, "k")
