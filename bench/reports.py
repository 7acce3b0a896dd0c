"""Benchmark: the four reports over a practice of 1,000,000 claims, against the bare SQL behind them.

    .venv/bin/python bench/reports.py                 # 1,000,000 claims (the goal's size)
    .venv/bin/python bench/reports.py --claims 200000 # a smaller run that finishes in a few minutes
    .venv/bin/python bench/reports.py --database billingpulse_bench_dash --claims 5000  # another database

Fills a throwaway PostgreSQL database (``billingpulse_bench_reports``, its own name so that other
benchmarks' databases are never touched) with one practice of ``--claims`` claims, written by bulk
SQL the way ``bench/worklist.py`` writes them: patients, payers, providers, a service line per claim,
the ledger (a charge posting per claim, an insurance payment for paid and partially paid claims),
calls for one claim in ten (ended, failed, with costs, durations and outcomes) and follow-up calls;
then VACUUM ANALYZE. A second practice of 1,000 claims gives the query count at another size.

For each report, the page (``/reports/...``, charts and tables rendered) and the API answer
(``/api/v1/reports/...``) are requested through Django's test client as a signed-in biller
(server time: middleware, session, view, queries, template or JSON), and the exact SQL statements
each ran are captured and run again, bare, over a plain psycopg connection (the baseline).
The goal is each within 2× of its bare SQL. The dashboard (``/``: AR by payer and age, denials this
month, today's calls, revenue recovered, follow-ups, the review queue and the inbox's count) is
measured the same way, with the goal of its whole page within 5× of the bare SQL it ran. Figures go
to the ``reports`` section of ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import (  # noqa: E402
    drop_own_database,
    finish_database,
    machine_lines,
    ms,
    own_database,
    psycopg_url,
    say,
    setup_django,
    signed_in,
    table,
    write_section,
)
from worklist import FIRST_NAMES, LAST_NAMES, PAYERS, STATUSES, insert_select, measure_page  # noqa: E402

GOAL_RATIO = 2.0
DASHBOARD_GOAL_RATIO = 5.0
DASHBOARD = ("Dashboard", "/")
DB_NAME = "billingpulse_bench_reports"
PRACTICE_NAME = "Bench reports practice"
SMALL_CLAIMS = 1_000
DENIAL_CODES = "{CO-16,CO-29,CO-97,CO-50,CO-197,PR-1,PR-2,CO-45}"
CPT_CODES = "{99213,99214,99203,99204,93000,80053,36415,99395,90471,97110}"
FAILURES = "{no_answer,voicemail,ivr_failure,hold_too_long,payer_refused,provider_error}"
OUTCOMES = "{resolved,follow_up,action_required,failed}"
SEED = 0.17
REPORTS = [
    ("Denial trends, 90 days", "/reports/denial-trends/?days=90", "/api/v1/reports/denial-trends?days=90"),
    ("Denial trends, 365 days", "/reports/denial-trends/?days=365", "/api/v1/reports/denial-trends?days=365"),
    ("Payer performance, 90 days", "/reports/payer-performance/?days=90", "/api/v1/reports/payer-performance?days=90"),
    ("AR aging", "/reports/ar-aging/", "/api/v1/reports/ar-aging"),
    (
        "Calling operations, 90 days",
        "/reports/calling-operations/?days=90",
        "/api/v1/reports/calling-operations?days=90",
    ),
]


# ---------------------------------------------------------------------------- data


def create_practice(name: str, claims: int):
    """A practice with a user, payers, providers, patients, claims, lines, ledger and calls, by bulk SQL."""
    from django.db import connection, transaction

    from billing.models import JournalTransaction, LedgerEntry
    from billingpulse.models import Patient, Practice, Provider, User
    from claims.models import Claim, ClaimLine, Payer
    from telephony.models import Call, ScheduledCall

    def scalar(sql: str, params: list) -> object:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]

    with transaction.atomic():
        practice = Practice.objects.create(name=name, time_zone="America/Chicago")
        user = User.objects.create_user(
            f"bench-reports-{practice.pk}@example.com", practice=practice, role=User.Role.STAFF
        )
        payers = [
            Payer.objects.create(practice=practice, name=payer, payer_id=payer_id, timely_filing_days=days)
            for payer, payer_id, days in PAYERS
        ]
        providers = [
            Provider.objects.create(practice=practice, first_name=first, last_name=last, credentials="MD", npi=npi)
            for first, last, npi in [
                ("Ana", "Ruiz", "1234567893"),
                ("Wei", "Chen", "1245319599"),
                ("Sam", "Okafor", "1659318442"),
                ("Lena", "Novak", "1003000126"),
            ]
        ]
        with connection.cursor() as cursor:
            cursor.execute("SELECT setseed(%s)", [SEED])
        insert_select(
            Patient,
            {
                "practice_id": "%(practice)s",
                "first_name": "(%(first)s::text[])[1 + floor(random() * cardinality(%(first)s::text[]))::int]",
                "last_name": "(%(last)s::text[])[1 + floor(random() * cardinality(%(last)s::text[]))::int]",
                "date_of_birth": "date '1935-01-01' + floor(random() * 30000)::int",
            },
            "generate_series(1, %(count)s) AS g",
            {"practice": practice.pk, "first": FIRST_NAMES, "last": LAST_NAMES, "count": max(claims // 5, 2)},
        )
        first_patient = scalar("SELECT min(id) FROM billingpulse_patient WHERE practice_id = %s", [practice.pk])
        last_patient = scalar("SELECT max(id) FROM billingpulse_patient WHERE practice_id = %s", [practice.pk])
        status_case, threshold = [], 0.0
        for status, share in STATUSES:
            threshold += share
            status_case.append(f"WHEN s.r_status < {threshold:.4f} THEN '{status}'")
        status_sql = f"(CASE {' '.join(status_case)} ELSE 'submitted' END)"
        source = (
            "(SELECT g, random() AS r_status, random() AS r_date, floor(random() * 8)::int + 1 AS payer, "
            "floor(random() * 5)::int AS provider, random() AS r_patient, random() AS r_amount, "
            "random() AS r_follow, random() AS r_code FROM generate_series(1, %(count)s) AS g) AS s"
        )
        charge = "round((20 + s.r_amount * 4980)::numeric, 2)"
        source = f"(SELECT s.*, {status_sql} AS status, {charge} AS charge FROM {source}) s"
        paid = (
            "CASE WHEN s.status = 'paid' THEN s.charge "
            "WHEN s.status = 'partially_paid' THEN round(s.charge * 0.4, 2) ELSE 0 END"
        )
        insert_select(
            Claim,
            {
                "practice_id": "%(practice)s",
                "claim_number": "'CLM-' || lpad(s.g::text, 7, '0')",
                "patient_id": "%(first_patient)s + floor(s.r_patient * %(patients)s)::int",
                "payer_id": "(%(payer_ids)s::bigint[])[s.payer]",
                # One provider in five claims is missing: "No provider on the claim".
                "provider_id": "(%(provider_ids)s::bigint[])[NULLIF(s.provider, 4) + 1]",
                "service_date_from": "current_date - floor(s.r_date * 730)::int",
                "total_charge": "s.charge",
                "paid_amount": paid,
                "balance": f"s.charge - {paid}",
                "status": "s.status",
                "denial_code": "CASE WHEN s.status IN ('denied', 'appealed') OR s.r_code < 0.05 "
                "THEN (%(codes)s::text[])[1 + floor(s.r_code * 8)::int] ELSE '' END",
                "next_follow_up_date": "CASE WHEN s.r_follow < 0.4 THEN NULL "
                "ELSE current_date + floor((s.r_follow - 0.4) * 100)::int - 30 END",
            },
            source,
            {
                "practice": practice.pk,
                "count": claims,
                "first_patient": first_patient,
                "patients": last_patient - first_patient + 1,
                "payer_ids": "{" + ",".join(str(payer.pk) for payer in payers) + "}",
                "provider_ids": "{" + ",".join(str(provider.pk) for provider in providers) + "}",
                "codes": DENIAL_CODES,
            },
        )
        claim_rows = f"(SELECT * FROM claims_claim WHERE practice_id = {practice.pk}) AS c"
        insert_select(
            ClaimLine,
            {
                "claim_id": "c.id",
                "line_number": "1",
                "procedure_code": "(%(cpt)s::text[])[1 + (c.id %% 10)::int]",
                "charge": "c.total_charge",
                "service_date": "c.service_date_from",
            },
            claim_rows,
            {"cpt": CPT_CODES},
        )
        # The ledger: a charge for every claim, and the insurance payment of paid and partly paid claims.
        insert_select(
            JournalTransaction,
            {
                "practice_id": "c.practice_id",
                "kind": "'charge'",
                "source": "'import'",
                "claim_id": "c.id",
                "patient_id": "c.patient_id",
                "amount": "c.total_charge",
                "effective_date": "c.service_date_from",
                "idempotency_key": "'bench-charge-' || c.id",
                "content_hash": "''",
            },
            claim_rows,
            {},
        )
        insert_select(
            JournalTransaction,
            {
                "practice_id": "c.practice_id",
                "kind": "'payment'",
                "source": "'era'",
                "claim_id": "c.id",
                "patient_id": "c.patient_id",
                "amount": "c.paid_amount",
                "effective_date": "LEAST(current_date, c.service_date_from + 10 + (c.id %% 50)::int)",
                "idempotency_key": "'bench-payment-' || c.id",
                "content_hash": "''",
            },
            f"(SELECT * FROM claims_claim WHERE practice_id = {practice.pk} AND paid_amount > 0) AS c",
            {},
        )
        transactions = f"(SELECT * FROM billing_journaltransaction WHERE practice_id = {practice.pk}) AS t"
        for account, sign, kind in [
            ("primary_ar", "", "charge"),
            ("charges", "-", "charge"),
            ("cash", "", "payment"),
            ("primary_ar", "-", "payment"),
        ]:
            insert_select(
                LedgerEntry,
                {
                    "practice_id": "t.practice_id",
                    "transaction_id": "t.id",
                    "account": f"'{account}'",
                    "amount": f"{sign}t.amount",
                    "claim_id": "t.claim_id",
                    "patient_id": "t.patient_id",
                },
                f"{transactions} WHERE t.kind = '{kind}'",
                {},
            )
        # Calls about one claim in ten, placed over the last year; ended mostly, some failed.
        call_source = (
            "(SELECT c.*, random() AS r_when, random() AS r_status, random() AS r_outcome, random() AS r_fail "
            f"FROM claims_claim c WHERE c.practice_id = {practice.pk} AND c.id %% 10 = 0) AS c"
        )
        status = "CASE WHEN c.r_status < 0.08 THEN 'failed' WHEN c.r_status < 0.1 THEN 'canceled' ELSE 'ended' END"
        created = "now() - (c.r_when * interval '365 days')"
        insert_select(
            Call,
            {
                "practice_id": "c.practice_id",
                "claim_id": "c.id",
                "payer_id": "c.payer_id",
                "provider": "'sandbox'",
                "status": status,
                "created_at": created,
                "placed_at": created,
                "ended_at": f"{created} + interval '12 minutes'",
                "duration_seconds": "CASE WHEN c.r_status >= 0.1 THEN 120 + floor(c.r_fail * 1500)::int END",
                "cost": "CASE WHEN c.r_status >= 0.1 THEN round((0.05 + c.r_fail * 2)::numeric, 4) END",
                "failure_category": "CASE WHEN c.r_status < 0.08 THEN 'provider_error' "
                "WHEN c.r_status >= 0.1 AND c.r_fail < 0.3 "
                "THEN (%(failures)s::text[])[1 + floor(c.r_fail * 20)::int] ELSE '' END",
                "outcome": "CASE WHEN c.r_status >= 0.1 THEN jsonb_build_object('call_outcome', "
                "(%(outcomes)s::text[])[1 + floor(c.r_outcome * 4)::int]) ELSE '{}'::jsonb END",
                # The outcome's code, in its own column as Call.save keeps it (the report counts on it).
                "call_outcome": "CASE WHEN c.r_status >= 0.1 "
                "THEN (%(outcomes)s::text[])[1 + floor(c.r_outcome * 4)::int] ELSE '' END",
                "review_status": "CASE WHEN c.r_outcome > 0.99 THEN 'pending' ELSE '' END",
            },
            call_source,
            {"failures": FAILURES, "outcomes": OUTCOMES},
        )
        insert_select(
            ScheduledCall,
            {
                "practice_id": "c.practice_id",
                "claim_id": "c.id",
                "call_after": "now() + ((c.id %% 20) - 10) * interval '1 day'",
                "status": "'pending'",
            },
            f"(SELECT * FROM claims_claim WHERE practice_id = {practice.pk} AND id %% 50 = 0) AS c",
            {},
        )
    return practice, user


def build_data(database_url: str, claims: int) -> None:
    from django.db import connection

    start = time.perf_counter()
    create_practice(PRACTICE_NAME, claims)
    say(f"  {claims:,} claims with their ledger and calls ({time.perf_counter() - start:.0f} s)")
    create_practice(f"{PRACTICE_NAME} with {SMALL_CLAIMS}", SMALL_CLAIMS)
    connection.close()
    import psycopg

    with psycopg.connect(psycopg_url(database_url), autocommit=True) as bare:
        bare.execute("VACUUM ANALYZE")
    say(f"  data ready in {time.perf_counter() - start:.0f} s")


# ---------------------------------------------------------------------------- measuring


def count_queries(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=1_000_000, help="claims in the measured practice")
    parser.add_argument("--repeat", type=int, default=5, help="timed requests per report; medians reported")
    parser.add_argument("--database", default=DB_NAME, help=f"the database to fill and measure (default {DB_NAME})")
    parser.add_argument("--keep", action="store_true", help="keep the database and its data")
    parser.add_argument("--reuse", action="store_true", help="reuse the data of an earlier --keep run")
    parser.add_argument("--no-results", action="store_true", help="print only; leave RESULTS.md alone")
    parser.add_argument("--show-sql", action="store_true", help="print each report's SQL and its plan")
    args = parser.parse_args()

    database, drop = own_database(args.database, keep=args.keep or args.reuse, reuse=args.reuse)
    setup_django(database.url)
    import psycopg
    from django.core.management import call_command
    from django.db import connection

    # The dashboard reads the worker's heartbeat from the cache: without Redis, the database's table.
    call_command("createcachetable")

    from billing.models import LedgerEntry
    from billingpulse.models import Practice, User
    from claims.models import Claim
    from telephony.models import Call

    try:
        practice = Practice.objects.filter(name=PRACTICE_NAME).first()
        if args.reuse and practice and Claim.objects.filter(practice=practice).count() == args.claims:
            say("Reusing the data of an earlier run.")
        else:
            say(f"Building a practice of {args.claims:,} claims (+ {SMALL_CLAIMS:,} for the query count) …")
            build_data(database.url, args.claims)
            practice = Practice.objects.get(name=PRACTICE_NAME)
        client = signed_in(User.objects.get(practice=practice))
        sizes = {
            "claims": Claim.objects.filter(practice=practice).count(),
            "entries": LedgerEntry.objects.filter(practice=practice).count(),
            "calls": Call.objects.filter(practice=practice).count(),
        }
        results = []
        with psycopg.connect(psycopg_url(database.url), autocommit=True) as bare:
            bare.execute("SET TIME ZONE 'UTC'")
            for label, page, api in REPORTS:
                for kind, url in (("page", page), ("API", api)):
                    figures = measure_page(client, url, bare, args.repeat)
                    results.append((label, kind, url, figures))
                    say(
                        f"{label} ({kind}): server {ms(figures['server'])}, bare SQL {ms(figures['sql'])} "
                        f"({figures['queries']} queries), ratio {figures['server'] / figures['sql']:.2f}"
                    )
                    if args.show_sql and kind == "API":
                        for statement in figures["statements"]:
                            say("   ", statement)
                            for (line,) in bare.execute("EXPLAIN ANALYZE " + statement).fetchall():
                                say("      " + line)
            label, url = DASHBOARD
            dashboard = measure_page(client, url, bare, args.repeat)
            say(
                f"{label}: server {ms(dashboard['server'])}, bare SQL {ms(dashboard['sql'])} "
                f"({dashboard['queries']} queries), ratio {dashboard['server'] / dashboard['sql']:.2f}"
            )
            if args.show_sql:
                for statement in dashboard["statements"]:
                    say("   ", statement)
                    for (line,) in bare.execute("EXPLAIN ANALYZE " + statement).fetchall():
                        say("      " + line)
        small = Practice.objects.get(name=f"{PRACTICE_NAME} with {SMALL_CLAIMS}")
        small_client = signed_in(User.objects.get(practice=small))
        counts = [
            (label, count_queries(small_client, api), count_queries(client, api)) for label, _page, api in REPORTS
        ]
        counts.append((DASHBOARD[0], count_queries(small_client, DASHBOARD[1]), count_queries(client, DASHBOARD[1])))
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        lines = _report(results, dashboard, counts, sizes, version, args)
        say("\n".join(lines))
        if not args.no_results:
            write_section("reports", "Reports (issue 14)", lines)
    finally:
        finish_database(database)
        if drop:
            drop_own_database(args.database)


def _report(results: list, dashboard: dict, counts: list, sizes: dict, version: str, args) -> list[str]:
    worst = max(figures["server"] / figures["sql"] for *_rest, figures in results)
    dashboard_ratio = dashboard["server"] / dashboard["sql"]
    same = all(small == large for _label, small, large in counts)
    size_note = (
        "the goal's size"
        if args.claims >= 1_000_000
        else "**not the goal's 1,000,000**: run `bench/reports.py` (default `--claims 1000000`) for that"
    )
    return [
        *machine_lines(version),
        f"- Command: `.venv/bin/python bench/reports.py --claims {args.claims}` ({args.repeat} requests per "
        "report after 2 warm-up ones; medians)",
        f"- Data: one practice of {sizes['claims']:,} claims ({size_note}), {sizes['entries']:,} ledger entries, "
        f"{sizes['calls']:,} calls, {len(PAYERS)} payers; dates of service over two years; VACUUM ANALYZE after "
        "loading",
        "- Server time: `django.test.Client.get` as a signed-in staff user (middleware, session, view, queries, "
        "charts and template, or JSON). Bare SQL: the statements the request ran (captured), run again over a "
        "plain psycopg connection.",
        "",
        *table(
            ["Report", "Answer", "Server time", "Bare SQL", "Ratio", "Queries"],
            [
                [
                    f"{label} `{url}`",
                    kind,
                    ms(figures["server"]),
                    ms(figures["sql"]),
                    f"{figures['server'] / figures['sql']:.2f}×",
                    figures["queries"],
                ]
                for label, kind, url, figures in [*results, (DASHBOARD[0], "page", DASHBOARD[1], dashboard)]
            ],
        ),
        "",
        f"**Speed goal (within {GOAL_RATIO:.0f}× the bare SQL): {'met' if worst <= GOAL_RATIO else 'NOT met'}** "
        f"— the largest ratio is {worst:.2f}×.",
        "",
        f"**Dashboard goal (the whole page within {DASHBOARD_GOAL_RATIO:.0f}× the bare SQL it ran): "
        f"{'met' if dashboard_ratio <= DASHBOARD_GOAL_RATIO else 'NOT met'}** — {dashboard_ratio:.2f}× "
        f"({ms(dashboard['server'])} against {ms(dashboard['sql'])}, {dashboard['queries']} queries).",
        "",
        f"Queries per API request (the dashboard: per page), {SMALL_CLAIMS:,} claims → {sizes['claims']:,} claims: "
        + ", ".join(f"{label} {small} → {large}" for label, small, large in counts)
        + f". **{'Same count' if same else 'NOT the same count'}.**",
    ]


if __name__ == "__main__":
    main()
