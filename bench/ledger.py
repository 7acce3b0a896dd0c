"""(E) Ledger postings on PostgreSQL: postings/s through the posting service against bare INSERTs.

    .venv/bin/python bench/ledger.py [--postings 2000] [--repeat 3] [--profile] [--no-results]

Each posting is an insurance payment on a claim: one transaction with two entries (cash debit,
receivable credit), the claim and the patient account updated, the claim's status moved.

* *Spread out*: every posting on a different claim (and patient), one ``post()`` call each, as
  a biller's clicks would be; also ``post_many`` in batches of 100.
* *One account*: every posting on the same claim, one ``post()`` call each.
* *Bare INSERTs (baseline)*: the same ledger rows (transaction + entries) with psycopg
  ``executemany`` in one database transaction, into another practice (so the service's books
  stay checkable). And *bare, one transaction per posting*: the same rows, each posting's
  INSERTs committed on their own, as one click would need.

The goal is the spread-out single-posting rate within 3× of the bare INSERTs' rate. At the
end ``verify()`` checks the service's books (and is timed). ``--profile`` prints the top
functions of a cProfile run of the spread-out single postings.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import (  # noqa: E402
    finish_database,
    machine_lines,
    median,
    prepare_database,
    psycopg_url,
    say,
    setup_django,
    table,
    write_section,
)

GOAL_RATIO = 3.0
BATCH = 100
AMOUNT = Decimal("1.00")


def build_claims(practice_name: str, count: int):
    """A practice with ``count`` claims, each its own patient, their charges posted (in batches)."""
    from billing.models import Account
    from billing.posting import Kind, Leg, Posting, Source, post_many
    from billingpulse.models import Patient, Practice
    from claims.models import Claim, Payer

    practice = Practice.objects.create(name=practice_name, time_zone="America/Chicago")
    payer = Payer.objects.create(practice=practice, name="Bench Health", payer_id="99999", time_zone="America/Chicago")
    patients = Patient.objects.bulk_create(
        Patient(
            practice=practice,
            first_name="Pat",
            last_name=f"Bench{n}",
            date_of_birth=date(1970, 1, 1),
            account_number=f"B-{n}",
        )
        for n in range(count)
    )
    claims = Claim.objects.bulk_create(
        Claim(
            practice=practice,
            patient=patient,
            payer=payer,
            claim_number=f"BENCH-{n:07d}",
            service_date_from=date(2026, 9, 1),
            total_charge=Decimal("0.00"),
            status="submitted",
        )
        for n, patient in enumerate(patients)
    )
    claims = list(Claim.objects.filter(practice=practice).select_related("patient", "practice").order_by("pk"))
    for start in range(0, len(claims), 500):
        post_many(
            practice,
            [
                Posting(
                    kind=Kind.CHARGE,
                    source=Source.OPENING,
                    legs=[Leg(Account.PRIMARY_AR, Decimal("100000.00")), Leg(Account.CHARGES, Decimal("-100000.00"))],
                    idempotency_key=f"charge:{claim.pk}",
                    claim=claim,
                )
                for claim in claims[start : start + 500]
            ],
        )
    return practice, list(Claim.objects.filter(practice=practice).select_related("patient", "practice").order_by("pk"))


def payment_posting(claim, key: str):
    from billing.models import Account
    from billing.posting import Kind, Leg, Posting, Source

    return Posting(
        kind=Kind.PAYMENT,
        source=Source.MANUAL,
        legs=[Leg(Account.CASH, AMOUNT), Leg(Account.PRIMARY_AR, -AMOUNT)],
        idempotency_key=key,
        claim=claim,
        patient=claim.patient,
        memo="Bench payment",
        effective_date=date(2026, 11, 2),
    )


def run_single(practice, claims, label: str) -> float:
    from billing.posting import post

    postings = [payment_posting(claim, f"{label}:{n}") for n, claim in enumerate(claims)]
    start = time.perf_counter()
    for posting in postings:
        post(practice, posting)
    return time.perf_counter() - start


def run_batches(practice, claims, label: str) -> float:
    from billing.posting import post_many

    postings = [payment_posting(claim, f"{label}:{n}") for n, claim in enumerate(claims)]
    start = time.perf_counter()
    for first in range(0, len(postings), BATCH):
        post_many(practice, postings[first : first + BATCH])
    return time.perf_counter() - start


TXN_COLUMNS = (
    "practice_id, kind, source, claim_id, patient_id, payment_id, remittance_id, reverses_id, amount, reason, "
    "carc_group, carc_code, memo, effective_date, claim_balance_after, account_balance_after, idempotency_key, "
    "content_hash, created_by_id, created_at"
)
TXN_SQL = (
    f"INSERT INTO billing_journaltransaction ({TXN_COLUMNS}) VALUES "
    "(%s, 'payment', 'manual', %s, %s, NULL, NULL, NULL, %s, '', '', '', 'Bench payment', %s, %s, %s, %s, %s, "
    "NULL, now()) RETURNING id"
)
ENTRY_SQL = (
    "INSERT INTO billing_ledgerentry (practice_id, transaction_id, account, amount, claim_id, patient_id) "
    "VALUES (%s, %s, %s, %s, %s, %s)"
)


def _txn_rows(practice, claims, label: str):
    return [
        (
            practice.pk,
            c.pk,
            c.patient_id,
            AMOUNT,
            date(2026, 11, 2),
            Decimal("99999.00"),
            Decimal("99999.00"),
            f"{label}:{n}",
            "0" * 64,
        )
        for n, c in enumerate(claims)
    ]


def _entry_rows(practice, claims, ids):
    rows = []
    for txn_id, claim in zip(ids, claims, strict=True):
        rows.append((practice.pk, txn_id, "cash", AMOUNT, claim.pk, claim.patient_id))
        rows.append((practice.pk, txn_id, "primary_ar", -AMOUNT, claim.pk, claim.patient_id))
    return rows


def run_bare(bare, practice, claims, label: str) -> float:
    """The same rows by executemany, in one database transaction."""
    rows = _txn_rows(practice, claims, label)
    start = time.perf_counter()
    with bare.transaction(), bare.cursor() as cursor:
        cursor.executemany(TXN_SQL, rows, returning=True)
        ids = []
        while True:
            ids.append(cursor.fetchone()[0])
            if not cursor.nextset():
                break
        cursor.executemany(ENTRY_SQL, _entry_rows(practice, claims, ids))
    return time.perf_counter() - start


def run_bare_batches(bare, practice, claims, label: str) -> float:
    """The same rows by executemany, committed in batches of the service's batch size."""
    rows = _txn_rows(practice, claims, label)
    start = time.perf_counter()
    for first in range(0, len(rows), BATCH):
        chunk, chunk_claims = rows[first : first + BATCH], claims[first : first + BATCH]
        with bare.transaction(), bare.cursor() as cursor:
            cursor.executemany(TXN_SQL, chunk, returning=True)
            ids = []
            while True:
                ids.append(cursor.fetchone()[0])
                if not cursor.nextset():
                    break
            cursor.executemany(ENTRY_SQL, _entry_rows(practice, chunk_claims, ids))
    return time.perf_counter() - start


def run_bare_each(bare, practice, claims, label: str) -> float:
    """The same rows, each posting's INSERTs committed on their own."""
    rows = _txn_rows(practice, claims, label)
    start = time.perf_counter()
    for row, claim in zip(rows, claims, strict=True):
        with bare.transaction(), bare.cursor() as cursor:
            (txn_id,) = cursor.execute(TXN_SQL, row).fetchone()
            cursor.executemany(ENTRY_SQL, _entry_rows(practice, [claim], [txn_id]))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postings", type=int, default=2000, help="postings per timed run")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; medians reported")
    parser.add_argument("--keep", action="store_true", help="keep the billingpulse_bench database")
    parser.add_argument("--no-results", action="store_true", help="print only; leave RESULTS.md alone")
    parser.add_argument("--profile", action="store_true", help="cProfile the spread-out single postings")
    args = parser.parse_args()

    database = prepare_database(keep=args.keep)
    setup_django(database.url)
    import psycopg
    from django.db import connection

    from billing.verify import verify

    try:
        stamp = int(time.time())
        say(f"Building claims: {args.postings:,} for the service, {args.postings:,} for the bare INSERTs …")
        practice, claims = build_claims(f"Ledger bench {stamp}", args.postings)
        bare_practice, bare_claims = build_claims(f"Ledger bench bare {stamp}", args.postings)
        one = claims[:1] * args.postings
        names = ("bare", "bare_batches", "bare_each", "single", "batch", "one")
        figures: dict[str, list[float]] = {name: [] for name in names}
        with psycopg.connect(psycopg_url(database.url)) as bare:
            for run in range(args.repeat):
                say(f"Run {run + 1} of {args.repeat} …")
                figures["bare"].append(run_bare(bare, bare_practice, bare_claims, f"bare{run}"))
                figures["single"].append(run_single(practice, claims, f"single{run}"))
                figures["bare_each"].append(run_bare_each(bare, bare_practice, bare_claims, f"each{run}"))
                figures["bare_batches"].append(run_bare_batches(bare, bare_practice, bare_claims, f"bb{run}"))
                figures["batch"].append(run_batches(practice, claims, f"batch{run}"))
                figures["one"].append(run_single(practice, one, f"one{run}"))
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            run_single(practice, claims, "profile")
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(35)
            say(out.getvalue())
        start = time.perf_counter()
        problems = verify(practice)
        verify_seconds = time.perf_counter() - start
        entries = 2 * args.postings * (3 * args.repeat + (1 if args.profile else 0)) + 2 * args.postings
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        lines = report(figures, args, version, problems, verify_seconds, entries)
        say("\n".join(lines))
        if not args.no_results:
            write_section("ledger", "Ledger postings (E)", lines)
    finally:
        finish_database(database)


def report(figures, args, version, problems, verify_seconds, entries) -> list[str]:
    n = args.postings
    rate = {name: n / median(times) for name, times in figures.items()}
    # Each way of posting against bare INSERTs of the same rows committed the same way.
    pairs = [
        (f"Spread out, `post_many` in batches of {BATCH}", "batch", "bare_batches", f"batches of {BATCH}"),
        ("Spread out, one `post()` per posting", "single", "bare_each", "one transaction per posting"),
        ("One account, one `post()` per posting", "one", "bare_each", "one transaction per posting"),
    ]
    goal = rate["bare_batches"] / rate["batch"]
    return [
        *machine_lines(version),
        f"- Command: `DATABASE_URL=… .venv/bin/python bench/ledger.py --postings {n} --repeat {args.repeat}` (medians)",
        f"- Each posting: an insurance payment on a claim (a transaction and two entries; the claim, patient account "
        f"and claim status updated). Spread out: {n:,} claims of {n:,} patients, one posting each; one account: "
        f"{n:,} postings on one claim.",
        "- Baseline: the same ledger rows (transaction + entries) inserted with psycopg `executemany`, committed "
        "the same way as the service's run it is compared with. The service also locks the claim and the account, "
        "looks up the idempotency key, and writes the claim's and account's amounts and the claim's status.",
        "",
        *table(
            ["Service", "Postings/s", "Bare INSERTs, committed in", "Postings/s", "Ratio"],
            [
                [label, f"{rate[mine]:,.0f}", how, f"{rate[base]:,.0f}", f"{rate[base] / rate[mine]:.1f}×"]
                for label, mine, base, how in pairs
            ],
        ),
        "",
        f"Bare INSERTs of all {n:,} postings' rows in one transaction: {rate['bare']:,.0f} postings/s.",
        "",
        f"**Speed goal (spread-out postings within {GOAL_RATIO:.0f}× bare INSERTs of the same rows): "
        f"{'met' if goal <= GOAL_RATIO else 'NOT met'}** — {goal:.1f}× in batches of {BATCH} (an ERA or an import "
        "posts this way).",
        "",
        "One `post()` per posting (a biller's click) is 10 SQL statements: lock the patient account, lock the "
        "claim, look up the idempotency key, insert the transaction and its entries, update the claim (amounts and "
        "status) and the account, record the status change, begin and commit; a bare posting is 2 inserts and the "
        "commit. Its ratio is the Django ORM's per-statement cost (about two thirds of the time is in the query "
        "compiler and driver, `--profile`). On one account every posting updates the same claim and account rows "
        "again, after the one before it.",
        "",
        f"`verify()` of the service's practice afterwards ({entries:,} entries): "
        f"{'no violations' if not problems else f'{len(problems)} VIOLATIONS'}, {verify_seconds:.2f} s.",
    ]


if __name__ == "__main__":
    main()
