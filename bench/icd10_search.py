"""Benchmark: the ICD-10-CM code search with the whole code set loaded, against its bare SQL.

    .venv/bin/python bench/icd10_search.py

Loads the whole code set (98,186 codes, 74,719 billable) into a throwaway PostgreSQL database with
``manage.py load_icd10`` (timed, first load and reload), then measures:

(a) the bare SQL of one search: for word prefixes and code prefixes, the statement
    ``billingpulse.codes.search`` runs (captured), run again over a plain psycopg connection.
    Goal: under 20 ms for a word prefix.
(b) the code picker as a person types: each query below typed one character at a time, every
    keystroke a request to ``/codes/icd10/?q=…`` (the HTMX partial) and to ``/api/v1/codes/icd10``,
    through Django's test client as a signed-in user (server time: middleware, session, view,
    query, template or serializer), against the bare SQL of the statements that request ran.
    Goal: within 2× the bare SQL.

It also times the claim import's per-batch lookup (one query for a batch's distinct codes).
Figures go to ``bench/RESULTS.md``; see ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from io import StringIO
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
    stopwatch,
    table,
    write_section,
)

GOAL_WORD_PREFIX_SECONDS = 0.020
GOAL_RATIO = 2.0
WORD_QUERIES = ["diab", "type 2 diab", "hypert", "fract", "fracture femur", "pneumon", "chest pain", "di", "copd"]
CODE_QUERIES = ["e11", "E11.6", "s72.00", "u07", "I1", "Z"]
# Typed one character at a time in (b).
TYPED = ["type 2 diabetes", "hypertension", "fracture of femur", "e11.9", "low back pain"]
IMPORT_BATCH_CODES = 200  # distinct diagnosis codes in one 5,000-row import batch, generously


def bare_time(bare, statements: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for statement in statements:
            bare.execute(statement).fetchall()
        times.append(time.perf_counter() - start)
    return median(times)


def search_sql(query: str) -> tuple[str, int]:
    """The statement ``codes.search(query)`` runs, and how many codes it found."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from billingpulse import codes

    with CaptureQueriesContext(connection) as captured:
        found = codes.search(query)
    [statement] = [q["sql"] for q in captured.captured_queries]
    return statement, len(found)


def measure_search(bare, queries: list[str], repeat: int) -> list[tuple[str, float, int]]:
    results = []
    for query in queries:
        statement, found = search_sql(query)
        bare_time(bare, [statement], 2)  # warm
        results.append((query, bare_time(bare, [statement], repeat), found))
        say(f"bare SQL {query!r}: {ms(results[-1][1])}, {found} codes")
    return results


def served(client, url: str, headers: dict) -> float:
    """Seconds the application takes to answer ``url``: Django's WSGI handler called as a WSGI
    server would call it, with the client's cookies, and the body read, without the test
    client's own work around it (it records every template's context for assertions)."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import RequestFactory

    global _HANDLER
    _HANDLER = _HANDLER or WSGIHandler()
    environ = RequestFactory(SERVER_NAME="localhost")._base_environ(
        PATH_INFO=url.split("?")[0], QUERY_STRING=url.partition("?")[2], REQUEST_METHOD="GET", **headers
    )
    environ["HTTP_COOKIE"] = client.cookies.output(header="", sep="; ").strip()
    start = time.perf_counter()
    body = b"".join(_HANDLER(environ, lambda status, response_headers, exc_info=None: None))
    elapsed = time.perf_counter() - start
    assert body
    return elapsed


_HANDLER = None


def measure_typing(client, bare, path: str, headers: dict, repeat: int) -> dict:
    """Every keystroke of every TYPED query as a request: summed medians of server time (the WSGI
    handler's), of time through the test client, and of bare SQL time."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client_total = server_total = sql_total = 0.0
    keystrokes = queries = 0
    slowest = (0.0, "")
    for text in TYPED:
        for end in range(1, len(text) + 1):
            url = f"{path}?{urlencode({'q': text[:end]})}"
            client.get(url, **headers)  # warm: templates compiled, connection open
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url, **headers)
            assert response.status_code == 200, (url, response.status_code)
            statements = [q["sql"] for q in captured.captured_queries]
            if connection.settings_dict["CONN_HEALTH_CHECKS"]:
                # Served as a WSGI server serves it, a request starts with Django's check of its
                # persistent connection: one more statement, which captured queries do not list.
                statements.insert(0, "SELECT 1")
            server, through_client, sql = [], [], []
            for _ in range(repeat):
                # Alternately, so that all see the same state of the machine.
                server.append(served(client, url, headers))
                start = time.perf_counter()
                client.get(url, **headers)
                through_client.append(time.perf_counter() - start)
                sql.append(bare_time(bare, statements, 1))
            server_total += median(server)
            client_total += median(through_client)
            sql_total += median(sql)
            keystrokes += 1
            queries += len(statements)
            slowest = max(slowest, (median(server), text[:end]))
    return {
        "server": server_total,
        "client": client_total,
        "sql": sql_total,
        "keystrokes": keystrokes,
        "queries": queries / keystrokes,
        "slowest": slowest,
    }


def measure_import_lookup(repeat: int) -> tuple[float, int]:
    """One import batch's code lookup (``CodeBook.with_codes``) for IMPORT_BATCH_CODES billable codes."""
    from billingpulse.codes import CodeBook
    from billingpulse.models import DiagnosisCode, DiagnosisCodeSet

    rng = random.Random(2026)
    billable = list(DiagnosisCode.objects.filter(billable=True).values_list("code", flat=True))
    wanted = rng.sample(billable, IMPORT_BATCH_CODES)
    book = CodeBook(list(DiagnosisCodeSet.objects.all()))
    times = []
    for _ in range(repeat + 2):
        start = time.perf_counter()
        found = book.with_codes(wanted)
        times.append(time.perf_counter() - start)
    assert all(found.check(code).ok for code in wanted)
    return median(times[2:]), len(wanted)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per measurement; medians reported")
    parser.add_argument("--keep", action="store_true", help="keep the billingpulse_bench database")
    parser.add_argument("--no-results", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args()

    database = prepare_database(keep=args.keep)
    setup_django(database.url)
    import psycopg
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from billingpulse.models import DiagnosisCode, Practice, User

    try:
        loads = []
        for _ in range(2):
            with stopwatch() as elapsed:
                call_command("load_icd10", stdout=StringIO())
            loads.append(elapsed[0])
        say(f"load_icd10: first load {loads[0]:.1f} s, reload {loads[1]:.1f} s")
        total = DiagnosisCode.objects.count()
        billable = DiagnosisCode.objects.filter(billable=True).count()

        practice, _ = Practice.objects.get_or_create(name="Bench ICD-10 practice")
        user = User.objects.filter(email="bench-icd10@example.com").first() or User.objects.create_user(
            "bench-icd10@example.com", practice=practice, role=User.Role.STAFF
        )
        client = Client(SERVER_NAME="localhost")
        client.force_login(user)
        token, _ = Token.objects.get_or_create(user=user)
        with psycopg.connect(psycopg_url(database.url), autocommit=True) as bare:
            bare.execute("SET TIME ZONE 'UTC'")
            words = measure_search(bare, WORD_QUERIES, args.repeat)
            code_prefixes = measure_search(bare, CODE_QUERIES, args.repeat)
            picker = measure_typing(client, bare, "/codes/icd10/", {"HTTP_HX_REQUEST": "true"}, args.repeat)
            say(f"picker partial: {picker}")
            api = measure_typing(
                Client(SERVER_NAME="localhost"),
                bare,
                "/api/v1/codes/icd10",
                {"HTTP_AUTHORIZATION": f"Token {token.key}"},
                args.repeat,
            )
            say(f"API: {api}")
        lookup, lookup_codes = measure_import_lookup(args.repeat)
        say(f"import batch lookup of {lookup_codes} codes: {ms(lookup)}")
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        lines = _report(version, args.repeat, loads, total, billable, words, code_prefixes, picker, api, lookup)
        say("\n".join(lines))
        if not args.no_results:
            write_section("icd10_search", "ICD-10-CM code search (G)", lines)
    finally:
        finish_database(database)


def _report(version, repeat, loads, total, billable, words, code_prefixes, picker, api, lookup) -> list[str]:
    worst_word = max(seconds for _query, seconds, _found in words)
    ratios = {"picker": picker["server"] / picker["sql"], "api": api["server"] / api["sql"]}
    worst_ratio = max(ratios.values())

    def typing_row(label: str, figures: dict) -> list[str]:
        keystrokes = figures["keystrokes"]
        return [
            label,
            str(keystrokes),
            f"{figures['queries']:.0f}",
            ms(figures["server"] / keystrokes),
            ms(figures["client"] / keystrokes),
            ms(figures["sql"] / keystrokes),
            f"{figures['server'] / figures['sql']:.2f}×",
            f"{ms(figures['slowest'][0])} (`{figures['slowest'][1]}`)",
        ]

    return [
        *machine_lines(version),
        f"- Command: `.venv/bin/python bench/icd10_search.py` ({repeat} timed runs per figure after warm-up; medians)",
        f"- Data: the whole ICD-10-CM FY2026 (April 1, 2026) code set from simple-icd-10-cm 1.5.0: {total:,} codes, "
        f"{billable:,} billable; `manage.py load_icd10` took {loads[0]:.1f} s (first load) and {loads[1]:.1f} s "
        "(reload, replacing the same version), import of the package and reading included",
        "- Bare SQL: the statement `billingpulse.codes.search` runs (captured), run again over a plain psycopg "
        "connection; limit 20",
        "",
        "(a) One search, bare SQL:",
        "",
        *table(
            ["Query", "Kind", "Bare SQL", "Codes found"],
            [[f"`{q}`", "word prefix", ms(s), n] for q, s, n in words]
            + [[f"`{q}`", "code prefix", ms(s), n] for q, s, n in code_prefixes],
        ),
        "",
        f"**Speed goal (a word prefix under {GOAL_WORD_PREFIX_SECONDS * 1000:.0f} ms): "
        f"{'met' if worst_word <= GOAL_WORD_PREFIX_SECONDS else 'NOT met'}** — the slowest is {ms(worst_word)}.",
        "",
        "(b) Typing, one request per keystroke: "
        + ", ".join(f"`{text}`" for text in TYPED)
        + ". Server time: Django's WSGI handler answering the request of a signed-in user, called as a WSGI "
        "server calls it (every middleware, the view, the template, the body read); beside it, the same request "
        "through `django.test.Client.get`, which adds the test client's own work (it records each rendered "
        "template's context, and skips Django's connection check). Bare SQL: every statement the request sent "
        "(the connection check `SELECT 1` of `CONN_HEALTH_CHECKS`; session, user and practice, search; the API: "
        "token, search), run again over a plain psycopg connection.",
        "",
        *table(
            [
                "Endpoint",
                "Keystrokes",
                "Queries each",
                "Server time each",
                "Through the test client",
                "Bare SQL each",
                "Ratio (server / SQL)",
                "Slowest",
            ],
            [
                typing_row("`/codes/icd10/?q=…` (HTMX partial)", picker),
                typing_row("`/api/v1/codes/icd10?q=…` (JSON)", api),
            ],
        ),
        "",
        f"**Speed goal (server time within {GOAL_RATIO:.0f}× the bare SQL): "
        f"{'met' if worst_ratio <= GOAL_RATIO else 'NOT met'}** — the larger ratio is {worst_ratio:.2f}×.",
        "",
        f"Claim import: one batch's code lookup (`CodeBook.with_codes`, {IMPORT_BATCH_CODES} distinct billable "
        f"codes, one query) takes {ms(lookup)}; the import makes one per batch of 5,000 rows.",
    ]


if __name__ == "__main__":
    main()
