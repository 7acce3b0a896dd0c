"""Benchmark: importing a large, messy claims CSV on PostgreSQL, against a plain COPY of the same file.

    .venv/bin/python bench/import_claims.py --rows 100000

Generates a deterministic CSV like the exports billers upload (``$`` amounts, mixed date forms,
"LAST, FIRST" names, ~5,000 patients, 5 payers, about 1% bad rows and a totals row), then
repeatedly:

* COPYs the file as raw text into an unindexed temporary table (the baseline), and
* imports it through the real path (``engine.inspect_upload`` + ``start`` + ``run_import``) into a
  fresh practice, then imports it again (every row an update).

Peak memory is measured in a child process per file size (tracemalloc peak and peak RSS), to show
that memory does not grow with the file. Figures go to ``bench/RESULTS.md``; see ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
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

GOAL_RATIO = 1 / 3  # of COPY's rows per second
MEMORY_FLAT_TOLERANCE = 1.25  # the largest file may use at most this much more than the smallest
HEADER = ["Claim #", "Patient", "DOB", "DOS", "Balance", "Denial Code", "Denial", "Payer ID", "Member ID"]


def _words(text: str) -> list[str]:
    return text.split()


PAYERS = [  # name, payer ID, timely filing days
    ("Aetna", "60054", 120),
    ("BCBS Texas", "00590", 95),
    ("Cigna", "62308", 90),
    ("UnitedHealthcare", "87726", 90),
    ("Humana", "61101", 365),
]
FIRST_NAMES = _words(
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan Joseph "
    "Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty Anthony Sandra Mark Margaret "
    "Donald Ashley Steven Kimberly Andrew Emily Paul Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Melissa "
    "George Deborah Timothy Stephanie Omar Priya Wei Mei Ana Jose Luis Aisha Fatima Raj Kenji Yuki Olga Ivan"
)
LAST_NAMES = _words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson "
    "Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis Robinson "
    "Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell "
    "Mitchell Carter Roberts Patel Kim Chen O'Brien McDonald Smith-Jones Van_Buren De_la_Cruz Okafor Kowalski "
    "Schmidt Rossi Dubois Novak Haddad Cohen Singh Tanaka Sato Ivanova Murphy Kelly Price Bennett Wood Barnes Ross "
    "Henderson Coleman Jenkins Perry Powell Long Patterson Hughes Washington Butler Simmons Foster Bryant"
)
DENIALS = [
    ("CO-16", "Claim lacks information needed for adjudication"),
    ("CO-29", "Timely filing limit expired"),
    ("CO-97", "Bundled with another service"),
    ("CO-50", "Not deemed medically necessary"),
    ("CO-197", "Precertification absent"),
    ("PR-1", "Deductible amount"),
    ("PR-2", "Coinsurance amount"),
    ("CO-45", "Charge exceeds fee schedule"),
]
FEES = ["85.00", "125.50", "150.00", "240.00", "312.40", "1250.00", "4870.25", "95.00", "175.00", "410.00"]
# Fixed, so the file is the same on every run and every day.
ANCHOR = date(2026, 1, 15)
PRACTICE_NAME = "Bench import practice"


# ---------------------------------------------------------------------------- the file


def generate_csv(path: Path, rows: int, seed: int = 20260115) -> int:
    """Write a messy claims export with ``rows`` data rows; return the number of data rows."""
    rng = random.Random(seed)
    patients = []
    for number in range(5000):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES).replace("_", " ")
        dob = ANCHOR - timedelta(days=rng.randint(365 * 2, 365 * 90))
        payer = rng.randrange(len(PAYERS)) if rng.random() < 0.9 else 0
        patients.append((first, last, dob, payer, f"W{rng.randint(100_000_000, 999_999_999)}{number % 10}"))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(1, rows + 1):
            first, last, dob, payer, member = patients[int(rng.paretovariate(1.2) * 37) % len(patients)]
            claim_number = f"CLM-{n:07d}"
            dos = ANCHOR - timedelta(days=rng.randint(0, 540))
            fee = rng.choice(FEES) if rng.random() < 0.7 else f"{rng.randint(20, 9000)}.{rng.randint(0, 99):02d}"
            denial = rng.choice(DENIALS) if rng.random() < 0.6 else ("", "")
            payer_id = PAYERS[payer][1]
            name = _name_form(rng, first, last)
            dob_text = _date_form(rng, dob, birth=True)
            dos_text = _date_form(rng, dos, birth=False)
            amount = _money_form(rng, fee)
            fault = rng.random()
            if fault < 0.003:
                dos_text = "13/45/2025"
            elif fault < 0.005:
                payer_id = "99999"
            elif fault < 0.007:
                amount = "n/a"
            elif fault < 0.009 and n > 10:
                claim_number = f"CLM-{rng.randint(1, n - 1):07d}"
            elif fault < 0.010:
                name, dob_text = f"{rng.choice(FIRST_NAMES)} Newcomer{n}", ""
            writer.writerow([claim_number, name, dob_text, dos_text, amount, *denial, payer_id, member])
        writer.writerow(["TOTAL", "", "", "", f"${rows * 300:,.2f}", "", "", "", ""])
    return rows


def _name_form(rng: random.Random, first: str, last: str) -> str:
    form = rng.random()
    if form < 0.6:
        return f"{first} {last}"
    if form < 0.85:
        return f"{last.upper()}, {first.upper()}"
    return f"{last}, {first} {rng.choice('ABCDEJKLMR')}"


def _date_form(rng: random.Random, day: date, *, birth: bool) -> str:
    form = rng.random()
    if form < 0.6:
        return day.strftime("%m/%d/%Y")
    if form < 0.8:
        return day.isoformat()
    if birth:
        return f"{day.month}/{day.day}/{day.year}"
    return day.strftime("%m/%d/%y") if form < 0.9 else f"{day.month}/{day.day}/{day.strftime('%y')}"


def _money_form(rng: random.Random, fee: str) -> str:
    form = rng.random()
    whole, cents = fee.split(".")
    grouped = f"{int(whole):,}.{cents}"
    if form < 0.4:
        return fee
    if form < 0.8:
        return f"${grouped}"
    return f"$ {grouped}" if form < 0.9 else grouped


# ---------------------------------------------------------------------------- the runs


def copy_baseline(database_url: str, path: Path) -> tuple[float, int]:
    """Seconds to COPY the file's rows as text into an unindexed temporary table, and rows copied."""
    import psycopg

    with psycopg.connect(psycopg_url(database_url)) as connection:
        columns = ", ".join(f"c{i} text" for i in range(len(HEADER)))
        connection.execute(f"CREATE TEMP TABLE copy_baseline ({columns})")
        connection.commit()
        with path.open("rb") as handle, connection.cursor() as cursor:
            start = time.perf_counter()
            with cursor.copy("COPY copy_baseline FROM STDIN (FORMAT csv, HEADER true)") as copy:
                while chunk := handle.read(64 * 1024):
                    copy.write(chunk)
            connection.commit()
            elapsed = time.perf_counter() - start
            copied = connection.execute("SELECT count(*) FROM copy_baseline").fetchone()[0]
    return elapsed, copied


def database_floor(practice) -> float:
    """Seconds for PostgreSQL alone to write the imported claims and their events again, into another practice.

    No Python per row: the rows are prepared in temporary tables first (not timed), then one
    ``INSERT ... SELECT`` per table writes them through every index, constraint and foreign key the
    import has to go through. This is the least any import into these tables can cost.
    """
    from django.db import connection, transaction

    from billingpulse.models import Practice

    other = Practice.objects.create(name=PRACTICE_NAME)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS floor_claims, floor_events")
        cursor.execute(
            "CREATE TEMP TABLE floor_claims AS SELECT * FROM claims_claim WHERE practice_id = %s", [practice.pk]
        )
        cursor.execute("ALTER TABLE floor_claims ADD COLUMN old_id bigint")
        cursor.execute(
            "UPDATE floor_claims SET old_id = id, id = nextval(pg_get_serial_sequence('claims_claim', 'id')), "
            "practice_id = %s, last_import_id = NULL",
            [other.pk],
        )
        cursor.execute(
            "CREATE TEMP TABLE floor_events AS SELECT f.id AS new_claim_id, e.kind, e.from_status, e.to_status, "
            "e.message, e.actor_id, e.source FROM claims_claimevent e JOIN floor_claims f ON f.old_id = e.claim_id"
        )
        cursor.execute("ALTER TABLE floor_claims DROP COLUMN old_id")
        cursor.execute("ANALYZE floor_claims")
        cursor.execute("ANALYZE floor_events")
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO claims_claim SELECT * FROM floor_claims")
        cursor.execute(
            "INSERT INTO claims_claimevent (claim_id, kind, from_status, to_status, message, actor_id, source, "
            "created_at) SELECT new_claim_id, kind, from_status, to_status, message, actor_id, source, now() "
            "FROM floor_events"
        )
    elapsed = time.perf_counter() - start
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE floor_claims, floor_events")
    return elapsed


def make_practice():
    from billingpulse.models import Practice, User
    from claims.models import Payer

    practice = Practice.objects.create(name=PRACTICE_NAME)
    user = User.objects.create_user(f"bench-{practice.pk}@example.com", practice=practice, role=User.Role.ADMIN)
    for name, payer_id, days in PAYERS:
        Payer.objects.create(practice=practice, name=name, payer_id=payer_id, timely_filing_days=days)
    return practice, user


def import_file(path: Path, practice, user) -> dict:
    """Run the real import of ``path`` into ``practice``; seconds taken and the import's counts."""
    from django.core.files.uploadedfile import UploadedFile

    from claims.importing import engine

    with path.open("rb") as handle:
        upload = UploadedFile(file=handle, name=path.name, content_type="text/csv", size=path.stat().st_size)
        start = time.perf_counter()
        claim_import = engine.inspect_upload(practice=practice, user=user, upload=upload)
        inspected = time.perf_counter()
        assert engine.start(claim_import)
        result = engine.run_import(claim_import.pk)
        finished = time.perf_counter()
    assert result is not None and result.status == "done", result and result.failure_message
    return {
        "seconds": finished - start,
        "inspect_seconds": inspected - start,
        "run_seconds": finished - inspected,
        "processed": result.processed_rows,
        "imported": result.imported_count,
        "updated": result.updated_count,
        "rejected": result.rejected_count,
    }


def clean(owned_database: bool) -> None:
    """Remove what earlier runs imported, so every run starts from the same empty tables."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        if owned_database:
            cursor.execute(
                "TRUNCATE claims_claimevent, claims_claimline, claims_claimimporterror, claims_claim, "
                "claims_insurancepolicy, claims_claimimport, claims_payer, billingpulse_patient CASCADE"
            )
            cursor.execute("DELETE FROM billingpulse_user WHERE email LIKE 'bench-%%@example.com'")
            cursor.execute(
                "DELETE FROM ai_denialcode WHERE practice_id IN (SELECT id FROM billingpulse_practice WHERE name = %s)",
                [PRACTICE_NAME],
            )
            cursor.execute("DELETE FROM billingpulse_practice WHERE name = %s", [PRACTICE_NAME])
        else:
            ids = "(SELECT id FROM billingpulse_practice WHERE name = %s)"
            claims = f"(SELECT id FROM claims_claim WHERE practice_id IN {ids})"
            # Ledger rows are append-only (a trigger refuses DELETE); the benchmark's own practice
            # is thrown away with its ledger, so the triggers are off for this transaction only.
            with transaction.atomic():
                cursor.execute("SET LOCAL session_replication_role = replica")
                for table in ("billing_ledgerentry", "billing_journaltransaction", "billing_patientaccount"):
                    cursor.execute(f"DELETE FROM {table} WHERE practice_id IN {ids}", [PRACTICE_NAME])
            for statement in [
                f"DELETE FROM claims_claimevent WHERE claim_id IN {claims}",
                f"DELETE FROM claims_claimline WHERE claim_id IN {claims}",
                "DELETE FROM claims_claimimporterror WHERE claim_import_id IN "
                f"(SELECT id FROM claims_claimimport WHERE practice_id IN {ids})",
                f"DELETE FROM claims_claim WHERE practice_id IN {ids}",
                f"DELETE FROM claims_insurancepolicy WHERE practice_id IN {ids}",
                f"DELETE FROM claims_claimimport WHERE practice_id IN {ids}",
                f"DELETE FROM claims_payer WHERE practice_id IN {ids}",
                f"DELETE FROM billingpulse_patient WHERE practice_id IN {ids}",
                f"DELETE FROM billingpulse_user WHERE practice_id IN {ids}",
                f"DELETE FROM ai_denialcode WHERE practice_id IN {ids}",
                f"DELETE FROM ai_payerpolicy WHERE practice_id IN {ids}",
                "DELETE FROM billingpulse_practice WHERE name = %s",
            ]:
                cursor.execute(statement, [PRACTICE_NAME])
    if not owned_database:
        with connection.cursor() as cursor:
            for name in ("claims_claimevent", "claims_claimline", "claims_claim", "billingpulse_patient"):
                cursor.execute(f"VACUUM ANALYZE {name}")


def memory_child(path: Path, owned_database: bool) -> None:
    """In a child process: import ``path`` once with tracemalloc on; print the figures as JSON."""
    import tracemalloc

    setup_django(os.environ["DATABASE_URL"])
    clean(owned_database)
    practice, user = make_practice()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    tracemalloc.reset_peak()
    outcome = import_file(path, practice, user)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    clean(owned_database)
    outcome.update(tracemalloc_peak=peak, maxrss_kb=rss_after, maxrss_before_kb=rss_before)
    sys.stdout.write("RESULT " + json.dumps(outcome) + "\n")


def measure_memory(path: Path, owned_database: bool) -> dict:
    completed = subprocess.run(
        [sys.executable, __file__, "--memory-child", str(path), *(["--owned"] if owned_database else [])],
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode:
        raise SystemExit(f"The memory run failed:\n{completed.stdout}\n{completed.stderr}")
    line = next(line for line in completed.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


# ---------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="data rows in the timed file (default 100000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the median is reported (default 3)")
    parser.add_argument(
        "--memory-sizes", default="10000,50000,100000", help="file sizes for the memory runs; empty for none"
    )
    parser.add_argument("--keep", action="store_true", help="keep the billingpulse_bench database")
    parser.add_argument("--no-results", action="store_true", help="print only; leave RESULTS.md alone")
    parser.add_argument("--profile", action="store_true", help="profile one import and print the top functions")
    parser.add_argument("--memory-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--owned", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.memory_child:
        memory_child(args.memory_child, args.owned)
        return

    database = prepare_database(keep=args.keep)
    setup_django(database.url)
    from django.db import connection

    from claims.importing import engine

    owned = database.created
    workdir = Path(tempfile.mkdtemp(prefix="claims-csv-"))
    sizes = sorted({int(size) for size in args.memory_sizes.split(",") if size.strip()})
    files = {}
    for size in sorted({args.rows, *sizes}):
        files[size] = workdir / f"claims-{size}.csv"
        generate_csv(files[size], size)
    path = files[args.rows]
    say(f"Generated {path.name}: {args.rows:,} rows, {path.stat().st_size / 1024 / 1024:.1f} MiB")

    try:
        if args.profile:
            _profile(path, owned)
            return
        runs = []
        for attempt in range(1, args.repeat + 1):
            clean(owned)
            copy_seconds, copied = copy_baseline(database.url, path)
            practice, user = make_practice()
            first = import_file(path, practice, user)
            floor = database_floor(practice)
            again = import_file(path, practice, user)
            runs.append((copy_seconds, first, again, floor))
            say(
                f"run {attempt}: COPY {copy_seconds:.3f} s ({copied:,} rows); import {first['seconds']:.2f} s "
                f"(inspect {first['inspect_seconds']:.2f} s) imported={first['imported']:,} "
                f"rejected={first['rejected']:,}; SQL-only floor {floor:.2f} s; "
                f"re-import {again['seconds']:.2f} s updated={again['updated']:,}"
            )
        clean(owned)
        memory = {size: measure_memory(files[size], owned) for size in sizes}
        for size, figures in memory.items():
            say(
                f"memory {size:,} rows: tracemalloc peak {figures['tracemalloc_peak'] / 2**20:.1f} MiB, "
                f"max RSS {figures['maxrss_kb'] / 1024:.1f} MiB"
            )
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        lines = _report(args.rows, runs, memory, version, engine.BATCH_SIZE)
        say("\n".join(lines))
        if not args.no_results:
            write_section("import_claims", "Claim import (A)", lines)
    finally:
        if not args.keep:
            clean(owned)
        finish_database(database)
        shutil.rmtree(workdir, ignore_errors=True)


def _report(rows: int, runs: list, memory: dict, version: str, batch_size: int) -> list[str]:
    copy_seconds = median([run[0] for run in runs])
    import_seconds = median([run[1]["seconds"] for run in runs])
    inspect_seconds = median([run[1]["inspect_seconds"] for run in runs])
    update_seconds = median([run[2]["seconds"] for run in runs])
    floor_seconds = median([run[3] for run in runs])
    copy_rate, import_rate, update_rate = rows / copy_seconds, rows / import_seconds, rows / update_seconds
    ratio = import_rate / copy_rate
    first = runs[0][1]
    lines = [
        *machine_lines(version),
        f"- Command: `.venv/bin/python bench/import_claims.py --rows {rows}` ({len(runs)} runs, medians; "
        f"engine batch size {batch_size})",
        f"- File: {rows:,} data rows; {first['imported']:,} imported, {first['rejected']:,} rejected "
        "(bad dates, unknown payer, bad amount, repeated claim number, missing DOB), totals row skipped",
        "",
        *table(
            ["What", "Seconds", "Rows/s", "vs COPY"],
            [
                ["COPY into unindexed temp table (baseline)", f"{copy_seconds:.3f}", f"{copy_rate:,.0f}", "1.00"],
                [
                    f"Import, new claims (inspect {inspect_seconds:.2f} s + run)",
                    f"{import_seconds:.2f}",
                    f"{import_rate:,.0f}",
                    f"{ratio:.3f}",
                ],
                [
                    "Database floor: the same claims + events written by SQL alone, no Python",
                    f"{floor_seconds:.2f}",
                    f"{rows / floor_seconds:,.0f}",
                    f"{copy_seconds / floor_seconds:.3f}",
                ],
                [
                    "Re-import of the same file (every row an update)",
                    f"{update_seconds:.2f}",
                    f"{update_rate:,.0f}",
                    f"{update_rate / copy_rate:.3f}",
                ],
            ],
        ),
        "",
        f"**Speed goal (import ≥ 1/3 of COPY's rows/s): {'met' if ratio >= GOAL_RATIO else 'NOT met'}** "
        f"— import runs at {ratio:.3f}× COPY's rate ({1 / ratio:.1f}× slower; the goal allows 3×).",
        "",
        "A new claim's charge, and the paid amount the file states, are posted to the ledger in the claim's "
        "batch (a journal transaction and two entries each, the claim's and the patient account's amounts, "
        "the claim's status when a payment moves it): most of the import's time since the ledger came, and "
        "not in the SQL floor, which writes claims and events only. A re-import posts only what changed.",
        "",
    ]
    if memory:
        smallest = memory[min(memory)]
        largest = memory[max(memory)]
        flat = (
            largest["tracemalloc_peak"] <= smallest["tracemalloc_peak"] * MEMORY_FLAT_TOLERANCE
            and largest["maxrss_kb"] <= smallest["maxrss_kb"] * MEMORY_FLAT_TOLERANCE
        )
        lines += [
            "Peak memory of one import, each size in its own process (tracemalloc on, so slower):",
            "",
            *table(
                ["Rows", "tracemalloc peak", "Peak RSS (process)", "RSS before import", "Import seconds"],
                [
                    [
                        f"{size:,}",
                        f"{figures['tracemalloc_peak'] / 2**20:.1f} MiB",
                        f"{figures['maxrss_kb'] / 1024:.1f} MiB",
                        f"{figures['maxrss_before_kb'] / 1024:.1f} MiB",
                        f"{figures['seconds']:.1f}",
                    ]
                    for size, figures in sorted(memory.items())
                ],
            ),
            "",
            f"**Memory goal (flat with file size): {'met' if flat else 'NOT met'}** — peak at {max(memory):,} rows "
            f"is {largest['tracemalloc_peak'] / smallest['tracemalloc_peak']:.2f}× (tracemalloc) and "
            f"{largest['maxrss_kb'] / smallest['maxrss_kb']:.2f}× (RSS) the peak at {min(memory):,} rows "
            f"(flat: ≤ {MEMORY_FLAT_TOLERANCE}×).",
        ]
    return lines


def _profile(path: Path, owned: bool) -> None:
    import cProfile
    import pstats

    clean(owned)
    practice, user = make_practice()
    profiler = cProfile.Profile()
    profiler.enable()
    outcome = import_file(path, practice, user)
    profiler.disable()
    say(json.dumps(outcome))
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
    clean(owned)


if __name__ == "__main__":
    main()
