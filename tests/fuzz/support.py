"""Helpers the fuzz tests share: how deep to go, an in-process WSGI app, per-example rollback,
a record of server errors, and hostile values."""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db import transaction
from django.test.client import ClientHandler

ROOT = Path(__file__).resolve().parents[2]


def fuzz_depth() -> int:
    """``FUZZ_EXAMPLES`` as a non-negative integer (0: the quick default)."""
    raw = os.environ.get("FUZZ_EXAMPLES", "").strip()
    if not raw:
        return 0
    try:
        value = int(raw)
    except ValueError as error:
        raise pytest.UsageError(f"FUZZ_EXAMPLES must be an integer, not {raw!r}") from error
    return max(value, 0)


# --------------------------------------------------------------------------------------------
# Server errors: every exception a request raised, with the application frames that raised it.


@dataclass
class ServerError:
    method: str
    path: str
    status: int | None
    exception: str
    message: str
    frames: list[str]
    detail: str = ""

    def cause(self) -> tuple[str, str]:
        """What tells two errors apart: the exception type and the innermost project frame."""
        ours = [frame for frame in self.frames if not frame.startswith("(lib)")]
        return self.exception, (ours or self.frames or [""])[0]

    def describe(self) -> str:
        where = "\n".join(f"        {frame}" for frame in self.frames[:4]) or "        (no frame)"
        detail = f" [{self.detail}]" if self.detail else ""
        message = self.message if len(self.message) <= 300 else self.message[:300] + "…"
        return f"  {self.method} {self.path}{detail}: {self.exception}: {message}\n{where}"


def app_frames(tb) -> list[str]:
    """The project's own frames of a traceback, innermost first, as ``path:line in function``,
    after the innermost library frame (marked ``(lib)``) when the exception was raised in a library."""
    frames, library = [], []
    for frame in traceback.extract_tb(tb):
        path = Path(frame.filename).resolve()
        if ROOT in path.parents and ".venv" not in path.parts and path.relative_to(ROOT).parts[0] != "tests":
            frames.append(f"{path.relative_to(ROOT)}:{frame.lineno} in {frame.name}")
            library = []
        else:
            parts = path.parts
            shown = "/".join(parts[parts.index("site-packages") + 1 :]) if "site-packages" in parts else path
            library.append(f"(lib) {shown}:{frame.lineno} in {frame.name}")
    return library[-1:] + frames[::-1]


@dataclass
class ServerErrorLog:
    """Listens for ``got_request_exception``: Django sends it for every exception that becomes a 500."""

    errors: list[ServerError] = field(default_factory=list)

    def __call__(self, sender, request=None, **kwargs) -> None:
        exc_type, exc, tb = sys.exc_info()
        if exc_type is None:
            return
        self.errors.append(
            ServerError(
                method=getattr(request, "method", "?") or "?",
                path=getattr(request, "get_full_path", lambda: "?")()[:300],
                status=None,
                exception=f"{exc_type.__module__}.{exc_type.__qualname__}".removeprefix("builtins."),
                message=str(exc).replace("\n", " "),
                frames=app_frames(tb),
            )
        )

    def take(self) -> list[ServerError]:
        taken, self.errors = self.errors, []
        return taken


def report(errors: list[ServerError], title: str) -> str:
    """All errors grouped by cause, each cause with up to three examples."""
    groups: dict[tuple[str, str], list[ServerError]] = {}
    for error in errors:
        groups.setdefault(error.cause(), []).append(error)
    lines = [f"{title}: {len(errors)} server error(s) from {len(groups)} distinct cause(s)"]
    for (exception, frame), members in groups.items():
        lines.append(f"\n* {exception} at {frame or '?'} ({len(members)} request(s)), e.g.:")
        lines.extend(member.describe() for member in members[:3])
    return "\n".join(lines)


class DjangoTestApp:
    """A WSGI application that runs each request the way Django's test client does.

    Django's own ``WSGIHandler`` closes the database connection when a request starts or
    finishes outside autocommit, which would end the test's transaction; ``ClientHandler``
    (the test client's handler) does not. A view's exception becomes a 500 response, as in
    production; ``got_request_exception`` still tells the test what it was.
    """

    def __init__(self) -> None:
        self.handler = ClientHandler(enforce_csrf_checks=False)

    def __call__(self, environ, start_response):
        response = self.handler(environ)
        headers = list(response.items())
        headers += [("Set-Cookie", morsel.OutputString()) for morsel in response.cookies.values()]
        start_response(f"{response.status_code} {response.reason_phrase}", headers)
        # The handler has already closed the response (and fired request_finished) for us.
        return [response.getvalue()]


@contextmanager
def rolled_back() -> Iterator[None]:
    """Run one example in a savepoint that is always rolled back, so examples never see each other's rows."""
    block = transaction.atomic()
    # As Django's TestCase marks its own blocks: a view's atomic(durable=True) may open inside it.
    block._from_testcase = True
    with block:
        yield
        transaction.set_rollback(True)


# Hostile values for forms, query strings and path segments. Each is a (label, value) pair so
# that a failure can name what was sent without printing a megabyte.
HUGE = "x" * 1_000_000
NESTED = "[" * 5000 + "]" * 5000
NESTED_OBJECT = '{"a":' * 3000 + "1" + "}" * 3000

HOSTILE_TEXT: list[tuple[str, str]] = [
    ("1 MB string", HUGE),
    ("3000 chars", "y" * 3000),  # past every column's max_length, yet short enough for a query string
    ("NUL byte", "abc\x00def"),
    ("lone surrogate", "abc\ud800def"),
    ("far future date", "9999-12-31"),
    ("year one", "0001-01-01"),
    ("huge integer", "99999999999999999999"),
    ("negative", "-1"),
    ("NaN", "NaN"),
    ("Infinity", "Infinity"),
    ("deep JSON array", NESTED),
    ("deep JSON object", NESTED_OBJECT),
    ("JSON object", json.dumps({"a": [1, {"b": None}]})),
    ("float", "1e309"),
    ("empty", ""),
    ("whitespace", " \t\r\n "),
    ("unicode", "Ω≈ç√∫˜µ≤≥÷ 🩺 ‮"),
    ("markup", "<script>alert(1)</script>'\"%s{{x}}"),
    ("impossible date", "2026-02-30"),
    ("date and time", "2026-13-45T25:61:61Z"),
    ("big money", "1e400"),
    ("decimal junk", "12.345.67"),
    ("list text", "['a', 'b']"),
    ("percent junk", "%zz%00"),
]

# Values for an integer path segment (``<int:pk>`` accepts digits only).
HOSTILE_INT_SEGMENTS: list[tuple[str, str]] = [
    ("zero", "0"),
    ("18 nines", "9" * 18),
    ("bigint overflow", "9223372036854775808"),
    ("huge integer", "99999999999999999999"),
    ("5000 digits", "9" * 5000),
    ("leading zeros", "0000000001"),
]

# Values for a string path segment (``<str:...>``, ``<slug:...>``, regex groups).
HOSTILE_STR_SEGMENTS: list[tuple[str, str]] = [
    ("negative", "-1"),
    ("5000 chars", "x" * 5000),
    ("NUL byte", "a%00b"),
    ("lone surrogate", "%ED%A0%80"),
    ("dot dot", ".."),
    ("huge integer", "99999999999999999999"),
    ("bad base64", "!!!!"),
]


def rotate(values: list[tuple[str, str]], start: int, count: int) -> list[tuple[str, str]]:
    """``count`` values of ``values`` beginning at ``start``, wrapping around."""
    count = min(count, len(values))
    return [values[(start + i) % len(values)] for i in range(count)]
