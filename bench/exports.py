"""Claims exports (issue 14): rows per second and peak memory of CSV and XLSX exports of 10,000,
50,000 and 100,000 claims, through ``GET /api/v1/exports/claims`` (the streamed path).

    .venv/bin/python bench/exports.py [--sizes 10000,50000,100000] [--keep] [--reuse] [--no-results]

Each size is its own practice in a database of its own (``billingpulse_bench_exports``, or
``DATABASE_URL``), with encryption on, so every claim's free text is decrypted on the way out.
Each (size, format) runs in its own process: once timed, then once under tracemalloc for the
Python heap's peak; the process's peak RSS is read at the end. The goal is memory that stays
flat as the rows grow: rows are streamed from a server-side cursor and written one at a time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import (  # noqa: E402
    drop_own_database,
    finish_database,
    machine_lines,
    own_database,
    say,
    setup_django,
    signed_in,
    table,
    write_section,
)

DB_NAME = "billingpulse_bench_exports"
SIZES = (10_000, 50_000, 100_000)
FORMATS = ("csv", "xlsx")
PAYERS = 8
MEMORY_FLAT_TOLERANCE = 1.5  # the largest export's peak may be at most this many times the smallest's
# A fixed key, so that the parent (writing) and the children (reading) agree.
KEY = "kZ7cE3mJq0uR2vX9yB4dF6hL1nP8sT5wA0cE3gI6kM8="


def practice_name(size: int) -> str:
    return f"Exports bench {size}"


def build(size: int) -> None:
    """A practice with ``size`` claims (a denial reason and next steps on every third one)."""
    from datetime import date, timedelta
    from decimal import Decimal

    from billingpulse.models import Patient, Practice, User
    from claims.models import Claim, Payer

    practice = Practice.objects.create(name=practice_name(size), time_zone="America/Chicago")
    User.objects.create_user(f"admin{size}@bench.example", "a-bench-password", practice=practice, role="admin")
    payers = Payer.objects.bulk_create(
        Payer(practice=practice, name=f"Payer {n}", payer_id=f"{70000 + n}") for n in range(PAYERS)
    )
    patients = Patient.objects.bulk_create(
        (
            Patient(practice=practice, first_name=f"First{n}", last_name=f"Last{n}", date_of_birth=date(1950, 1, 1))
            for n in range(size // 10)
        ),
        batch_size=5000,
    )
    statuses = ["denied", "submitted", "in_process", "pending_info"]
    start = date(2026, 1, 1)
    batch = []
    for n in range(size):
        denied = n % 3 == 0
        charge = Decimal(100 + n % 900) + Decimal("0.50")
        batch.append(
            Claim(
                practice=practice,
                patient=patients[n % len(patients)],
                payer=payers[n % PAYERS],
                claim_number=f"EX-{n:07d}",
                service_date_from=start + timedelta(days=n % 300),
                total_charge=charge,
                balance=charge,
                status="denied" if denied else statuses[n % 4],
                denial_code="CO-16" if denied else "",
                denial_reason="Claim lacks information needed for adjudication." if denied else "",
                next_steps="Send the operative report and call back in 14 days." if denied else "",
            )
        )
        if len(batch) == 5000:
            Claim.objects.bulk_create(batch)
            batch = []
    Claim.objects.bulk_create(batch)


def child(size: int, file_format: str) -> None:
    """In a child process: export once timed, once under tracemalloc; print the figures as JSON."""
    import tracemalloc

    setup_django(os.environ["DATABASE_URL"])
    from billingpulse.models import User

    client = signed_in(User.objects.get(email=f"admin{size}@bench.example"))
    url = f"/api/v1/exports/claims?format={file_format}&status=all"

    def export() -> tuple[int, float]:
        started = time.perf_counter()
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        written = sum(len(chunk) for chunk in response.streaming_content)
        response.close()
        return written, time.perf_counter() - started

    client.get(url + "&q=EX-0000001").close()  # warm up: imports, the connection, the session
    written, seconds = export()
    tracemalloc.start()
    export()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = {"bytes": written, "seconds": seconds, "tracemalloc_peak": peak, "maxrss_kb": rss}
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")


def measure(size: int, file_format: str) -> dict:
    completed = subprocess.run(
        [sys.executable, __file__, "--child", str(size), file_format],
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode:
        raise SystemExit(f"The {file_format} export of {size} failed:\n{completed.stdout}\n{completed.stderr}")
    line = next(line for line in completed.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(str(size) for size in SIZES))
    parser.add_argument("--database", default=DB_NAME)
    parser.add_argument("--keep", action="store_true", help="keep the database and its data")
    parser.add_argument("--reuse", action="store_true", help="reuse the data of an earlier --keep run")
    parser.add_argument("--no-results", action="store_true", help="print only; leave RESULTS.md alone")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.update(ENCRYPT_SENSITIVE_FIELDS="true", ENCRYPTION_KEYS=KEY)
    if args.child:
        child(int(args.child[0]), args.child[1])
        return

    sizes = [int(size) for size in args.sizes.split(",")]
    database, drop = own_database(args.database, keep=args.keep or args.reuse, reuse=args.reuse)
    setup_django(database.url)
    from django.db import connection

    from billingpulse.models import Practice

    try:
        for size in sizes:
            if not Practice.objects.filter(name=practice_name(size)).exists():
                started = time.perf_counter()
                build(size)
                say(f"  built {size:,} claims in {time.perf_counter() - started:.0f} s")
        connection.close()
        results = {}
        for size in sizes:
            for file_format in FORMATS:
                figures = measure(size, file_format)
                results[(size, file_format)] = figures
                say(
                    f"{file_format} {size:,}: {size / figures['seconds']:,.0f} rows/s, "
                    f"tracemalloc peak {figures['tracemalloc_peak'] / 2**20:.1f} MiB, "
                    f"max RSS {figures['maxrss_kb'] / 1024:.1f} MiB"
                )
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        lines = _report(sizes, results, version)
        say("\n".join(lines))
        if not args.no_results:
            write_section("exports", "Claims exports (issue 14)", lines)
    finally:
        finish_database(database)
        if drop:
            drop_own_database(args.database)


def _report(sizes: list[int], results: dict, version: str) -> list[str]:
    lines = [
        *machine_lines(version),
        "",
        "`GET /api/v1/exports/claims?status=all` with encryption on (free text decrypted), each size and",
        "format in its own process: one timed run, then one under tracemalloc (the Python heap's peak);",
        "peak RSS is the process's. XLSX is written to a temporary file by openpyxl's write-only",
        "workbook, then streamed.",
        "",
        *table(
            ["Format", "Claims", "Rows/s", "Seconds", "File size", "tracemalloc peak", "Peak RSS"],
            [
                [
                    file_format.upper(),
                    f"{size:,}",
                    f"{size / results[(size, file_format)]['seconds']:,.0f}",
                    f"{results[(size, file_format)]['seconds']:.1f}",
                    f"{results[(size, file_format)]['bytes'] / 2**20:.1f} MiB",
                    f"{results[(size, file_format)]['tracemalloc_peak'] / 2**20:.1f} MiB",
                    f"{results[(size, file_format)]['maxrss_kb'] / 1024:.1f} MiB",
                ]
                for file_format in FORMATS
                for size in sizes
            ],
        ),
        "",
    ]
    smallest, largest = min(sizes), max(sizes)
    for file_format in FORMATS:
        low, high = results[(smallest, file_format)], results[(largest, file_format)]
        ratio = high["tracemalloc_peak"] / low["tracemalloc_peak"]
        verdict = "met" if ratio <= MEMORY_FLAT_TOLERANCE else "NOT met"
        lines.append(
            f"- {file_format.upper()}: the peak at {largest:,} claims is {ratio:.2f}× (tracemalloc) and "
            f"{high['maxrss_kb'] / low['maxrss_kb']:.2f}× (RSS) the peak at {smallest:,}: "
            f"goal (flat memory, at most {MEMORY_FLAT_TOLERANCE}×) {verdict}."
        )
    return lines


if __name__ == "__main__":
    main()
