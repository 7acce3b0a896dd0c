"""What a Celery task retries on: errors that pass when tried again a little later.

Every task that touches the database declares ``autoretry_for=TRANSIENT_ERRORS`` (or
``TRANSIENT_DB_ERRORS``) with ``retry_backoff``, ``retry_jitter`` and ``max_retries``, so
that a locked SQLite file, a dropped PostgreSQL connection or a restarting Redis delays
the work instead of losing it.

Only these classes, never ``DatabaseError`` or ``Exception``: ``IntegrityError``,
``DataError`` and ``ProgrammingError`` are bugs or bad data, and another try gives the
same answer. (SQLite reports a few bugs, such as a missing table before ``migrate``, as
``OperationalError`` too; those are retried a bounded number of times and then fail.)
A task whose outside service raises too many kinds of error to list retries on
``Exception`` but declares ``dont_autoretry_for=PERMANENT_ERRORS``.
"""

from __future__ import annotations

from django.db import DataError, IntegrityError, InterfaceError, NotSupportedError, OperationalError, ProgrammingError
from redis.exceptions import RedisError

# The database is locked or busy, the server restarted, the connection dropped.
TRANSIENT_DB_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError)
# The above, and Redis (broker, cache, cross-process limits) being briefly away.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (*TRANSIENT_DB_ERRORS, RedisError)
# Mistakes in our code or data: another try gives the same answer.
PERMANENT_ERRORS: tuple[type[Exception], ...] = (
    ProgrammingError,
    IntegrityError,
    DataError,
    NotSupportedError,
    TypeError,
    AttributeError,
    NameError,
    ImportError,
)
