"""Benchmark: requests/s of a claim page with access logging on against off (goal ≥ 0.8×).

    .venv/bin/python bench/audit_access.py [--requests 300] [--rounds 5]

A signed-in biller requests one claim page (``/claims/<id>/``: its lines, calls and history)
through Django's test client, in rounds that alternate between the project's middleware as
configured (access logging on: every view writes an audit entry in one INSERT, chained with its
practice's next batch — see ``audit.chain.seal_in_batches``) and the
same middleware without ``audit.middleware.AuditMiddleware`` (off). Each round's rate is requests
divided by wall time; the reported figures are medians over the rounds, so a machine busy with
other work slows both sides alike. Runs on PostgreSQL; figures go to ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from audit_benchlib import close_database, open_database  # noqa: E402
from benchlib import machine_lines, say, setup_django, table, write_section  # noqa: E402

GOAL = 0.8
AUDIT_MIDDLEWARE = "audit.middleware.AuditMiddleware"


def make_claim():
    """A claim page with the usual things on it: lines, two calls with events, history."""
    from billingpulse.models import User
    from billingpulse.tests.factories import PracticeFactory, UserFactory
    from claims.tests.factories import ClaimEventFactory, ClaimFactory, ClaimLineFactory
    from telephony.tests.factories import CallEventFactory, CallFactory

    practice = PracticeFactory(name="Audit benchmark clinic")
    biller = UserFactory(practice=practice, role=User.Role.STAFF, email="biller@bench.example")
    claim = ClaimFactory(practice=practice)
    for number in range(1, 4):
        ClaimLineFactory(claim=claim, line_number=number)
    for _ in range(2):
        call = CallFactory(practice=practice, claim=claim)
        CallEventFactory(call=call)
    for _ in range(5):
        ClaimEventFactory(claim=claim)
    return biller, claim


def measure(user, url: str, requests: int, middleware: list[str]) -> float:
    """Requests per second with ``middleware``."""
    from django.test import Client
    from django.test.utils import override_settings

    with override_settings(MIDDLEWARE=middleware):
        client = Client(SERVER_NAME="localhost")  # loads the middleware now
        # django-axes's sign-in handler would compare force_login's address "unknown" with an
        # address column, which PostgreSQL refuses; lockout is not what is measured here.
        with override_settings(AXES_ENABLED=False):
            client.force_login(user)
        for _ in range(3):  # warm-up: templates, connection, caches
            assert client.get(url).status_code == 200
        began = time.perf_counter()
        for _ in range(requests):
            client.get(url)
        took = time.perf_counter() - began
    return requests / took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300, help="requests per round and side")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--no-results", action="store_true", help="print only; leave RESULTS.md alone")
    options = parser.parse_args()

    database, drop = open_database(keep=options.keep)
    setup_django(database.url)
    from django.conf import settings
    from django.db import connection

    from audit import chain
    from audit.models import AuditEntry

    biller, claim = make_claim()
    url = f"/claims/{claim.pk}/"
    on = list(settings.MIDDLEWARE)
    off = [name for name in on if name != AUDIT_MIDDLEWARE]
    assert len(off) == len(on) - 1, "the audit middleware is not configured"

    rates_on, rates_off = [], []
    for number in range(1, options.rounds + 1):
        # Alternate which side goes first, so neither always runs on a warmer machine.
        sides = [("off", off), ("on", on)] if number % 2 else [("on", on), ("off", off)]
        for side, middleware in sides:
            (rates_on if side == "on" else rates_off).append(measure(biller, url, options.requests, middleware))
        say(f"round {number}: on {rates_on[-1]:.1f}/s, off {rates_off[-1]:.1f}/s")

    on_rate, off_rate = statistics.median(rates_on), statistics.median(rates_off)
    ratio = on_rate / off_rate
    views = AuditEntry.objects.filter(action="viewed", resource_type="claim", resource_id=str(claim.pk)).count()
    unchained = AuditEntry.objects.filter(sequence__isnull=True).count()
    # As verify_audit_chain does: chain what the last batch left, then walk the whole chain.
    chain.seal(claim.practice_id)
    checked, fault = chain.verify(claim.practice_id)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]

    lines = machine_lines(version)
    lines += [
        f"- Command: `.venv/bin/python bench/audit_access.py --requests {options.requests} --rounds {options.rounds}`",
        f"- Page: `/claims/<id>/` (3 lines, 2 calls, 5 history entries) as a signed-in biller; "
        f"{options.requests} requests per side per round, {options.rounds} rounds alternating which side goes "
        "first; medians",
        "",
    ]
    lines += table(
        ["Access logging", "Requests/s", "Time per request"],
        [
            ("off (baseline)", f"{off_rate:.1f}", f"{1000 / off_rate:.1f} ms"),
            ("on", f"{on_rate:.1f}", f"{1000 / on_rate:.1f} ms"),
        ],
    )
    met = "met" if ratio >= GOAL else "NOT met"
    lines += [
        "",
        f"**Speed goal (with logging ≥ {GOAL}× the requests/s without): {met}** — {ratio:.2f}×.",
        "",
        f"The logged views: {views:,} entries for the claim, {unchained} still waiting for their batch "
        f"(chained every {chain.ACCESS_BATCH} entries, by any other entry, or by the minute sweep); "
        f"the practice's chain verified afterwards, those chained first ({checked:,} entries): "
        + ("holds." if fault is None else f"BROKEN at {fault}."),
    ]
    say("\n".join(lines))
    if not options.no_results:
        write_section("audit_access", "Audit trail: claim page with access logging on and off (H)", lines)
    close_database(database, drop)


if __name__ == "__main__":
    main()
