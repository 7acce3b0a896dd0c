"""Real Celery workers on Redis work a burst of sandbox calls; one is killed halfway.

GIVEN 50 claims across 3 payers queued at once, a per-payer limit of 2 calls per 3 s,
      the sandbox provider posting its events to our webhook (gunicorn) with no delay
WHEN  a worker places them, and is killed with SIGKILL once 15 are placed, and a new
      worker starts (beat's minute sweep is played by the test, every few seconds)
THEN  no payer had more than 2 calls placed in any 3 s, every call ended with its
      end-of-call report stored once and its post-call pipeline run: the outcome extracted,
      applied and followed up (or held for review), and the practice emailed through SMTP.

A killed worker cannot hand back the messages it held (its running and its scheduled
tasks); Redis gives them to the next worker after the visibility timeout, which
``worker_app`` shortens to 10 s, and ``place_deferred_calls`` finds queued calls whose
wake-up was lost. A call killed between recording its attempt and storing the platform's
id (a window of milliseconds) is ambiguous: the reconciler fails it and the failure policy
queues the next attempt; the test checks that path for any such call instead.

Needs REDIS_URL (CI sets it together with a PostgreSQL DATABASE_URL). The worker, the web
server and the set-up share a database of their own: a PostgreSQL database created and
dropped here, or else a SQLite file.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from billingpulse.celery import app
from telephony import pacing
from telephony.pipeline import EVENT_KIND as PIPELINE_EVENT
from telephony.tests.smtp_sink import SmtpSink

pytestmark = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="Needs REDIS_URL: a real worker on Redis.")

ROOT = Path(__file__).resolve().parents[2]
CLAIMS, PAYERS = 50, 3
LIMIT, WINDOW_SECONDS = 2, 3
KILL_AFTER_PLACED = 15
SWEEP_EVERY_SECONDS = 4
# Generous: a loaded CI machine is slower; the loop ends as soon as every call is done.
DEADLINE_SECONDS = 240
# After the kill, this long with no call finishing means the rest wait for the reconciler.
STALL_SECONDS = 45

SET_UP = f"""
from datetime import time
from billingpulse.tests.factories import PracticeFactory
from claims.tests.factories import ClaimFactory, PayerFactory
from telephony import services

practice = PracticeFactory(name="Worker Test Clinic", notification_email="billing@worker-test.example")
# Lines open around the clock, so the test never waits for business hours.
payers = [PayerFactory(practice=practice, opens_at=time(0), closes_at=time(0), open_weekdays="0123456")
          for _ in range({PAYERS})]
claims = [ClaimFactory(practice=practice, payer=payers[n % {PAYERS}]) for n in range({CLAIMS})]
result = services.enqueue_calls(practice, [claim.pk for claim in claims], None)
assert len(result.queued) == {CLAIMS}, result.skipped
"""

RECONCILE_LATER = """
from datetime import timedelta
from django.utils import timezone
from telephony import reconcile
# Past the longest call and the reconciler's margins, as a sweep an hour later would be.
print(reconcile.reconcile_calls(now=timezone.now() + timedelta(hours=2)))
"""

PROGRESS = f"""
SELECT c.id, c.status, c.placed_at,
       CASE WHEN c.provider_call_id IS NULL THEN 0 ELSE 1 END,
       CASE WHEN c.report_received_at IS NULL THEN 0 ELSE 1 END,
       (SELECT COUNT(*) FROM telephony_callevent e WHERE e.call_id = c.id AND e.kind = 'end-of-call-report'),
       (SELECT COUNT(*) FROM telephony_callevent e WHERE e.call_id = c.id AND e.kind = '{PIPELINE_EVENT}')
FROM telephony_call c WHERE c.attempt = 1 ORDER BY c.id
"""

# Per finished call: its claim number, whether it waits for review, which later steps ran,
# and whether the failure policy queued another attempt (a retry sends no email).
PIPELINE_STEPS = """
SELECT c.id, cl.claim_number, c.review_status,
       (SELECT COUNT(*) FROM telephony_callevent e WHERE e.call_id = c.id AND e.kind = 'pipeline-apply'),
       (SELECT COUNT(*) FROM telephony_callevent e WHERE e.call_id = c.id AND e.kind = 'pipeline-follow-up'),
       (SELECT COUNT(*) FROM telephony_callevent e WHERE e.call_id = c.id AND e.kind = 'pipeline-notify'),
       (SELECT COUNT(*) FROM telephony_call r WHERE r.claim_id = c.claim_id AND r.attempt = 2)
FROM telephony_call c JOIN claims_claim cl ON cl.id = c.claim_id
WHERE c.report_received_at IS NOT NULL AND c.attempt = 1 ORDER BY c.id
"""


def test_it_paces_and_finishes_every_call_through_a_killed_worker(tmp_path):
    app.conf.task_always_eager = False  # this test's tasks go to the real workers through Redis
    with _database(tmp_path) as (database_url, db), SmtpSink() as smtp:
        port = _free_port()
        env = _env(tmp_path, database_url, port) | {
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp.port),
            "EMAIL_USE_TLS": "false",
        }
        _manage(env, "migrate", "-v", "0")
        _manage(env, "createcachetable")
        processes = []
        try:
            processes.append(_web_server(env, port, tmp_path))
            worker = _worker(env, tmp_path, "first")
            processes.append(worker)
            _manage(env, "shell", "-v", "0", "-c", SET_UP)

            calls, killed, next_sweep = [], False, 0.0
            started = last_progress = time.monotonic()
            deadline = started + DEADLINE_SECONDS
            finished = 0
            while time.monotonic() < deadline:
                calls = [_Progress(*row) for row in db.rows(PROGRESS)]
                if sum(call.done for call in calls) != finished:
                    finished, last_progress = sum(call.done for call in calls), time.monotonic()
                if killed and time.monotonic() - last_progress > STALL_SECONDS:
                    # The killed worker took some calls' last events with it: the reconciler's case.
                    break
                if not killed and sum(call.placed for call in calls) >= KILL_AFTER_PLACED:
                    os.killpg(worker.pid, signal.SIGKILL)
                    worker.wait(timeout=30)
                    worker = _worker(env, tmp_path, "second")
                    processes.append(worker)
                    killed = True
                if killed and len(calls) == CLAIMS and all(call.done or call.ambiguous for call in calls):
                    break
                if time.monotonic() >= next_sweep:
                    # What beat does every minute, with a short grace so the test need not wait a minute.
                    app.send_task("telephony.tasks.place_deferred_calls", kwargs={"grace_seconds": 5})
                    next_sweep = time.monotonic() + SWEEP_EVERY_SECONDS
                time.sleep(0.5)

            ambiguous = [call.id for call in calls if call.ambiguous]
            print(
                f"{sum(c.done for c in calls)} calls done in {time.monotonic() - started:.0f} s; ambiguous: {ambiguous}"
            )
            if any(not call.done for call in calls):
                # What beat's reconciler does later: calls killed between their attempt and their id
                # are failed and retried; calls whose events were lost are fetched and ingested.
                _manage(env, "shell", "-v", "0", "-c", RECONCILE_LATER)
                until = time.monotonic() + 60
                while time.monotonic() < until:
                    calls = [_Progress(*row) for row in db.rows(PROGRESS)]
                    if all(call.done or call.id in ambiguous for call in calls):
                        break
                    time.sleep(0.5)
            steps = _wait_for_emails(db)
        finally:
            logs = _stop(processes, tmp_path)

        assert killed, f"fewer than {KILL_AFTER_PLACED} calls were ever placed\n{logs}"
        assert len(calls) == CLAIMS
        unfinished = [call for call in calls if not call.done and call.id not in ambiguous]
        assert unfinished == [], f"calls that never finished:\n{unfinished}\n{logs}"
        assert all(call.reports == 1 and call.pipelines == 1 for call in calls if call.done)
        _assert_reconciled(db, ambiguous)
        _assert_paced(db.rows("SELECT payer_id, placed_at FROM telephony_call WHERE placed_at IS NOT NULL"))
        _assert_followed_up(steps, smtp, logs)


def _wait_for_emails(db, seconds: float = 60) -> list[tuple]:
    """The pipeline's later steps, once every call waits for review or was emailed about (or time ran out)."""
    until = time.monotonic() + seconds
    while True:
        steps = db.rows(PIPELINE_STEPS)
        settled = all(review == "pending" or followed_up for _, _, review, _, followed_up, *_ in steps)
        emailed = all(notified or retried or review == "pending" for _, _, review, _, _, notified, retried in steps)
        if (settled and emailed) or time.monotonic() > until:
            return steps
        time.sleep(0.5)


def _assert_followed_up(steps: list[tuple], smtp: SmtpSink, logs: str) -> None:
    """Each reported call was applied and followed up once, or waits for review; the practice got one
    email per call that was not simply retried, and no other."""
    assert steps
    for call_id, _, review_status, applied, followed_up, notified, retried in steps:
        if review_status == "pending":
            assert (applied, followed_up, notified) == (0, 0, 0), f"call {call_id} went on before its review"
        else:
            expected = (1, 1, 0 if retried else 1)
            assert (applied, followed_up, notified) == expected, f"call {call_id}: {applied, followed_up, notified}"
    subjects = [message["Subject"] for message in smtp.messages]
    emailed = [claim_number for _, claim_number, _, _, _, notified, _ in steps if notified]
    assert sorted(subject.strip().split(":")[0] for subject in subjects) == sorted(f"Claim {n}" for n in emailed), logs


class _Progress:
    def __init__(self, id, status, placed_at, has_provider_id, reported, reports, pipelines):
        self.id, self.status, self.placed_at = id, status, placed_at and _datetime(placed_at)
        self.has_provider_id, self.reported = bool(has_provider_id), bool(reported)
        self.reports, self.pipelines = reports, pipelines

    @property
    def placed(self) -> bool:
        return self.placed_at is not None

    @property
    def done(self) -> bool:
        return self.status == "ended" and self.reported and self.pipelines > 0

    @property
    def ambiguous(self) -> bool:
        """Placed a while ago and still without the platform's id: its worker died while sending it."""
        stale = self.placed and datetime.now(UTC) - self.placed_at > timedelta(seconds=5)
        return self.status == "queued" and stale and not self.has_provider_id

    def __repr__(self) -> str:
        return (
            f"call {self.id}: {self.status}, placed {self.placed_at}, platform id {self.has_provider_id}, "
            f"reports {self.reports}, pipelines {self.pipelines}"
        )


def _assert_reconciled(db, ambiguous: list[int]) -> None:
    """A call lost between its attempt and its id is failed, and the failure policy queued the next attempt."""
    for call_id in ambiguous:
        [(status, claim_id)] = db.rows(f"SELECT status, claim_id FROM telephony_call WHERE id = {int(call_id)}")
        assert status == "failed"
        retries = db.rows(f"SELECT status FROM telephony_call WHERE claim_id = {int(claim_id)} AND attempt = 2")
        assert retries == [("queued",)]


def _assert_paced(rows) -> None:
    """In any window of WINDOW_SECONDS, no payer had more than LIMIT calls placed."""
    by_payer = defaultdict(list)
    for payer_id, placed_at in rows:
        by_payer[payer_id].append(_datetime(placed_at))
    assert len(by_payer) == PAYERS
    for payer_id, times in by_payer.items():
        times.sort()
        for earlier, later in zip(times, times[LIMIT:], strict=False):
            # Redis keeps whole milliseconds; the database keeps microseconds.
            assert later - earlier >= timedelta(seconds=WINDOW_SECONDS, milliseconds=-1), (
                f"payer {payer_id}: {LIMIT + 1} calls placed within {later - earlier}"
            )


def _datetime(value) -> datetime:
    """PostgreSQL gives aware datetimes; SQLite gives text in UTC."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value).replace(tzinfo=UTC)


# Processes


def _env(tmp_path: Path, database_url: str, port: int) -> dict:
    return {
        **os.environ,
        "VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": database_url,
        "SITE_URL": f"http://127.0.0.1:{port}",
        "TELEPHONY_PROVIDER": "sandbox",
        "SANDBOX_EVENT_DELAY_SECONDS": "0",
        "CALL_RATE_LIMIT": str(LIMIT),
        "CALL_RATE_WINDOW_SECONDS": str(WINDOW_SECONDS),
        "PRACTICE_MAX_CONCURRENT_CALLS": "100",
        "PRACTICE_DAILY_CALL_LIMIT": "1000",
        "TEST_VISIBILITY_TIMEOUT": "10",
    }


def _manage(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, timeout=120)


def _web_server(env: dict, port: int, tmp_path: Path) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "billingpulse.wsgi", "--bind", f"127.0.0.1:{port}"]
        + ["--workers", "2", "--threads", "8", "--control-socket", str(tmp_path / "gunicorn.ctl")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "web.log").open("wb"),
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    os.killpg(server.pid, signal.SIGKILL)
    raise AssertionError("the web server did not start:\n" + (tmp_path / "web.log").read_text()[-2000:])


def _worker(env: dict, tmp_path: Path, name: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "telephony.tests.worker_app", "worker", "--pool=prefork"]
        + ["--concurrency", "4", "-l", "warning", "-n", f"{name}@%h"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / f"worker-{name}.log").open("wb"),
        start_new_session=True,
    )


def _stop(processes: list[subprocess.Popen], tmp_path: Path) -> str:
    """Stop what the test started, and return the tail of their logs for a failure message."""
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    # The scheduled messages still in Redis (retries hours ahead) belong to this test only.
    client = pacing.redis_client(os.environ["REDIS_URL"])
    client.flushdb()
    return "\n".join(f"--- {log.name}\n{log.read_text()[-1500:]}" for log in sorted(tmp_path.glob("*.log")))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# The worker's database


class _Database:
    def __init__(self, url: str):
        if url.startswith("sqlite"):
            self.connection = sqlite3.connect(urlsplit(url).path, timeout=30, isolation_level=None)
        else:
            import psycopg

            self.connection = psycopg.connect(url, autocommit=True)

    def rows(self, sql: str) -> list[tuple]:
        return [tuple(row) for row in self.connection.execute(sql).fetchall()]


@contextmanager
def _database(tmp_path: Path):
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        url = f"sqlite:///{tmp_path / 'worker.sqlite3'}"
        yield url, _LazyDatabase(url)
        return
    import psycopg

    parts = urlsplit(url)
    name = f"{parts.path.strip('/') or 'billingpulse'}_worker_{os.getpid()}"
    server = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    database = _LazyDatabase(urlunsplit(parts._replace(path=f"/{name}")))
    try:
        yield database.url, database
    finally:
        database.close()
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class _LazyDatabase:
    """Connects on first use: the database has its tables only once migrate has run."""

    def __init__(self, url: str):
        self.url = url
        self._database: _Database | None = None

    def rows(self, sql: str) -> list[tuple]:
        if self._database is None:
            self._database = _Database(self.url)
        return self._database.rows(sql)

    def close(self) -> None:
        if self._database is not None:
            self._database.connection.close()
