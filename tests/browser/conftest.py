"""Browser tests: headless Chromium (Debian's package) driving pytest-django's live server.

Fixtures:

* ``browser``    — one Chromium per test session
* ``context``    — a fresh browser context (cookies, storage) per test
* ``page``       — a page in that context
* ``base_url``   — the live server's URL
* ``screenshot`` — ``screenshot(page, "name")`` saves ``name.png`` under the test's ``tmp_path``
  (and copies it to ``$SCREENSHOT_DIR`` when that is set); returns the path

Chromium is taken from ``$BROWSER_EXECUTABLE`` (default ``/usr/bin/chromium``). When it is
missing, every test here is skipped and the terminal summary says so.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.core.servers.basehttp import WSGIServer
from django.db import connection
from django.test.testcases import LiveServerThread

# Playwright's sync API keeps an event loop on the main thread; Django's ORM would
# otherwise refuse to run from the test body ("You cannot call this from an async context").
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

HERE = Path(__file__).resolve().parent
EXECUTABLE = os.environ.get("BROWSER_EXECUTABLE", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1366, "height": 900}
TIMEOUT_MS = 10_000


def _skip_reason() -> str | None:
    if not (os.path.isfile(EXECUTABLE) and os.access(EXECUTABLE, os.X_OK)):
        return f"Chromium not installed at {EXECUTABLE} (apt-get install chromium); browser tests skipped"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install playwright); browser tests skipped"
    return None


SKIP_REASON = _skip_reason()
_skipped_here: list[str] = []


def _is_browser_test(item: pytest.Item) -> bool:
    return HERE in Path(item.path).resolve().parents


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Hooks like this one see every collected item, so only touch the ones in this folder.
    for item in items:
        if not _is_browser_test(item):
            continue
        item.add_marker(pytest.mark.browser)
        if SKIP_REASON:
            item.add_marker(pytest.mark.skip(reason=SKIP_REASON))
            _skipped_here.append(item.nodeid)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if SKIP_REASON and _skipped_here:
        terminalreporter.write_line("")
        terminalreporter.write_line(f"{SKIP_REASON} ({len(_skipped_here)} tests)", yellow=True, bold=True)


# Held while the serial live server answers a request, and by a test body reading the database
# while requests may be in flight (``server_idle``).
_SERVING = threading.RLock()


class _SerialWSGIServer(WSGIServer):
    """The live server, answering one request at a time (Django then closes each connection)."""

    def __init__(self, *args, connections_override=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)

    def process_request(self, request, client_address) -> None:
        with _SERVING:
            super().process_request(request, client_address)


@pytest.fixture
def server_idle() -> threading.RLock:
    """``with server_idle:`` runs the test body's queries between two requests of the live server.

    On in-memory SQLite the test body and the server share one connection, so a query of the
    test's that runs while a request's transaction is open on it interleaves with that
    transaction: the request's next savepoint fails with "cannot open savepoint - SQL
    statements in progress" (the post-call pipeline, run when a webhook's transaction commits,
    then never applies its outcome). Elsewhere each thread has its own connection and this
    only waits for the request being answered.
    """
    return _SERVING


@pytest.fixture(scope="session", autouse=True)
def _one_request_at_a_time_on_in_memory_sqlite(django_db_setup, django_db_blocker) -> Iterator[None]:
    """On in-memory SQLite every request thread of Django's threaded live server shares the test's
    single connection, so two requests at once (the sandbox's webhook deliveries while the page
    polls) interleave their transactions on it ("no such savepoint"). Serve them one at a time
    there; on PostgreSQL each thread has its own connection and the server stays threaded."""
    with django_db_blocker.unblock():
        in_memory = connection.vendor == "sqlite" and connection.is_in_memory_db()
    if not in_memory:
        yield
        return
    threaded = LiveServerThread.server_class
    LiveServerThread.server_class = _SerialWSGIServer
    yield
    LiveServerThread.server_class = threaded


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if SKIP_REASON:
        pytest.skip(SKIP_REASON)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=EXECUTABLE, headless=True, args=CHROMIUM_ARGS)
    try:
        yield chromium
    finally:
        chromium.close()
        playwright.stop()


@pytest.fixture
def base_url(live_server) -> str:
    return live_server.url


@pytest.fixture
def context(browser, base_url: str) -> Iterator:
    ctx = browser.new_context(base_url=base_url, viewport=VIEWPORT, locale="en-US", timezone_id="America/Chicago")
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context) -> Iterator:
    yield context.new_page()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., Path]:
    copy_to = os.environ.get("SCREENSHOT_DIR")

    def take(page, name: str, *, full_page: bool = True) -> Path:
        path = tmp_path / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        if copy_to:
            target = Path(copy_to)
            target.mkdir(parents=True, exist_ok=True)
            prefix = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
            shutil.copyfile(path, target / f"{prefix}-{name}.png")
        return path

    return take
