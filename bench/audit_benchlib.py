"""What the audit benchmarks share: a database of their own, so they never drop another
benchmark's ``billingpulse_bench`` while it runs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import DEFAULT_SERVER, finish_database, prepare_database, say  # noqa: E402

DB_NAME = "billingpulse_bench_audit"


def open_database(*, keep: bool):
    """``DATABASE_URL`` if set (migrated, kept), else a fresh ``billingpulse_bench_audit``."""
    import psycopg

    made = False
    if not os.environ.get("DATABASE_URL"):
        with psycopg.connect(f"{DEFAULT_SERVER}/postgres", autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{DB_NAME}"')
        os.environ["DATABASE_URL"] = f"{DEFAULT_SERVER}/{DB_NAME}"
        made = True
    database = prepare_database(keep=True)
    database.drop = False  # benchlib drops only its own database; this one is dropped below
    return database, made and not keep


def close_database(database, drop: bool) -> None:
    finish_database(database)
    if drop:
        import psycopg

        with psycopg.connect(f"{DEFAULT_SERVER}/postgres", autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        say(f"Dropped database {DB_NAME}.")
