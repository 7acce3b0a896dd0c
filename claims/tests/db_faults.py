"""Make the database itself refuse or fail on chosen rows, for tests of what the import does then.

Both install a trigger (SQLite or PostgreSQL) on ``table`` that fires for rows matching
``when``, an SQL condition on ``NEW`` such as ``NEW.claim_number = 'A-2'``:

* ``refuse_rows`` refuses them as a constraint would (``IntegrityError``): bad data in one row.
* ``fail_database`` fails as a busy or restarting server does (``OperationalError``): the
  machinery, not the row. ``times`` limits it to the first few such rows, as a lock that
  clears up.

The triggers are made inside the test's transaction and go away with it.
"""

from __future__ import annotations

import itertools

from django.db import connection

_names = itertools.count(1)


def refuse_rows(table: str, when: str, *, event: str = "INSERT") -> None:
    if connection.vendor == "postgresql":
        _install(table, when, event, "RAISE EXCEPTION 'refused by the test' USING ERRCODE = 'check_violation';")
    else:
        _install(table, when, event, "SELECT RAISE(ABORT, 'refused by the test');")


def fail_database(table: str, when: str, *, times: int | None = None, event: str = "INSERT") -> None:
    name = f"bp_fault_fail_{next(_names)}"
    if connection.vendor == "postgresql":
        failure = "RAISE EXCEPTION 'could not serialize access (test)' USING ERRCODE = 'serialization_failure';"
        if times is not None:
            _execute(f"CREATE SEQUENCE {name}")
            # nextval is not rolled back with the failed statement, so the count holds across attempts.
            failure = f"IF nextval('{name}') <= {times} THEN {failure} END IF;"
        _install(table, when, event, failure)
        return
    calls = itertools.count(1)

    def fail() -> int:
        if times is None or next(calls) <= times:
            # sqlite3 reports any exception in a function as OperationalError.
            raise RuntimeError("database is locked (test)")
        return 0

    connection.ensure_connection()
    connection.connection.create_function(name, 0, fail)
    _install(table, when, event, f"SELECT {name}();")


def _install(table: str, when: str, event: str, action: str) -> None:
    name = f"bp_fault_{next(_names)}"
    if connection.vendor == "postgresql":
        _execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN IF {when} THEN {action} END IF; RETURN NEW; END $$"
        )
        _execute(f"CREATE TRIGGER {name} BEFORE {event} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()")
    else:
        _execute(f"CREATE TRIGGER {name} BEFORE {event} ON {table} FOR EACH ROW WHEN {when} BEGIN {action} END")


def _execute(sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql)
