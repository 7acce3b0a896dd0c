"""What both benchmarks share: a throwaway PostgreSQL database, Django set-up, timing and RESULTS.md.

A benchmark script calls ``prepare_database`` and ``setup_django`` before it imports any model,
and ``finish_database`` at the end. Without ``DATABASE_URL`` a database named
``billingpulse_bench`` is created on 127.0.0.1:5432 (user postgres), migrated with
``manage.py migrate`` and dropped afterwards unless ``--keep`` is given.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"
DEFAULT_DB_NAME = "billingpulse_bench"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def say(*parts: object) -> None:
    sys.stdout.write(" ".join(str(part) for part in parts) + "\n")
    sys.stdout.flush()


# ---------------------------------------------------------------------------- database


@dataclass
class Database:
    url: str
    created: bool  # billingpulse_bench, created by the benchmark: its tables may be emptied at will
    drop: bool  # dropped at the end (created here and not --keep)


def prepare_database(*, keep: bool, reuse: bool = False) -> Database:
    """The database to use: ``DATABASE_URL``, or a fresh ``billingpulse_bench``; migrated either way.

    With ``reuse`` an existing ``billingpulse_bench`` is kept as it is (for a run after ``--keep``).
    """
    given = os.environ.get("DATABASE_URL")
    if given:
        database = Database(given, created=False, drop=False)
    else:
        import psycopg

        url = f"{DEFAULT_SERVER}/{DEFAULT_DB_NAME}"
        with psycopg.connect(f"{DEFAULT_SERVER}/postgres", autocommit=True) as connection:
            exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DEFAULT_DB_NAME]).fetchone()
            if exists and not reuse:
                connection.execute(f'DROP DATABASE "{DEFAULT_DB_NAME}" WITH (FORCE)')
            if not exists or not reuse:
                connection.execute(f'CREATE DATABASE "{DEFAULT_DB_NAME}"')
        database = Database(url, created=True, drop=not keep)
    say(f"Database: {_without_password(database.url)}; migrating …")
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--no-input", "-v", "0"],
        env=django_environment(database.url),
        check=True,
        cwd=ROOT,
    )
    return database


def finish_database(database: Database) -> None:
    """Drop the throwaway database (unless kept) and remove the temporary VAR_DIR (uploads)."""
    from django.db import connections

    connections.close_all()
    if _VAR_DIR and _VAR_DIR_MADE_HERE:
        shutil.rmtree(_VAR_DIR, ignore_errors=True)
    if not database.drop:
        return
    import psycopg

    with psycopg.connect(f"{DEFAULT_SERVER}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DEFAULT_DB_NAME}" WITH (FORCE)')
    say(f"Dropped database {DEFAULT_DB_NAME}.")


_VAR_DIR: str | None = None
_VAR_DIR_MADE_HERE = False


def django_environment(database_url: str) -> dict[str, str]:
    """The environment for Django in this process and in child processes: a temporary VAR_DIR."""
    global _VAR_DIR, _VAR_DIR_MADE_HERE
    if _VAR_DIR is None:
        _VAR_DIR = os.environ.get("BENCH_VAR_DIR")
        if not _VAR_DIR:
            # Child processes get it through BENCH_VAR_DIR; the process that made it removes it.
            _VAR_DIR, _VAR_DIR_MADE_HERE = tempfile.mkdtemp(prefix="billingpulse-bench-"), True
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="billingpulse.settings",
        DATABASE_URL=database_url,
        VAR_DIR=_VAR_DIR,
        BENCH_VAR_DIR=_VAR_DIR,
        MEDIA_ROOT=str(Path(_VAR_DIR) / "media"),
        APP_ENV="development",
        # As deployed: no query log kept in memory, no debug pages.
        DEBUG="false",
        LOG_LEVEL="WARNING",
    )
    # A Redis cache is not what is being measured; the database cache is not used by these paths.
    env.pop("REDIS_URL", None)
    return env


def setup_django(database_url: str) -> None:
    os.environ.update(django_environment(database_url))
    import django

    django.setup()


def psycopg_url(database_url: str) -> str:
    """A URL libpq understands (``postgres://``), from a Django-style ``DATABASE_URL``."""
    parsed = urlparse(database_url)
    return urlunparse(parsed._replace(scheme="postgresql"))


def _without_password(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


# ---------------------------------------------------------------------------- timing


@contextmanager
def stopwatch() -> Iterable[list[float]]:
    """``with stopwatch() as elapsed: ...`` then ``elapsed[0]`` is the seconds taken."""
    result: list[float] = []
    start = time.perf_counter()
    try:
        yield result
    finally:
        result.append(time.perf_counter() - start)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def repeat(times: int, run: Callable[[], float]) -> list[float]:
    return [run() for _ in range(times)]


# ---------------------------------------------------------------------------- reporting


def machine_lines(postgres_version: str | None, *, software: str | None = None) -> list[str]:
    """Date, machine, software and load lines for a section: PostgreSQL and Django, or ``software``."""
    memory_kb = 0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        match = re.search(r"MemTotal:\s+(\d+)", meminfo.read_text())
        memory_kb = int(match[1]) if match else 0
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        match = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        cpu = match[1].strip() if match else cpu
    if software is None:
        import django

        software = f"PostgreSQL {postgres_version}; Python {platform.python_version()}; Django {django.get_version()}"
    return [
        f"- Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {os.cpu_count()} CPUs ({cpu}), {memory_kb / 1024 / 1024:.1f} GiB RAM, {platform.system()}",
        f"- {software}",
        # Other work on the machine slows every figure; the ratios, measured side by side, suffer less.
        f"- Load average when written (1, 5, 15 min): {', '.join(f'{load:.2f}' for load in os.getloadavg())}",
    ]


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    """A Markdown table; also readable as plain text in a terminal."""
    rows = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in rows)) if rows else len(str(h)) for i, h in enumerate(headers)]
    lines = ["| " + " | ".join(str(h).ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"]
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows]
    return lines


def write_section(name: str, title: str, lines: list[str]) -> None:
    """Put this benchmark's section into RESULTS.md, replacing its previous one."""
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    section = "\n".join([start, f"## {title}", "", *lines, end])
    text = RESULTS.read_text() if RESULTS.exists() else _RESULTS_HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _m: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text.rstrip("\n") + "\n")
    say(f"Wrote the {name} section of {RESULTS.relative_to(ROOT)}.")


_RESULTS_HEADER = """# Benchmark results

Written by the scripts in `bench/` (see `bench/README.md`); each script replaces its own
section. Figures are medians of several runs; every goal is a ratio against a baseline
measured in the same run, so the figures from one machine can be compared with each other.
"""


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


# Databases of their own, and a signed-in client.


def own_database(name: str, keep: bool, reuse: bool):
    """Database ``name`` (or ``DATABASE_URL``), created here, migrated by benchlib."""
    if os.environ.get("DATABASE_URL"):
        return prepare_database(keep=True), False
    import psycopg

    with psycopg.connect(f"{DEFAULT_SERVER}/postgres", autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and not reuse:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        if not exists or not reuse:
            connection.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = f"{DEFAULT_SERVER}/{name}"
    return prepare_database(keep=True), not keep


def drop_own_database(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{DEFAULT_SERVER}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    say(f"Dropped database {name}.")


def signed_in(user):
    """A test client with a session for ``user``, made directly: no sign-in signals (lockout
    bookkeeping is not what is measured)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.test import Client

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "billingpulse.auth.EmailBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    client = Client(SERVER_NAME="localhost")
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    return client
