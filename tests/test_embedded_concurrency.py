"""The embedded default holds under its own normal use: the web server and a worker writing at once.

GIVEN `make run`'s defaults (a SQLite file and kombu's filesystem broker, in a folder of the
      test's own), the web server and a Celery worker started as ``bin/run-dev`` starts them,
      and the sandbox provider posting its call events to that web server with no delay
WHEN  at once: admins sign in, change team roles, bulk-write the knowledge base through the
      API, queue sandbox calls from the worklist and the API, and upload a claim file too
      large to import during the request; while the worker imports it, places the calls,
      delivers their events to the webhook and runs their post-call pipelines
THEN  no request answers 5xx (neither the test's nor the worker's webhook deliveries), the
      import ends done with every row imported, and every call ends with its pipeline run.

With SQLite's default rollback journal and deferred transactions, two writers answer
"database is locked" at once instead of waiting their turn; this test catches that.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from telephony.tests.test_worker_redis import PROGRESS, _free_port, _LazyDatabase, _Progress

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "sqlite").startswith("sqlite"),
    reason="About the embedded SQLite default (make run); PostgreSQL runs test their concurrency in test_races.",
)

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "concurrency-test-2026"
SESSIONS, STAFF, CALLS, KNOWLEDGE_WRITES = 3, 4, 4, 6
IMPORT_ROWS, INLINE_ROWS = 2000, 100
# Generous for a loaded machine; the wait ends as soon as the background work is done.
DEADLINE_SECONDS = 45

SET_UP = f"""
import json
from datetime import time
from rest_framework.authtoken.models import Token
from billingpulse.models import User
from billingpulse.tests.factories import PracticeFactory, UserFactory
from claims.tests.factories import ClaimFactory, PayerFactory

practice = PracticeFactory(name="Concurrency Clinic")
admin = UserFactory(practice=practice, role=User.Role.ADMIN, email="admin@concurrency.example", password={PASSWORD!r})
# No usable password: hashing one takes a while and these never sign in.
staff = [UserFactory(practice=practice, password=None) for _ in range({STAFF})]
# Lines open around the clock, so no call waits for business hours.
payer = PayerFactory(practice=practice, payer_id="60054", opens_at=time(0), closes_at=time(0), open_weekdays="0123456")
claims = [ClaimFactory(practice=practice, payer=payer) for _ in range({CALLS})]
token = Token.objects.create(user=admin)
print(json.dumps({{"staff": [u.pk for u in staff], "claims": [c.pk for c in claims], "token": token.key}}))
"""


def test_it_serves_every_request_while_the_worker_writes(tmp_path):
    port = _free_port()
    env = _env(tmp_path, port)
    _manage(env, "migrate", "-v", "0")
    _manage(env, "createcachetable")
    ids = json.loads(_manage(env, "shell", "-v", "0", "-c", SET_UP).splitlines()[-1])
    processes: list[subprocess.Popen] = []
    try:
        processes.append(_start(env, tmp_path, "web", "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"))
        # As bin/run-dev starts it.
        worker = ["-m", "celery", "-A", "billingpulse", "worker", "-l", "info", "--concurrency=2"]
        processes.append(_start(env, tmp_path, "worker", *worker, "--without-mingle", "--without-gossip"))
        base = f"http://127.0.0.1:{port}"
        _wait_for_health(base, processes, tmp_path)

        responses, import_id = _drive(base, ids)

        db = _LazyDatabase(f"sqlite:///{tmp_path / 'var' / 'db.sqlite3'}")
        try:
            claim_import, calls = _wait_for_background_work(db, import_id)
        finally:
            db.close()
    finally:
        logs = _stop(processes, tmp_path)

    errors = [f"{method} {path}: {status}" for method, path, status, _ in responses if status >= 500]
    assert errors == [], f"{errors}\n{logs}"
    served = re.findall(r'"(?:GET|POST|PUT|PATCH|DELETE) [^"]*" 5\d\d ', (tmp_path / "web.log").read_text())
    assert served == [], f"the web server answered 5xx (to the worker's webhook deliveries too):\n{logs}"
    # Each request did its work, rather than failing in some other way (a session not signed in, say).
    unexpected = [response for response in responses if response[2:] != _SUCCESS[_kind(response[1])]]
    assert unexpected == [], logs
    assert claim_import == ("done", IMPORT_ROWS, 0), logs
    assert len(calls) == CALLS
    assert [call for call in calls if not call.done] == [], logs


# Per kind of request: the status and Location of its success.
_SUCCESS = {
    "/accounts/login/": (302, "/"),
    "/settings/team/<pk>/role/": (302, "/settings/team/"),
    "/api/v1/knowledge/denial-codes": (201, ""),
    "/calls/start/": (302, "/claims/"),
    "/api/v1/calls": (202, ""),
    "/api/v1/claims/import": (202, ""),
}


def _kind(path: str) -> str:
    return re.sub(r"/\d+/", "/<pk>/", path)


def _drive(base: str, ids: dict) -> tuple[list[tuple[str, str, int, str]], int]:
    """Every kind of write at once, from a handful of threads.

    Returns the import's id, and (method, path, status, Location) per request.
    """
    api = httpx.Client(base_url=base, headers={"Authorization": f"Token {ids['token']}"}, timeout=60)
    upload = api.post(
        "/api/v1/claims/import", files={"file": ("ar.csv", _claim_file(), "text/csv")}, data={"payer_id": "60054"}
    )
    assert upload.status_code == 202, upload.text  # queued for the worker: too large to import inline
    responses = [("POST", "/api/v1/claims/import", upload.status_code, "")]

    with ThreadPoolExecutor(max_workers=8) as pool:
        sessions = list(pool.map(lambda _: _sign_in(base), range(SESSIONS)))
        responses += [response for _, response in sessions]
        responses += pool.map(lambda item: _send(*item), _writes([client for client, _ in sessions], api, ids))
    return responses, upload.json()["id"]


def _writes(sessions: list[httpx.Client], api: httpx.Client, ids: dict) -> list[tuple]:
    """(client, method, path, options) of each write: pages through the signed-in sessions, the API by token."""
    roles = [(pk, role) for role in ("admin", "staff") * 3 for pk in ids["staff"]]
    half = len(ids["claims"]) // 2
    return [
        *[
            (sessions[n % SESSIONS], "POST", f"/settings/team/{pk}/role/", {"data": {"role": role}})
            for n, (pk, role) in enumerate(roles)
        ],
        *[(api, "POST", "/api/v1/knowledge/denial-codes", {"json": _denial_codes(n)}) for n in range(KNOWLEDGE_WRITES)],
        # "Call selected" on the worklist, and the API.
        *[
            (sessions[n % SESSIONS], "POST", "/calls/start/", {"data": {"claim_ids": [pk]}})
            for n, pk in enumerate(ids["claims"][:half])
        ],
        *[(api, "POST", "/api/v1/calls", {"json": {"claim_ids": [pk]}}) for pk in ids["claims"][half:]],
    ]


def _send(client: httpx.Client, method: str, path: str, options: dict) -> tuple[str, str, int, str]:
    headers = {"X-CSRFToken": client.cookies.get("csrftoken", "")}
    response = client.request(method, path, headers=headers, **options)
    return method, path, response.status_code, response.headers.get("Location", "")


def _sign_in(base: str) -> tuple[httpx.Client, tuple[str, str, int, str]]:
    client = httpx.Client(base_url=base, timeout=60)
    client.get("/accounts/login/")
    data = {"username": "admin@concurrency.example", "password": PASSWORD}
    return client, _send(client, "POST", "/accounts/login/", {"data": data})


def _denial_codes(n: int) -> list[dict]:
    return [
        {"code": str(900 + 10 * n + i), "description": f"Test reason {n}.{i}", "remedy": "Resubmit with the record."}
        for i in range(10)
    ]


def _claim_file() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Claim #", "Patient", "DOB", "DOS", "Balance"])
    for n in range(IMPORT_ROWS):
        writer.writerow([f"IMP-{n:05d}", f"Pat{n} Example", "03/14/1980", "09/01/2026", "100"])
    return out.getvalue().encode()


IMPORT = "SELECT status, imported_count, rejected_count FROM claims_claimimport WHERE id = {id}"


def _wait_for_background_work(db: _LazyDatabase, import_id: int) -> tuple[tuple, list[_Progress]]:
    """The import's outcome and the calls, once all are finished (or the deadline passed)."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        [claim_import] = db.rows(IMPORT.format(id=int(import_id)))
        calls = [_Progress(*row) for row in db.rows(PROGRESS)]
        finished = claim_import[0] in ("done", "failed") and all(call.done for call in calls)
        if finished or time.monotonic() > deadline:
            return claim_import, calls
        time.sleep(0.5)


# Processes


def _env(tmp_path: Path, port: int) -> dict:
    """The embedded defaults in the test's own folder: no DATABASE_URL, no REDIS_URL."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "CHROMA_URL", "DEBUG"}}
    return env | {
        "VAR_DIR": str(tmp_path / "var"),
        "SITE_URL": f"http://127.0.0.1:{port}",
        "TELEPHONY_PROVIDER": "sandbox",
        "SANDBOX_EVENT_DELAY_SECONDS": "0",
        "CLAIM_IMPORT_INLINE_ROWS": str(INLINE_ROWS),
        "CALL_RATE_LIMIT": "1000",
        "PRACTICE_MAX_CONCURRENT_CALLS": "1000",
        "PRACTICE_DAILY_CALL_LIMIT": "1000",
    }


def _manage(env: dict, *args: str) -> str:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, timeout=120, capture_output=True, text=True
    ).stdout


def _start(env: dict, tmp_path: Path, name: str, *args: str) -> subprocess.Popen:
    """A process in a session of its own, so stopping it stops its children (the worker's pool) too."""
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / f"{name}.log").open("wb"),
        start_new_session=True,
    )


def _wait_for_health(base: str, processes: list[subprocess.Popen], tmp_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        exited = [process.args for process in processes if process.poll() is not None]
        assert not exited, f"exited during start-up: {exited}\n{_logs(tmp_path)}"
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the web server did not start\n{_logs(tmp_path)}")


def _stop(processes: list[subprocess.Popen], tmp_path: Path) -> str:
    """Stop exactly the processes this test started; return the tails of their logs.

    SIGTERM goes to each main process, as bin/run-dev sends it (the worker then stops its
    own pool); whatever is left of a session after 15 s is killed.
    """
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    return _logs(tmp_path)


def _logs(tmp_path: Path) -> str:
    return "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in sorted(tmp_path.glob("*.log")))
