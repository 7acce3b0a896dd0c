"""Benchmark: the claims worklist with 1,000,000 claims, against a floor measured in the same run.

    .venv/bin/python bench/worklist.py

Fills a throwaway PostgreSQL database with five practices of 200,000 claims each (patients and
payers too), with bulk SQL, written in turns so that the practices' rows interleave on disk as in a
shared database, then VACUUM ANALYZE. The floor: the one statement that fetches 50
known claims of the practice with their patient and payer by primary key, run bare over a plain
psycopg connection. For each page below, the worklist view is requested through Django's test
client as a signed-in biller of one practice (server time: middleware, session, view, queries and
template), and the exact SQL statements it ran are captured and run again, bare, the same way:

* the first page (default filters: open claims, latest date of service first);
* each filter: status Denied and one payer, a denial code, follow-ups due, a filing deadline
  within 30 days, a balance 91-120 days old;
* a search for a patient's last name fragment, and one for a claim number fragment;
* a deep page (the page after the 99,950th open claim, as the pager links it).

The goal: each page's SQL within 10x of the floor, and the same number of queries per page
whatever the practice's size (it also counts them for a practice with 10 claims and one with
10,000). The totals line (count and amount of every matching claim) is loaded by a request of
its own after the rows; its time is reported beside the pages. Figures go to
``bench/RESULTS.md``; see ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import (  # noqa: E402
    finish_database,
    machine_lines,
    median,
    ms,
    prepare_database,
    psycopg_url,
    say,
    setup_django,
    table,
    write_section,
)

GOAL_RATIO = 10.0
PRACTICES = 5
CLAIMS_PER_PRACTICE = 200_000
PATIENTS_PER_PRACTICE = 40_000
SMALL_PRACTICES = (10, 10_000)  # for the query count
PAYERS = [  # name, payer ID, timely filing days
    ("Aetna", "60054", 120),
    ("BCBS Texas", "00590", 95),
    ("Cigna", "62308", 90),
    ("UnitedHealthcare", "87726", 90),
    ("Humana", "61101", 365),
    ("Medicare Part B", "04412", 365),
    ("Texas Medicaid", "TXMCD", 95),
    ("Ambetter", "68069", 180),
]
FIRST_NAMES = (
    "{James,Mary,Robert,Patricia,John,Jennifer,Michael,Linda,David,Elizabeth,William,Barbara,Richard,Susan,"
    "Joseph,Jessica,Thomas,Sarah,Charles,Karen,Christopher,Lisa,Daniel,Nancy,Matthew,Betty,Anthony,Sandra,Mark,"
    "Margaret,Donald,Ashley,Steven,Kimberly,Andrew,Emily,Paul,Donna,Joshua,Michelle,Omar,Priya,Wei,Mei,Ana,Jose}"
)
LAST_NAMES = (
    "{Smith,Johnson,Williams,Brown,Jones,Garcia,Miller,Davis,Rodriguez,Martinez,Hernandez,Lopez,Gonzalez,Wilson,"
    "Anderson,Thomas,Taylor,Moore,Jackson,Martin,Lee,Perez,Thompson,White,Harris,Sanchez,Clark,Ramirez,Lewis,"
    "Robinson,Walker,Young,Allen,King,Wright,Scott,Torres,Nguyen,Hill,Flores,Green,Adams,Nelson,Baker,Hall,Rivera,"
    "Campbell,Mitchell,Carter,Roberts,Patel,Kim,Chen,O'Brien,McDonald,Okafor,Kowalski,Schmidt,Rossi,Dubois,Novak,"
    "Haddad,Cohen,Singh,Tanaka,Sato,Murphy,Kelly,Price,Bennett,Wood,Barnes,Ross,Henderson,Coleman,Jenkins,Perry}"
)
# (status, share of claims): 82% open, the rest paid or finished.
STATUSES = [
    ("submitted", 0.30),
    ("denied", 0.20),
    ("in_process", 0.10),
    ("pending_info", 0.05),
    ("accepted", 0.05),
    ("appealed", 0.03),
    ("partially_paid", 0.03),
    ("rejected", 0.02),
    ("reprocessing", 0.02),
    ("not_on_file", 0.02),
    ("paid", 0.12),
    ("closed", 0.04),
    ("written_off", 0.02),
]
DENIAL_CODES = "{CO-16,CO-29,CO-97,CO-50,CO-197,PR-1,PR-2,CO-45}"
PRACTICE_PREFIX = "Bench worklist practice"
SEED = 0.42
_DECLARE = re.compile(r'^DECLARE\s+"[^"]+"\s+(?:NO\s+)?(?:SCROLL\s+)?CURSOR\s+(?:WITH(?:OUT)?\s+HOLD\s+)?FOR\s+', re.I)


# ---------------------------------------------------------------------------- data


def insert_select(model, expressions: dict[str, str], source: str, params: dict) -> int:
    """``INSERT INTO model's table SELECT ...``: the given column expressions, every other column its default."""
    from django.db import connection

    columns, values = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.attname in expressions:
            values.append(expressions[field.attname])
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            values.append("now()")
        else:
            name = f"default_{field.attname}"
            default = field.get_default()
            params[name] = field.get_db_prep_save(default, connection)
            values.append(f"%({name})s")
    missing = set(expressions) - {field.attname for field in model._meta.concrete_fields}
    assert not missing, missing
    sql = f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) SELECT {', '.join(values)} FROM {source}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


ROUNDS = 20  # each practice's rows are written in this many turns, so practices interleave on disk


def create_practice(name: str):
    """A practice with a staff user and the payers; its patients and claims come from ``add_rows``."""
    from billingpulse.models import Practice, User
    from claims.models import Payer

    practice = Practice.objects.create(name=name)
    User.objects.create_user(f"bench-worklist-{practice.pk}@example.com", practice=practice, role=User.Role.STAFF)
    for payer, payer_id, days in PAYERS:
        Payer.objects.create(practice=practice, name=payer, payer_id=payer_id, timely_filing_days=days)
    return practice


def add_rows(practice, claims: int, patients: int, first_number: int) -> None:
    """``patients`` patients and ``claims`` claims of theirs (numbered from ``first_number``), by bulk SQL.

    Claims carry what the ledger would have left on them: paid and balance agree with the status.
    """
    from django.db import connection

    from billingpulse.models import Patient
    from claims.models import Claim, Payer

    payers = list(Payer.objects.filter(practice=practice).order_by("pk"))
    payer_ids = "{" + ",".join(str(payer.pk) for payer in payers) + "}"
    payer_days = "{" + ",".join(str(payer.timely_filing_days) for payer in payers) + "}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM billingpulse_patient")
        before = cursor.fetchone()[0]
    insert_select(
        Patient,
        {
            "practice_id": "%(practice)s",
            "first_name": "(%(first)s::text[])[1 + floor(random() * cardinality(%(first)s::text[]))::int]",
            "last_name": "(%(last)s::text[])[1 + floor(random() * cardinality(%(last)s::text[]))::int]",
            "date_of_birth": "date '1935-01-01' + floor(random() * 30000)::int",
        },
        "generate_series(1, %(count)s) AS g",
        {"practice": practice.pk, "first": FIRST_NAMES, "last": LAST_NAMES, "count": patients},
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT min(id), max(id) FROM billingpulse_patient WHERE practice_id = %s AND id > %s",
            [practice.pk, before],
        )
        first_patient, last_patient = cursor.fetchone()
    status_case, threshold = [], 0.0
    for status, share in STATUSES:
        threshold += share
        status_case.append(f"WHEN s.r_status < {threshold:.4f} THEN '{status}'")
    status_sql = f"(CASE {' '.join(status_case)} ELSE 'submitted' END)"
    source = (
        "(SELECT g, random() AS r_status, random() AS r_date, floor(random() * 8)::int + 1 AS payer, "
        "random() AS r_patient, random() AS r_amount, random() AS r_follow, random() AS r_code "
        "FROM generate_series(1, %(count)s) AS g) AS s"
    )
    # The status, charge and payment are computed once per row in subqueries so every column agrees.
    source = f"(SELECT s.*, {status_sql} AS status FROM {source}) AS s"
    source = (
        "(SELECT s.*, round((20 + s.r_amount * 4980)::numeric, 2) AS charge, "
        "CASE WHEN s.status = 'paid' THEN round((20 + s.r_amount * 4980)::numeric, 2) "
        f"WHEN s.status = 'partially_paid' THEN round((10 + s.r_amount * 100)::numeric, 2) ELSE 0 END AS paid "
        f"FROM {source}) AS s"
    )
    insert_select(
        Claim,
        {
            "practice_id": "%(practice)s",
            "claim_number": "'CLM-' || lpad((%(first_number)s + s.g - 1)::text, 7, '0')",
            "patient_id": "%(first_patient)s + floor(s.r_patient * %(patients)s)::int",
            "payer_id": "(%(payer_ids)s::bigint[])[s.payer]",
            "service_date_from": "current_date - floor(s.r_date * 730)::int",
            "total_charge": "s.charge",
            "paid_amount": "s.paid",
            "balance": "CASE WHEN s.status IN ('closed', 'written_off') THEN 0 ELSE s.charge - s.paid END",
            "status": "s.status",
            "denial_code": "CASE WHEN s.status IN ('denied', 'appealed') "
            "THEN (%(codes)s::text[])[1 + floor(s.r_code * 8)::int] ELSE '' END",
            "next_follow_up_date": "CASE WHEN s.r_follow < 0.4 THEN NULL "
            "ELSE current_date + floor((s.r_follow - 0.4) * 100)::int - 30 END",
            "timely_filing_deadline": ("current_date - floor(s.r_date * 730)::int + (%(payer_days)s::int[])[s.payer]"),
        },
        source,
        {
            "practice": practice.pk,
            "count": claims,
            "first_number": first_number,
            "first_patient": first_patient,
            "patients": last_patient - first_patient + 1,
            "payer_ids": payer_ids,
            "payer_days": payer_days,
            "codes": DENIAL_CODES,
        },
    )


def build_data(database_url: str) -> None:
    """The practices' rows written in turns, so that on disk they interleave as in a shared database."""
    from django.db import connection, transaction

    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [SEED])
    practices = [create_practice(f"{PRACTICE_PREFIX} {number}") for number in range(1, PRACTICES + 1)]
    claims, patients = CLAIMS_PER_PRACTICE // ROUNDS, PATIENTS_PER_PRACTICE // ROUNDS
    for turn in range(ROUNDS):
        with transaction.atomic():
            for practice in practices:
                add_rows(practice, claims, patients, first_number=turn * claims + 1)
        say(
            f"  turn {turn + 1} of {ROUNDS}: {(turn + 1) * claims * PRACTICES:,} claims "
            f"({time.perf_counter() - start:.0f} s)"
        )
    for count in SMALL_PRACTICES:
        with transaction.atomic():
            add_rows(create_practice(f"{PRACTICE_PREFIX} with {count}"), count, max(count // 5, 2), first_number=1)
    connection.close()
    import psycopg

    with psycopg.connect(psycopg_url(database_url), autocommit=True) as bare:
        for name in ("claims_claim", "billingpulse_patient", "claims_payer", "billingpulse_practice"):
            bare.execute(f"VACUUM ANALYZE {name}")
    say(f"  data ready in {time.perf_counter() - start:.0f} s")


def existing_data() -> bool:
    from claims.models import Claim

    return Claim.objects.filter(practice__name=f"{PRACTICE_PREFIX} 1").count() == CLAIMS_PER_PRACTICE


# ---------------------------------------------------------------------------- measuring


def bare_time(bare, statements: list[str]) -> float:
    start = time.perf_counter()
    for statement in statements:
        bare.execute(statement).fetchall()
    return time.perf_counter() - start


def bare_median(bare, statements: list[str], repeat: int) -> float:
    """The median time of ``statements`` run bare, after two warm-up runs: the floor and the pages alike."""
    for _ in range(2):
        bare_time(bare, statements)
    return median([bare_time(bare, statements) for _ in range(repeat * 3)])


def measure_page(client, url: str, bare, repeat: int, headers: dict | None = None) -> dict:
    """Server time of ``url`` (median), its SQL statements, and their bare time (measured like the floor)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    headers = headers or {}
    for _ in range(2):  # warm: templates compiled, connection open, caches filled
        response = client.get(url, **headers)
        assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **headers)
    # Django reads a ModelChoiceField's choices through a server-side cursor (DECLARE … FOR SELECT, then
    # FETCHes that are not captured); the bare baseline runs that SELECT directly.
    statements = [_DECLARE.sub("", query["sql"]) for query in captured.captured_queries]
    server = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(url, **headers)
        server.append(time.perf_counter() - start)
    rows = response.content.count(b'class="claim-link mono"')
    return {
        "server": median(server),
        # Run in a row, as the floor is: right after a request the first statement also pays for waking
        # the idle connection and server process, which the floor never does.
        "sql": bare_median(bare, statements, repeat),
        "queries": len(statements),
        "statements": statements,
        "rows": rows,
    }


def measure_floor(practice, bare, repeat: int) -> dict:
    """The floor: 50 known claims of the practice with their patient and payer, by primary key."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from claims.models import Claim
    from claims.worklist import worklist_rows

    pks = list(Claim.objects.filter(practice=practice).order_by("?").values_list("pk", flat=True)[:50])
    query = worklist_rows(Claim.objects.filter(pk__in=pks))
    with CaptureQueriesContext(connection) as captured:
        list(query)
    return {"sql": bare_median(bare, [captured.captured_queries[0]["sql"]], repeat)}


def deep_cursor(practice, position: int) -> int:
    """The claim at ``position`` of the open claims in the default order (what "Next" links after)."""
    from claims.models import Claim
    from claims.worklist import DEFAULT_SORT, OPEN_STATUSES, sort_claims

    open_claims = Claim.objects.filter(practice=practice, status__in=OPEN_STATUSES)
    return sort_claims(open_claims, DEFAULT_SORT).values_list("pk", flat=True)[position - 1]


def count_queries(client) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get("/claims/")
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/claims/").status_code == 200
    return len(captured.captured_queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed requests per page; medians reported")
    parser.add_argument("--keep", action="store_true", help="keep the billingpulse_bench database and its data")
    parser.add_argument("--reuse", action="store_true", help="reuse the data of an earlier --keep run")
    parser.add_argument("--no-results", action="store_true", help="print only; leave RESULTS.md alone")
    parser.add_argument("--show-sql", action="store_true", help="print each page's SQL and its plan")
    args = parser.parse_args()

    database = prepare_database(keep=args.keep or args.reuse, reuse=args.reuse)
    setup_django(database.url)
    import psycopg
    from django.db import connection
    from django.test import Client

    from billingpulse.models import Practice, User
    from claims.models import Claim, Payer

    try:
        if args.reuse and existing_data():
            say("Reusing the data of an earlier run.")
        else:
            say(
                f"Building {PRACTICES} practices × {CLAIMS_PER_PRACTICE:,} claims "
                f"(+ {' and '.join(f'{n:,}' for n in SMALL_PRACTICES)} for the query count) …"
            )
            build_data(database.url)
        practice = Practice.objects.get(name=f"{PRACTICE_PREFIX} 1")
        user = User.objects.get(practice=practice)
        client = Client(SERVER_NAME="localhost")
        client.force_login(user)
        total_claims = Claim.objects.count()
        in_practice = Claim.objects.filter(practice=practice).count()
        denied_payer = Payer.objects.get(practice=practice, payer_id="62308")
        deep = 99_950
        pages = [
            ("First page (open claims, newest first)", {}),
            ("Filter: status Denied + payer Cigna", {"status": "denied", "payer": denied_payer.pk}),
            ("Filter: denial code CO-197", {"denial_code": "CO-197"}),
            ("Filter: follow-up due", {"follow_up": "due"}),
            ("Filter: filing deadline within 30 days", {"deadline": 30}),
            ("Filter: balance owed 91–120 days", {"age": "91-120"}),
            ("Search: patient last name fragment 'rtine'", {"q": "rtine"}),
            ("Search: claim number fragment '12345'", {"q": "12345"}),
            (f"Deep page: after the {deep:,}th open claim", {"after": deep_cursor(practice, deep), "start": deep + 1}),
        ]
        results = []
        with psycopg.connect(psycopg_url(database.url), autocommit=True) as bare:
            bare.execute("SET TIME ZONE 'UTC'")
            floor = measure_floor(practice, bare, args.repeat)
            say(f"Floor (50 claims with patient and payer by primary key): {ms(floor['sql'])}")
            for label, query in pages:
                url = "/claims/" + (f"?{urlencode(query)}" if query else "")
                figures = measure_page(client, url, bare, args.repeat)
                totals_url = "/claims/totals/" + (f"?{urlencode(query)}" if query else "")
                figures["totals"] = measure_page(client, totals_url, bare, args.repeat, {"HTTP_HX_REQUEST": "true"})
                results.append((label, url, figures))
                say(
                    f"{label}: server {ms(figures['server'])}, SQL {ms(figures['sql'])} "
                    f"({figures['queries']} queries), {figures['sql'] / floor['sql']:.1f}× the floor, "
                    f"{figures['rows']} rows shown; totals {ms(figures['totals']['server'])}"
                )
                if args.show_sql:
                    for statement in figures["statements"]:
                        say("   ", statement)
                        plan = bare.execute("EXPLAIN ANALYZE " + statement).fetchall()
                        say("\n".join("      " + line for (line,) in plan))
        counts = {}
        for claims in SMALL_PRACTICES:
            small = Practice.objects.get(name=f"{PRACTICE_PREFIX} with {claims}")
            small_client = Client(SERVER_NAME="localhost")
            small_client.force_login(User.objects.get(practice=small))
            counts[claims] = count_queries(small_client)
        counts[in_practice] = count_queries(client)
        say("Queries per worklist page: " + ", ".join(f"{n:,} claims: {q}" for n, q in counts.items()))
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        lines = _report(results, floor, counts, total_claims, in_practice, version, args.repeat)
        say("\n".join(lines))
        if not args.no_results:
            write_section("worklist", "Claims worklist (B)", lines)
    finally:
        finish_database(database)


def _report(
    results: list, floor: dict, counts: dict, total: int, in_practice: int, version: str, repeat: int
) -> list[str]:
    worst = max(figures["sql"] / floor["sql"] for _label, _url, figures in results)
    same_count = len(set(counts.values())) == 1
    return [
        *machine_lines(version),
        f"- Command: `.venv/bin/python bench/worklist.py` ({repeat} requests per page after 2 warm-up ones; medians)",
        f"- Data: {total:,} claims in the database, {in_practice:,} in the benchmark practice "
        f"({PATIENTS_PER_PRACTICE:,} patients, {len(PAYERS)} payers per practice); VACUUM ANALYZE after loading",
        f"- Floor: 50 known claims of the practice with their patient and payer by primary key, bare SQL: "
        f"**{ms(floor['sql'])}**",
        "- Page SQL: the statements the view ran (captured: session, user, filters' payers, rows, badges), run "
        f"again bare over a plain psycopg connection, like the floor: after two warm-up runs, {repeat * 3} runs in "
        "a row, median. Server time: `django.test.Client.get` as a signed-in "
        "staff user (middleware, session, view, template). Totals: the separate request for the totals line.",
        "",
        *table(
            ["Page", "Page SQL", "× floor", "Server time", "Queries", "Rows shown", "Totals (server)"],
            [
                [
                    f"{label} `{url}`",
                    ms(figures["sql"]),
                    f"{figures['sql'] / floor['sql']:.1f}×",
                    ms(figures["server"]),
                    figures["queries"],
                    figures["rows"],
                    ms(figures["totals"]["server"]),
                ]
                for label, url, figures in results
            ],
        ),
        "",
        f"**Speed goal (each page's SQL within {GOAL_RATIO:.0f}× the floor): "
        f"{'met' if worst <= GOAL_RATIO else 'NOT met'}** — the largest is {worst:.1f}×.",
        "",
        "Queries per worklist page (the page size is fixed at 50, so practices of different sizes are compared): "
        + ", ".join(f"{claims:,} claims → {queries}" for claims, queries in counts.items())
        + f". **{'Same count' if same_count else 'NOT the same count'}.**",
    ]


if __name__ == "__main__":
    main()
