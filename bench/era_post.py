"""(F) How fast is a 5,000-claim 835 read, matched, previewed and posted, compared with bare SQL inserts?

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/DB .venv/bin/python bench/era_post.py [--claims 5000] [--repeat 3]

Generates the file with ``../shared/samples/era/make_big_835.py`` (5,000 claims cycling through
the synthetic sample's six shapes, 833 of them reversals with no original to pair, which are
held). For each run a fresh practice gets the file's 5,000 claims with their charges posted
(not timed), then, timed, end to end as a biller's upload and "Post" do it:

* **preview:** ``billing.era.posting.preview`` — read the 835, check the balancing rules and the
  duplicate key, match every CLP to a claim, store the remittance and its 5,000 claim rows
  (pyx12's structure check is off: it runs only on files under 500 claims);
* **post:** ``post_remittance(..., hold_unmatched=True)`` — one database transaction through
  ``billing.posting.post_many``: locks, idempotency look-up, every journal transaction and
  entry, claims' and patient accounts' amounts, claim statuses and events, expected payments.

**Baseline, same run:** the very ledger rows the post wrote (journal transactions and entries),
inserted again by bare SQL (ids reserved from the sequences) in one transaction, by ``INSERT``
(``executemany``, the baseline) and by ``COPY``. Goal: end to end within 3× the bare INSERTs.
``--profile`` prints where the post's time goes. Figures go to ``bench/RESULTS.md`` unless
``--no-results``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import (
    ROOT,
    finish_database,
    machine_lines,
    median,
    prepare_database,
    say,
    setup_django,
    table,
    write_section,
)

GENERATOR = ROOT.parent / "shared" / "samples" / "era" / "make_big_835.py"
GOAL = 3.0
SHAPES = ["PCN1001", "PCN1002", "PCN0990", "PCN0990", "PCN1003", "PCN1004"]
CHARGES = {"PCN1001": "250.00", "PCN1002": "180.00", "PCN0990": "200.00", "PCN1003": "120.00", "PCN1004": "90.00"}
PATIENTS = 500


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the throwaway database")
    parser.add_argument("--profile", action="store_true", help="cProfile one post and print the top functions")
    parser.add_argument("--no-results", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args()

    database = prepare_database(keep=args.keep)
    setup_django(database.url)
    try:
        with tempfile.TemporaryDirectory(prefix="billingpulse-era-post-") as folder:
            path = Path(folder) / "big.835"
            subprocess.run(
                [sys.executable, str(GENERATOR), str(args.claims), str(path)], check=True, capture_output=True
            )
            data = path.read_bytes()
            runs = [_run(data, args.claims, n, profile=args.profile and n == 0) for n in range(args.repeat)]
        _report(runs, args.claims, len(data), write=not args.no_results)
    finally:
        finish_database(database)


def _run(data: bytes, claims: int, n: int, *, profile: bool) -> dict:
    from django.db import connection

    from billing.era.posting import post_remittance, preview
    from billing.models import JournalTransaction, LedgerEntry

    practice = _practice_with_claims(claims, n)
    connection.close()  # a fresh connection, as a request has
    start = time.perf_counter()
    remittance = preview(practice, data, file_name="big.835", check_structure=False)
    previewed = time.perf_counter()
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    summary = post_remittance(remittance, actor=None, hold_unmatched=True)
    if profiler:
        profiler.disable()
    posted = time.perf_counter()
    txns = JournalTransaction.objects.filter(remittance=remittance).count()
    entries = LedgerEntry.objects.filter(transaction__remittance=remittance).count()
    baseline = _bare_sql(remittance.pk, copy_rows=False)
    copied = _bare_sql(remittance.pk, copy_rows=True)
    run = {
        "preview": previewed - start,
        "post": posted - previewed,
        "total": posted - start,
        "baseline": baseline,
        "copy": copied,
        "transactions": txns,
        "entries": entries,
        "posted": summary["claims_posted"],
        "held": summary["claims_held"],
    }
    say(
        f"run {n + 1}: preview {run['preview']:.2f} s, post {run['post']:.2f} s, end to end {run['total']:.2f} s; "
        f"bare INSERTs {baseline:.2f} s (COPY {copied:.2f} s) for {txns} transactions and {entries} entries "
        f"→ {run['total'] / baseline:.1f}×"
    )
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(40)
        say(out.getvalue())
    return run


def _practice_with_claims(count: int, n: int):
    """A new practice with the file's claims, their charges posted as the claim import does (not timed)."""
    from datetime import date
    from decimal import Decimal

    from billing.models import Account
    from billing.posting import Kind, Leg, Posting, Source, post_many
    from billingpulse.models import Patient, Practice
    from claims.models import Claim, Payer

    practice = Practice.objects.create(name=f"ERA bench {time.time_ns()}-{n}")
    payer = Payer.objects.create(practice=practice, name="EXAMPLE HEALTH PLAN", payer_id="99999", phone="+18005550100")
    patients = Patient.objects.bulk_create(
        [
            Patient(practice=practice, first_name=f"P{i}", last_name="SAMPLE", date_of_birth=date(1960, 1, 1))
            for i in range(PATIENTS)
        ]
    )
    claims = Claim.objects.bulk_create(
        [
            Claim(
                practice=practice,
                patient=patients[k % PATIENTS],
                payer=payer,
                claim_number=f"{SHAPES[k % 6]}-{k:06d}",
                service_date_from=date(2025, 1, 5),
                total_charge=0,
            )
            for k in range(count)
        ],
        batch_size=1000,
    )
    postings = [
        Posting(
            kind=Kind.CHARGE,
            source=Source.IMPORT,
            legs=[Leg(Account.PRIMARY_AR, amount), Leg(Account.CHARGES, -amount)],
            idempotency_key=f"charge:{claim.pk}",
            claim=claim,
            patient=patients[k % PATIENTS],
        )
        for k, claim in enumerate(claims)
        for amount in [Decimal(CHARGES[SHAPES[k % 6]])]
    ]
    post_many(practice, postings)
    return practice


def _bare_sql(remittance_id: int, *, copy_rows: bool) -> float:
    """Insert the remittance's journal transactions and entries again with bare SQL; the seconds taken.

    By COPY, or by INSERTs (``executemany``). Copies get new ids (reserved from the sequences) and
    keys, and no ``reverses`` link (one-to-one); everything else is the same values. Foreign keys
    are checked as the rows go in (they are otherwise checked at commit), then it is rolled back,
    so the books stay as posted.
    """
    from django.db import connection, transaction

    from billing.models import JournalTransaction, LedgerEntry

    txn_table, entry_table = JournalTransaction._meta.db_table, LedgerEntry._meta.db_table
    txn_columns = [f.column for f in JournalTransaction._meta.concrete_fields if f.column != "id"]
    entry_columns = [f.column for f in LedgerEntry._meta.concrete_fields if f.column != "id"]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, {', '.join(txn_columns)} FROM {txn_table} WHERE remittance_id = %s", [remittance_id]
        )
        txns = cursor.fetchall()
        cursor.execute(
            f"SELECT e.{', e.'.join(entry_columns)} FROM {entry_table} e JOIN {txn_table} t ON t.id = e.transaction_id "
            "WHERE t.remittance_id = %s",
            [remittance_id],
        )
        entries = cursor.fetchall()
    key_at = txn_columns.index("idempotency_key") + 1
    reverses_at = txn_columns.index("reverses_id") + 1
    transaction_at = entry_columns.index("transaction_id")
    start = time.perf_counter()
    with transaction.atomic():
        raw = connection.connection  # psycopg 3
        with raw.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(
                f"SELECT nextval(pg_get_serial_sequence('{txn_table}', 'id')) FROM generate_series(1, %s)", [len(txns)]
            )
            new_ids = {old[0]: new for old, (new,) in zip(txns, cursor.fetchall(), strict=True)}
            txn_rows, entry_rows = [], []
            for row in txns:
                row = list(row)
                row[0], row[key_at], row[reverses_at] = new_ids[row[0]], f"{row[key_at]}:copy", None
                txn_rows.append(row)
            for row in entries:
                row = list(row)
                row[transaction_at] = new_ids[row[transaction_at]]
                entry_rows.append(row)
            for table, columns, rows in (
                (txn_table, ["id", *txn_columns], txn_rows),
                (entry_table, entry_columns, entry_rows),
            ):
                if copy_rows:
                    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
                else:
                    marks = ", ".join(["%s"] * len(columns))
                    cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
        elapsed = time.perf_counter() - start
        transaction.set_rollback(True)
    return elapsed


def _report(runs: list[dict], claims: int, size: int, *, write: bool) -> None:
    from django.db import connection

    total, baseline = median([r["total"] for r in runs]), median([r["baseline"] for r in runs])
    copied = median([r["copy"] for r in runs])
    per_run = ", ".join(f"{r['total'] / r['baseline']:.1f}×" for r in runs)
    ratio = total / baseline
    first = runs[0]
    rows = [
        ("preview: read, balance, match, store", f"{median([r['preview'] for r in runs]):.2f} s", ""),
        ("post: one transaction through post_many", f"{median([r['post'] for r in runs]):.2f} s", ""),
        ("**end to end**", f"**{total:.2f} s**", f"{claims / total:,.0f} claims/s"),
        (
            "baseline: the same ledger rows by bare INSERTs",
            f"{baseline:.2f} s",
            f"{first['transactions'] + first['entries']:,} rows",
        ),
        ("the same rows by COPY", f"{copied:.2f} s", f"end to end is {total / copied:.1f}× this"),
    ]
    verdict = "met" if ratio <= GOAL else "not met"
    lines = [
        f"The {claims:,}-claim 835 ({size / 1024 / 1024:.1f} MB; {first['posted']:,} claims posted, {first['held']:,} "
        f"reversals held for want of an original), {first['transactions']:,} journal transactions and "
        f"{first['entries']:,} entries; medians of {len(runs)} runs, each on a fresh practice.",
        "",
        *table(["step", "time", "rate"], rows),
        "",
        f"**End to end / bare INSERTs of the same rows: {ratio:.1f}×** (goal ≤ {GOAL:.0f}×: {verdict}); "
        f"run by run: {per_run}.",
        "",
        "Where the post's time goes (``--profile``): a third waiting for PostgreSQL (locking the 5,000 "
        "claims, the COPY of the ledger rows, one UPDATE from arrays for the claims' and accounts' amounts, the "
        "foreign-key checks at commit); most of the rest is Django building model instances (the journal "
        "transactions returned to the caller, the claims read under lock, the remittance's 5,000 claim rows) "
        "and reading the file again. The baselines insert only the ledger rows: no locks, no idempotency "
        "look-up, no claim or account amounts, no statuses. Foreign keys are checked as their rows go in "
        "(they would be at commit), then the baseline is rolled back.",
        "",
        *machine_lines(connection.cursor().connection.info.parameter_status("server_version") or "?"),
    ]
    say("\n".join(lines))
    if write:
        write_section("era_post", "ERA 835 posting, end to end (F)", lines)


if __name__ == "__main__":
    main()
