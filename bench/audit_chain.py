"""Benchmark: audit entries written by concurrent writers of one practice, chained and unchained.

    .venv/bin/python bench/audit_chain.py [--writers 4] [--seconds 10] [--hold-ms 20]

Each writer is a process with its own PostgreSQL connection that calls ``audit.record`` in a loop
for the same practice (the worst case: one chain, one chain head row). Scenarios, each run for the
same time, in the same run:

* **unchained**: entries written, chaining switched off (the baseline); the chaining of the
  backlog afterwards is timed on its own;
* **chained**: as the app runs: each entry is chained right after its commit (a short
  transaction that locks the practice's chain head);
* **in transactions, unchained / chained**: each entry is written inside a transaction that stays
  open ``--hold-ms`` longer (a service doing the rest of its work), to show that the chain head's
  lock is not held for the writer's transaction;
* **head locked for the whole transaction** (the design avoided): chaining inside the writer's
  transaction, so the lock is held until it commits.

"Head lock" is the time spent in the chain head's ``SELECT … FOR UPDATE``, measured around each
such statement. After a commit the app asks with ``SKIP LOCKED`` (a writer that finds the head taken
leaves its entry to be chained next), so there it is the statement's own time on a busy machine,
not waiting; in the last scenario it is waiting for other writers' transactions. Figures go to ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from audit_benchlib import close_database, open_database  # noqa: E402
from benchlib import machine_lines, say, setup_django, table, write_section  # noqa: E402

SCENARIOS = [
    # (key, label, chaining, hold the transaction open, chain inside the transaction)
    ("unchained", "Unchained (baseline)", False, False, False),
    ("chained", "Chained after each commit (as the app runs)", True, False, False),
    ("tx-unchained", "In {hold} ms transactions, unchained", False, True, False),
    ("tx-chained", "In {hold} ms transactions, chained after commit", True, True, False),
    ("tx-locked", "In {hold} ms transactions, head locked until commit (avoided)", False, True, True),
]


def _writer(args: tuple) -> dict:
    practice_id, seconds, hold, chaining, in_transaction, chain_inside, start_at = args
    from django.db import connection, transaction

    from audit import chain
    from audit.services import record

    if not chaining:
        chain.seal_after_commit = lambda practice_id: None
    waits: list[float] = []

    def timed(execute, sql, params, many, context):
        if "FOR UPDATE" in sql and "audit_auditchain" in sql:
            began = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                waits.append(time.perf_counter() - began)
        return execute(sql, params, many, context)

    count = 0
    with connection.execute_wrapper(timed):
        connection.ensure_connection()
        time.sleep(max(0.0, start_at - time.time()))
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            if in_transaction:
                with transaction.atomic():
                    record("viewed", practice=practice_id, actor=None, resource_type="claim", resource_id=count)
                    if chain_inside:
                        chain.seal(practice_id)
                    time.sleep(hold)
            else:
                record("viewed", practice=practice_id, actor=None, resource_type="claim", resource_id=count)
            count += 1
    connection.close()
    return {"count": count, "waits": waits}


def run(scenario: tuple, practice_id: int, writers: int, seconds: float, hold: float) -> dict:
    from django.db import connections

    _key, _label, chaining, in_transaction, chain_inside = scenario
    connections.close_all()  # each forked writer opens its own connection
    start_at = time.time() + 1.0
    job = (practice_id, seconds, hold, chaining, in_transaction, chain_inside, start_at)
    with multiprocessing.get_context("fork").Pool(writers) as pool:
        results = pool.map(_writer, [job] * writers)
    waits = [wait for result in results for wait in result["waits"]]
    entries = sum(result["count"] for result in results)
    return {
        "entries": entries,
        "rate": entries / seconds,
        "wait_mean": statistics.fmean(waits) if waits else 0.0,
        "wait_p95": statistics.quantiles(waits, n=20)[-1] if len(waits) >= 20 else max(waits, default=0.0),
        "wait_share": sum(waits) / (writers * seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--hold-ms", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--no-results", action="store_true", help="print only; leave RESULTS.md alone")
    options = parser.parse_args()
    hold = options.hold_ms / 1000

    database, drop = open_database(keep=options.keep)
    setup_django(database.url)
    from django.db import connection

    from audit import chain
    from audit.models import AuditEntry
    from billingpulse.models import Practice

    practice = Practice.objects.create(name="Audit benchmark clinic", time_zone="America/Chicago")
    rows, catch_up = [], None
    for scenario in SCENARIOS:
        label = scenario[1].format(hold=options.hold_ms)
        say(f"{label}: {options.writers} writers for {options.seconds:.0f} s …")
        result = run(scenario, practice.pk, options.writers, options.seconds, hold)
        if not scenario[2] and not scenario[4]:
            pending = AuditEntry.objects.filter(practice=practice, sequence__isnull=True).count()
            began = time.perf_counter()
            chain.seal(practice.pk)
            took = time.perf_counter() - began
            catch_up = catch_up or (pending, took)
        rows.append((scenario[0], label, result))
        say(f"  {result['rate']:,.0f} entries/s, head lock {result['wait_mean'] * 1000:.2f} ms mean")

    checked, fault = chain.verify(practice.pk)
    baseline = {key: result["rate"] for key, _label, result in rows}
    lines = machine_lines(_pg_version(connection))
    lines += [
        f"- Command: `.venv/bin/python bench/audit_chain.py --writers {options.writers} --seconds "
        f"{options.seconds:.0f} --hold-ms {options.hold_ms}`",
        f"- {options.writers} writer processes, one practice (one chain, one chain head row), each calling "
        "`audit.record` in a loop; head lock = time in the chain head's `SELECT … FOR UPDATE` (with `SKIP "
        "LOCKED` after a commit: no writer waits for another; in the last row, waiting for other transactions)",
        "",
    ]
    lines += table(
        ["Scenario", "Entries/s", "vs its unchained run", "Head lock, mean", "Head lock, p95", "Writers' time in it"],
        [
            (
                label,
                f"{result['rate']:,.0f}",
                f"{result['rate'] / baseline['tx-unchained' if key.startswith('tx') else 'unchained']:.2f}×",
                f"{result['wait_mean'] * 1000:.2f} ms" if result["wait_mean"] else "—",
                f"{result['wait_p95'] * 1000:.2f} ms" if result["wait_mean"] else "—",
                f"{result['wait_share'] * 100:.1f}%" if result["wait_mean"] else "—",
            )
            for key, label, result in rows
        ],
    )
    if catch_up:
        pending, took = catch_up
        lines += [
            "",
            f"Chaining the unchained run's {pending:,} entries afterwards took {took:.2f} s "
            f"({pending / took:,.0f} entries/s, one process).",
        ]
    lines += [
        "",
        f"Chain verified afterwards: {checked:,} entries, "
        + ("**holds**." if fault is None else f"**BROKEN** at {fault}."),
    ]
    say("\n".join(lines))
    if not options.no_results:
        write_section("audit_chain", "Audit trail: chaining under concurrent writers (H)", lines)
    close_database(database, drop)


def _pg_version(connection) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


if __name__ == "__main__":
    main()
