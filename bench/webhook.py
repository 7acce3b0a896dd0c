"""Benchmark: the Vapi webhook under load, against a bare DRF endpoint, both under gunicorn.

    .venv/bin/python bench/webhook.py

Creates a throwaway PostgreSQL database (``billingpulse_bench_webhook``), a practice, a payer and
one claim and one in-progress Vapi call per end-of-call report to send. Starts gunicorn on
127.0.0.1 (a free port, sync workers, ``2 * CPUs + 1`` of them) with ``bench.settings_webhook``:
the project's settings and URLs plus ``POST /bench/baseline``, a DRF view with no authentication
that parses the JSON body and answers ``{"ok": true}``. Both get the same signed end-of-call
reports (from Vapi's example):

* from ``wrk`` (``apt-get install wrk``) with 200 connections, baseline and webhook alternating
  for a few rounds (medians reported); every webhook request is the first delivery of a
  different call's report, so each one stores the event, updates the call and enqueues the
  post-call pipeline after commit;
* the webhook once more with reports it has already stored (duplicate deliveries);
* both with one connection per worker, where requests do not queue (the service time), and
  with 16, 32 and 64 connections;
* both at the same fixed arrival rate, 60% of the webhook's rate above (an open-loop generator
  in a child process, at most 200 requests at once), to see latency when the server keeps up.

During each wrk run it reads the CPU time of gunicorn's workers, the database's PostgreSQL
backends and Redis from ``/proc``, so the CPU each request costs, part by part, is known whatever
else the machine is doing.

Then, with gunicorn stopped, the database floor: the same reports written by one SQL statement
each over plain connections (no HTTP, no Django), and a cProfile of first deliveries through
Django's test client in this process. Celery's broker is Redis, as deployed (``--redis-url``,
default database 9 of the local Redis, which must hold no ``celery`` queue when the run starts;
the run removes the queue it filled), and no worker runs; ``--broker filesystem`` uses the
project's default without ``REDIS_URL`` instead, kombu's filesystem transport in the temporary
``VAR_DIR``. The goal: the webhook at least half the baseline's requests/s, and its p99 latency
under 100 ms. Figures go to ``bench/RESULTS.md``; see ``bench/README.md``. ``--save-summary
FILE`` keeps the headline figures of a run, and ``--before FILE`` puts a saved run beside this
one's in the section (to compare code before and after a change on the same machine).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import (  # noqa: E402
    DEFAULT_SERVER,
    ROOT,
    django_environment,
    finish_database,
    machine_lines,
    median,
    prepare_database,
    psycopg_url,
    say,
    table,
    write_section,
)

DB_NAME = "billingpulse_bench_webhook"  # not the other scripts' name: they drop theirs when they start
SETTINGS = "bench.settings_webhook"
HMAC_SECRET = "bench-webhook-hmac-secret"
WEBHOOK_PATH = "/api/webhooks/vapi"
BASELINE_PATH = "/bench/baseline"
EXAMPLES = [
    Path("/work/shared/reference/vapi-examples/end-of-call-report.json"),
    ROOT / "telephony" / "tests" / "fixtures" / "end-of-call-report.json",
]
GOAL_RATE_RATIO = 0.5
GOAL_P99_MS = 100.0
WRK_THREADS = 2
SWEEP_CONNECTIONS = (16, 32, 64)
PACED_SHARE = 0.6  # of the webhook's rate at full load
REDIS_URL = "redis://127.0.0.1:6379/9"
CELERY_QUEUE = "celery"

# Each wrk thread reads its own file of ready-made requests ("<length>\n<raw request>", repeated)
# and sends them in order; past the end it starts again (which, for the webhook, would repeat
# deliveries: the script checks that it did not). It counts answers that are not 200 and
# duplicates, and the summary (with each thread's count of requests sent) is printed as JSON.
WRK_SCRIPT = r"""
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local requests_list, count, position = {}, 0, 0
sent, wrapped, not_ok, duplicates = 0, 0, 0, 0

function init(args)
  local file = assert(io.open(args[1] .. "." .. id, "rb"))
  local data = file:read("*a")
  file:close()
  local at = 1
  while at <= #data do
    local newline = data:find("\n", at, true)
    local length = tonumber(data:sub(at, newline - 1))
    count = count + 1
    requests_list[count] = data:sub(newline + 1, newline + length)
    at = newline + 1 + length
  end
end

function request()
  position = position + 1
  sent = position
  if position > count then wrapped = wrapped + 1 end
  return requests_list[(position - 1) % count + 1]
end

function response(status, headers, body)
  if status ~= 200 then not_ok = not_ok + 1 end
  if body and body:find('"duplicate"', 1, true) then duplicates = duplicates + 1 end
end

function done(summary, latency, requests)
  local out = {}
  local function add(key, value) out[#out + 1] = string.format('"%s": %s', key, value) end
  add("requests", string.format("%d", summary.requests))
  add("duration_us", string.format("%d", summary.duration))
  for _, kind in ipairs({"connect", "read", "write", "status", "timeout"}) do
    add("errors_" .. kind, string.format("%d", summary.errors[kind]))
  end
  add("p50_us", string.format("%d", latency:percentile(50)))
  add("p90_us", string.format("%d", latency:percentile(90)))
  add("p99_us", string.format("%d", latency:percentile(99)))
  add("max_us", string.format("%d", latency.max))
  add("mean_us", string.format("%.1f", latency.mean))
  local per_thread = {sent = {}, wrapped = {}, not_ok = {}, duplicates = {}}
  for _, thread in ipairs(threads) do
    for key, list in pairs(per_thread) do list[#list + 1] = string.format("%d", thread:get(key)) end
  end
  for key, list in pairs(per_thread) do add(key, "[" .. table.concat(list, ",") .. "]") end
  io.write("WRK_RESULT {" .. table.concat(out, ", ") .. "}\n")
end
"""


@dataclass
class Run:
    label: str
    endpoint: str  # "webhook" or "baseline"
    load: str  # how the load was applied, for the table
    kind: str = ""  # "first" or "duplicate" for the webhook
    result: dict = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.result["requests"] / (self.result["duration_us"] / 1e6)

    @property
    def errors(self) -> int:
        return sum(self.result.get(f"errors_{kind}", 0) for kind in ("connect", "read", "write", "timeout"))

    @property
    def not_ok(self) -> int:
        return sum(self.result["not_ok"])

    @property
    def duplicates(self) -> int:
        return sum(self.result["duplicates"])

    @property
    def wrapped(self) -> int:
        return sum(self.result["wrapped"])

    def ms(self, key: str) -> float:
        return self.result[key] / 1000


# ---------------------------------------------------------------------------- database and data


def create_database() -> str:
    import psycopg

    with psycopg.connect(f"{DEFAULT_SERVER}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{DB_NAME}"')
    return f"{DEFAULT_SERVER}/{DB_NAME}"


def drop_database() -> None:
    import psycopg

    with psycopg.connect(f"{DEFAULT_SERVER}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    say(f"Dropped database {DB_NAME}.")


def environment(database_url: str, redis_url: str | None = None) -> dict[str, str]:
    """benchlib's environment (temporary VAR_DIR, DEBUG off), the bench settings, a known key, Redis if given."""
    env = django_environment(database_url)
    env["DJANGO_SETTINGS_MODULE"] = SETTINGS
    env["VAPI_WEBHOOK_HMAC_SECRET"] = HMAC_SECRET
    env.pop("VAPI_WEBHOOK_SECRET", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


class Broker:
    """Where the webhook's enqueued pipeline tasks end up: a Redis list, or the filesystem transport's folder."""

    def __init__(self, redis_url: str | None) -> None:
        self.redis_url = redis_url
        if redis_url:
            import redis

            self.client = redis.Redis.from_url(redis_url)
            if self.client.exists(CELERY_QUEUE):
                raise SystemExit(f"{redis_url} already holds a {CELERY_QUEUE!r} queue: use another --redis-url")

    def queued(self) -> int:
        if self.redis_url:
            return self.client.llen(CELERY_QUEUE)
        from django.conf import settings

        queue = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        return sum(1 for _ in queue.iterdir()) if queue.exists() else 0

    def describe(self) -> str:
        if self.redis_url:
            return (
                f"- Celery broker: Redis on loopback (`{self.redis_url}`), as deployed; no worker runs, so the "
                "tasks stay queued and are counted"
            )
        return (
            "- Celery broker: kombu's filesystem transport in the run's temporary `VAR_DIR` (the project's default "
            "without `REDIS_URL`), so enqueueing is a local file write; no worker runs"
        )

    def clean(self) -> None:
        if self.redis_url:
            self.client.delete(
                CELERY_QUEUE, f"_kombu.binding.{CELERY_QUEUE}", f"_kombu.binding_permanent.{CELERY_QUEUE}"
            )


def create_calls(count: int) -> tuple[int, list[tuple[int, str]]]:
    """A practice with ``count`` claims, each with one in-progress Vapi call; (practice id, [(call id, Vapi id)])."""
    from django.db import transaction
    from django.utils import timezone

    from billingpulse.models import Patient, Practice
    from claims.models import Claim, Payer
    from telephony.models import Call

    now = timezone.now()
    with transaction.atomic():
        practice = Practice.objects.create(name="Bench webhook practice", time_zone="America/Chicago")
        payer = Payer.objects.create(practice=practice, name="Example Health Plan", payer_id="60054")
        patients = Patient.objects.bulk_create(
            [
                Patient(
                    practice=practice,
                    first_name="Pat",
                    last_name=f"Bench{n}",
                    date_of_birth=date(1970, 1, 1) + timedelta(days=n % 9000),
                )
                for n in range(max(1, count // 4))
            ],
            batch_size=2000,
        )
        claims = Claim.objects.bulk_create(
            [
                Claim(
                    practice=practice,
                    patient=patients[n % len(patients)],
                    payer=payer,
                    claim_number=f"CLM-{n:07d}",
                    service_date_from=date(2026, 9, 14),
                    diagnosis_codes=["E11.9"],
                    total_charge=Decimal("250.00"),
                )
                for n in range(count)
            ],
            batch_size=2000,
        )
        calls = Call.objects.bulk_create(
            [
                Call(
                    practice=practice,
                    claim=claim,
                    payer=payer,
                    provider=Call.Provider.VAPI,
                    provider_call_id=f"bench-{n:08d}-4a5b-4c6d-8e9f-0a1b2c3d4e5f",
                    status=Call.Status.IN_PROGRESS,
                    status_changed_at=now,
                    placed_at=now - timedelta(minutes=25),
                    started_at=now - timedelta(minutes=23),
                )
                for n, claim in enumerate(claims)
            ],
            batch_size=2000,
        )
    with transaction.get_connection().cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return practice.pk, [(call.pk, call.provider_call_id) for call in calls]


def report_bodies(example: Path, practice_id: int, calls: list[tuple[int, str]]) -> list[bytes]:
    """Vapi's example end-of-call report, once per call, naming it as Vapi would (its id, our metadata)."""
    from telephony import prompts

    envelope = json.loads(example.read_text())
    bodies = []
    for call_id, provider_id in calls:
        copied = copy.deepcopy(envelope)
        call_obj = copied["message"]["call"]
        call_obj["id"] = provider_id
        call_obj.setdefault("assistantOverrides", {})["metadata"] = {
            prompts.CALL_ID_KEY: call_id,
            prompts.PRACTICE_ID_KEY: practice_id,
        }
        call_obj.setdefault("customer", {})["externalId"] = f"{prompts.EXTERNAL_ID_PREFIX}{call_id}"
        copied["message"]["timestamp"] = int(time.time() * 1000)
        bodies.append(json.dumps(copied).encode())
    return bodies


# ---------------------------------------------------------------------------- gunicorn and wrk


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env: dict[str, str], port: int, workers: int, worker_class: str, log: Path) -> subprocess.Popen:
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "billingpulse.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        worker_class,
        "--chdir",
        str(ROOT),
        "--error-logfile",
        str(log),
        "--log-level",
        "warning",
        "--timeout",
        "60",
        "--no-control-socket",
    ]
    if worker_class == "gthread":
        command += ["--threads", "4"]
    # The workers' own output (Django's log) goes to the same file, not to this terminal.
    with open(log, "ab") as output:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=output, stderr=output)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
                if answer.status == 200:
                    break
        except OSError:
            time.sleep(0.2)
    else:
        stop_gunicorn(process)
        raise SystemExit(f"gunicorn did not answer on port {port}; see {log}")
    # Let every worker finish importing the app before anything is measured.
    time.sleep(3)
    return process


def wait_until_idle(port: int) -> float:
    """Wait until gunicorn has worked through what the last run left queued; the seconds it took.

    When wrk stops, the requests it had sent are still in the listen queue and gunicorn answers
    them all (a webhook request stores its report even though nobody reads the answer). A probe
    joins the end of that queue: once probes are answered at once, the queue is empty.
    """
    start = deadline = time.monotonic()
    deadline += 300
    quick = 0
    while quick < 3 and time.monotonic() < deadline:
        sent = time.perf_counter()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=120) as answer:
            answer.read()
        quick = quick + 1 if time.perf_counter() - sent < 0.05 else 0
    return time.monotonic() - start


def stop_gunicorn(process: subprocess.Popen) -> None:
    """Stop the gunicorn master this script started (it stops its own workers)."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
    say(f"Stopped gunicorn (pid {process.pid}).")


def raw_request(path: str, port: int, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def write_requests(prefix: Path, path: str, port: int, bodies: list[bytes], indices: list[int]) -> list[list[int]]:
    """One request file per wrk thread, each with a contiguous share of ``indices``, freshly signed."""
    from telephony.webhook import sign

    shares = [
        indices[i * len(indices) // WRK_THREADS : (i + 1) * len(indices) // WRK_THREADS] for i in range(WRK_THREADS)
    ]
    for thread, share in enumerate(shares):
        with open(f"{prefix}.{thread}", "wb") as file:
            for index in share:
                raw = raw_request(path, port, bodies[index], sign(bodies[index]))
                file.write(b"%d\n" % len(raw) + raw)
    return shares


def read_requests(prefix: Path) -> list[bytes]:
    """The requests of every thread's file, in order (the first thread's share first)."""
    requests = []
    for thread in range(WRK_THREADS):
        data = Path(f"{prefix}.{thread}").read_bytes()
        at = 0
        while at < len(data):
            newline = data.index(b"\n", at)
            length = int(data[at:newline])
            requests.append(data[newline + 1 : newline + 1 + length])
            at = newline + 1 + length
    return requests


def run_wrk(script: Path, prefix: Path, port: int, connections: int, seconds: int) -> dict:
    if connections < WRK_THREADS:
        raise SystemExit(f"use at least {WRK_THREADS} connections (one per wrk thread)")
    command = [
        "wrk",
        "--threads",
        str(WRK_THREADS),
        "--connections",
        str(connections),
        "--duration",
        f"{seconds}s",
        "--timeout",
        "10s",
        "--script",
        str(script),
        f"http://127.0.0.1:{port}/",
        "--",
        str(prefix),
    ]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120, check=False)
    for line in finished.stdout.splitlines():
        if line.startswith("WRK_RESULT "):
            return json.loads(line.removeprefix("WRK_RESULT "))
    raise SystemExit(f"wrk failed ({finished.returncode}):\n{finished.stdout}\n{finished.stderr}")


# ---------------------------------------------------------------------------- open-loop load (child process)


def open_loop_child(spec: str) -> None:
    """Send the requests of a request file at random (Poisson) arrival times; print a result like wrk's.

    Latency is from a request's scheduled time to the end of its answer, so time spent waiting
    for a free slot (at most ``limit`` requests at once) or for gunicorn to accept counts too.
    """
    options = json.loads(spec)
    requests = read_requests(Path(options["prefix"]))
    result = asyncio.run(_open_loop(requests, options["port"], options["rate"], options["seconds"], options["limit"]))
    sys.stdout.write("OPEN_LOOP_RESULT " + json.dumps(result) + "\n")


async def _open_loop(requests: list[bytes], port: int, rate: float, seconds: float, limit: int) -> dict:
    loop = asyncio.get_running_loop()
    slots = asyncio.Semaphore(limit)
    latencies: list[float] = []
    counts = {"not_ok": 0, "duplicates": 0, "errors": 0}

    async def one(raw: bytes, scheduled: float) -> None:
        async with slots:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                # One request per connection, as with gunicorn's sync workers, whatever the worker class.
                writer.write(raw.replace(b"\r\n", b"\r\nConnection: close\r\n", 1))
                await writer.drain()
                answer = await asyncio.wait_for(reader.read(), timeout=30)
                writer.close()
            except (OSError, TimeoutError):
                counts["errors"] += 1
                return
        latencies.append(loop.time() - scheduled)
        if not answer.startswith(b"HTTP/1.1 200"):
            counts["not_ok"] += 1
        if b'"duplicate"' in answer:
            counts["duplicates"] += 1

    arrivals = random.Random(20261121)
    start = loop.time()
    offset, tasks = 0.0, []
    for raw in requests:
        offset += arrivals.expovariate(rate)
        if offset > seconds:
            break
        await asyncio.sleep(max(0.0, start + offset - loop.time()))
        tasks.append(asyncio.create_task(one(raw, start + offset)))
    await asyncio.gather(*tasks)
    latencies.sort()

    def percentile(share: float) -> int:
        return int(latencies[min(len(latencies) - 1, int(share * len(latencies)))] * 1e6) if latencies else 0

    return {
        "requests": len(latencies),
        "sent": [len(tasks)],
        "duration_us": int(seconds * 1e6),
        "p50_us": percentile(0.50),
        "p90_us": percentile(0.90),
        "p99_us": percentile(0.99),
        "max_us": int(latencies[-1] * 1e6) if latencies else 0,
        "errors_connect": counts["errors"],
        "not_ok": [counts["not_ok"]],
        "duplicates": [counts["duplicates"]],
        "wrapped": [0],
    }


def run_open_loop(prefix: Path, port: int, rate: float, seconds: int, limit: int) -> dict:
    spec = json.dumps({"prefix": str(prefix), "port": port, "rate": rate, "seconds": seconds, "limit": limit})
    command = [sys.executable, str(Path(__file__).resolve()), "--open-loop-child", spec]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120, check=False)
    for line in finished.stdout.splitlines():
        if line.startswith("OPEN_LOOP_RESULT "):
            return json.loads(line.removeprefix("OPEN_LOOP_RESULT "))
    raise SystemExit(f"the open-loop generator failed ({finished.returncode}):\n{finished.stdout}\n{finished.stderr}")


# ---------------------------------------------------------------------------- CPU per request

CPU_PARTS = ("gunicorn workers", "PostgreSQL backends", "Redis", "wrk")


class CpuMeter:
    """CPU seconds used by the processes that serve a run: gunicorn's workers, this database's backends, Redis.

    Read from ``/proc/<pid>/stat`` (Linux) before and after each wrk run, so the rest of the machine
    (other work, this script) is left out; wrk's own CPU comes from ``getrusage`` of finished children.
    """

    def __init__(self, master_pid: int, database: str, with_redis: bool) -> None:
        self.master_pid, self.database, self.with_redis = master_pid, database, with_redis
        self.ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def pids(self) -> dict[str, set[int]]:
        import psycopg

        with psycopg.connect(f"{DEFAULT_SERVER}/postgres", autocommit=True) as connection:
            backends = connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (self.database,)
            ).fetchall()
        return {
            "gunicorn workers": set(_pgrep("-P", str(self.master_pid))),
            "PostgreSQL backends": {pid for (pid,) in backends},
            "Redis": set(_pgrep("-x", "redis-server")) if self.with_redis else set(),
        }

    def seconds(self, pid: int) -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / self.ticks

    def start(self) -> tuple[dict[str, set[int]], dict[int, float], float]:
        import resource

        pids = self.pids()
        used = {pid: self.seconds(pid) for group in pids.values() for pid in group}
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return pids, used, children.ru_utime + children.ru_stime

    def stop(self, started, requests: int) -> dict[str, float]:
        """Milliseconds of CPU per request for each part since ``started``."""
        import resource

        pids, used, children_before = started
        now = self.pids()
        result = {}
        for part, group in now.items():
            every = group | pids[part]
            result[part] = sum(self.seconds(pid) - used.get(pid, 0.0) for pid in every) * 1000 / max(requests, 1)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        result["wrk"] = (children.ru_utime + children.ru_stime - children_before) * 1000 / max(requests, 1)
        return result


def _pgrep(*args: str) -> list[int]:
    found = subprocess.run(["pgrep", *args], capture_output=True, text=True, check=False).stdout.split()
    return [int(pid) for pid in found]


# ---------------------------------------------------------------------------- runs


class Pool:
    """The reports not sent yet: each first-delivery run takes from the front; a report is sent at most once."""

    def __init__(self, size: int) -> None:
        self.unused = list(range(size))

    def take(self, shares: list[list[int]], sent: list[int]) -> None:
        taken = set()
        for share, count in zip(shares, sent, strict=True):
            taken.update(share[:count])
        self.unused = [index for index in self.unused if index not in taken]

    def take_first(self, count: int) -> list[int]:
        taken, self.unused = self.unused[:count], self.unused[count:]
        return taken


@dataclass
class Bench:
    work: Path
    script: Path
    port: int
    bodies: list[bytes]
    calls: list[tuple[int, str]]
    pool: Pool
    meter: CpuMeter | None = None
    fastest: float = 500.0  # webhook requests/s: the fastest run so far, or this if none was faster

    def run(self, run: Run, seconds: int, connections: int = 0, rate: float = 0.0) -> Run:
        """One timed run with wrk (``connections``) or the open-loop generator (``rate``), then wait until idle."""
        prefix = self.work / f"requests-{run.endpoint}-{run.kind or 'any'}"
        expected = rate or self.fastest
        cap = int(expected * seconds * 2) + 2 * max(connections, 200)
        if run.endpoint == "baseline":
            shares = write_requests(prefix, BASELINE_PATH, self.port, self.bodies, list(range(min(cap, 4000))))
        elif run.kind == "first":
            shares = write_requests(prefix, WEBHOOK_PATH, self.port, self.bodies, self.pool.unused[:cap])
        else:
            shares = write_requests(prefix, WEBHOOK_PATH, self.port, self.bodies, self.stored()[:cap])
        if rate:
            run.result = run_open_loop(prefix, self.port, rate, seconds, 200)
            shares = [[index for share in shares for index in share]]
        else:
            started = self.meter.start() if self.meter else None
            run.result = run_wrk(self.script, prefix, self.port, connections, seconds)
            if started:
                run.result["cpu_ms"] = self.meter.stop(started, run.result["requests"])
        if run.kind == "first":
            sent = [min(count, len(share)) for count, share in zip(run.result["sent"], shares, strict=True)]
            self.pool.take(shares, sent)
            self.fastest = max(self.fastest, run.rate) if not rate else self.fastest
        for thread in range(WRK_THREADS):
            Path(f"{prefix}.{thread}").unlink(missing_ok=True)
        drained = wait_until_idle(self.port)
        say(
            f"{run.label}: {run.rate:,.0f} req/s, p50 {run.ms('p50_us'):.1f} ms, p99 {run.ms('p99_us'):.1f} ms, "
            f"max {run.ms('max_us'):.1f} ms; {run.result['requests']:,} answered, not 200: {run.not_ok}, "
            f"socket errors: {run.errors}, duplicates: {run.duplicates}, past the end of the file: {run.wrapped}; "
            f"idle again after {drained:.1f} s"
        )
        return run

    def stored(self) -> list[int]:
        """Reports whose end-of-call event is stored (a duplicate delivery of them changes nothing)."""
        from telephony.models import CallEvent

        done = set(CallEvent.objects.filter(kind="end-of-call-report").values_list("call_id", flat=True))
        return [index for index, (call_id, _provider_id) in enumerate(self.calls) if call_id in done]


# ---------------------------------------------------------------------------- database floor

FLOOR_SQL = """
WITH event AS (
    INSERT INTO telephony_callevent (call_id, kind, dedupe_key, payload, received_at)
    VALUES (%(call)s, 'end-of-call-report', %(key)s, %(payload)s::jsonb, now())
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING call_id
)
UPDATE telephony_call SET
    report_received_at = now(), updated_at = now(),
    status = CASE WHEN status = ANY(%(sources)s) THEN 'ended' ELSE status END,
    status_changed_at = CASE WHEN status = ANY(%(sources)s) THEN now() ELSE status_changed_at END,
    ended_reason = %(ended_reason)s, failure_category = %(failure_category)s, transcript = %(transcript)s,
    messages = %(messages)s::jsonb, summary = %(summary)s, recording_url = %(recording_url)s,
    stereo_recording_url = %(stereo_recording_url)s, cost = %(cost)s, started_at = %(started_at)s,
    ended_at = %(ended_at)s, duration_seconds = %(duration_seconds)s
FROM event WHERE telephony_call.id = event.call_id
"""


def database_floor(database_url: str, bodies: list[bytes], calls: list, indices: list[int], workers: int, seconds: int):
    """The reports' event and call update as one SQL statement each (autocommit), from ``workers`` threads.

    No HTTP, no Django, no enqueueing: what PostgreSQL needs to store the reports on this
    machine, the most any webhook that stores a report before answering could reach.
    Returns (reports per second, reports written).
    """
    import psycopg

    from telephony import ingest
    from telephony.status import CallStatus, can_move

    sources = [status for status in CallStatus.values if can_move(status, CallStatus.ENDED)]
    params = []
    for index in indices:
        message = json.loads(bodies[index])["message"]
        fields = ingest._report_fields(message, message["call"])
        call_id = calls[index][0]
        fields["messages"] = json.dumps(fields["messages"])
        fields["failure_category"] = str(fields["failure_category"])
        params.append(
            {
                **fields,
                "call": call_id,
                "key": f"{call_id}:end-of-call-report",
                "payload": json.dumps({"message": message}),
                "sources": sources,
            }
        )
    shares = [params[i::workers] for i in range(workers)]
    done = [0] * workers
    elapsed = [0.0] * workers
    ready = threading.Barrier(workers + 1)

    def work(number: int) -> None:
        with psycopg.connect(psycopg_url(database_url), autocommit=True) as connection:
            ready.wait()
            start = time.perf_counter()
            for values in shares[number]:
                connection.execute(FLOOR_SQL, values)
                done[number] += 1
                if time.perf_counter() - start > seconds:
                    break
            elapsed[number] = time.perf_counter() - start

    threads = [threading.Thread(target=work, args=(number,)) for number in range(workers)]
    for thread in threads:
        thread.start()
    ready.wait()
    for thread in threads:
        thread.join()
    return sum(done) / max(elapsed), sum(done)


# ---------------------------------------------------------------------------- profile

# Parts of a webhook request, timed by wrapping these functions: label -> (module, attribute path).
# A part's time includes what it calls (waiting for PostgreSQL overlaps the statements above it).
# Parts the code does not have, or never reaches, are left out of the table.
TIMED_PARTS = {
    "- signature check (HMAC of the body)": ("telephony.webhook", "_signature_ok"),
    "- reading the report's fields": ("telephony.ingest", "_report_fields"),
    "- finding the call (ORM path: SELECT)": ("telephony.ingest", "_find_call"),
    "- storing the event (ORM path: SAVEPOINT, INSERT, RELEASE)": ("telephony.ingest", "_store_event"),
    "- updating the call (ORM path: UPDATE)": ("django.db.models.query", "QuerySet.update"),
    "- SQL statements, all (Django's cursor)": ("django.db.backends.utils", "CursorWrapper.execute"),
    "- COMMIT": ("psycopg", "Connection.commit"),
    "- enqueueing the pipeline (after commit)": ("telephony.ingest", "_enqueue_pipeline"),
    "Waiting for PostgreSQL (psycopg, every round trip)": ("psycopg", "Connection.wait"),
}


@contextmanager
def timed_parts(totals: dict[str, float]):
    """Add the time spent in each of ``TIMED_PARTS`` to ``totals`` while inside."""
    import importlib

    patched = []
    for label, (module_name, path) in TIMED_PARTS.items():
        owner = importlib.import_module(module_name)
        *outer, name = path.split(".")
        for part in outer:
            owner = getattr(owner, part)
        original = getattr(owner, name, None)
        if original is None:
            continue

        def timed(*args, _original=original, _label=label, **kwargs):
            start = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                totals[_label] += time.perf_counter() - start

        setattr(owner, name, timed)
        patched.append((owner, name, original))
    try:
        yield
    finally:
        for owner, name, original in reversed(patched):
            setattr(owner, name, original)


def profile_in_process(bodies: list[bytes], indices: list[int], top: int) -> dict:
    """First deliveries through Django's test client in this process (no gunicorn, no wrk).

    The first half is timed, with the parts of ``TIMED_PARTS`` timed too; the second half runs
    under cProfile, whose top functions are printed. Returns medians and ms per part.
    """
    import cProfile
    import logging
    import pstats

    from django.db import connection
    from django.test import Client

    from telephony.webhook import sign

    logging.getLogger("kombu.connection").setLevel(logging.ERROR)  # "No hostname was supplied" (filesystem broker)
    client = Client(SERVER_NAME="localhost")

    def post(index: int, path: str) -> float:
        headers = sign(bodies[index]) if path == WEBHOOK_PATH else {}
        start = time.perf_counter()
        answer = client.post(path, bodies[index], content_type="application/json", headers=headers)
        seconds = time.perf_counter() - start
        assert answer.status_code == 200 and b"duplicate" not in answer.content, answer.content
        return seconds

    half = len(indices) // 2
    baseline = [post(index, BASELINE_PATH) for index in indices[:half]]
    totals = dict.fromkeys(TIMED_PARTS, 0.0)
    with timed_parts(totals):
        timed = [post(index, WEBHOOK_PATH) for index in indices[:half]]
    statements: list[tuple[float, str]] = []
    in_transaction = []

    def record(execute, sql, params, many, context):
        in_transaction.append(context["connection"].in_atomic_block)
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.append((time.perf_counter() - start, sql))

    with connection.execute_wrapper(record):
        post(indices[half], WEBHOOK_PATH)
    profiler = cProfile.Profile()
    profiler.enable()
    for index in indices[half + 1 :]:
        post(index, WEBHOOK_PATH)
    profiler.disable()
    parts = {"Whole request (test client, middleware, DRF, view)": sum(timed) / len(timed)}
    parts.update({label: seconds / len(timed) for label, seconds in totals.items() if seconds})
    say(
        f"In-process, one request at a time: baseline median {median(baseline) * 1000:.2f} ms, webhook first "
        f"delivery median {median(timed) * 1000:.2f} ms; the statements of one webhook request:"
    )
    for seconds, sql in statements:
        say(f"  {seconds * 1000:6.2f} ms  {sql[:140]}")
    say(f"Where a webhook request's time goes (mean of {len(timed)} requests; ms per request):")
    for label, seconds in parts.items():
        say(f"  {seconds * 1000:6.2f}  {label}")
    stats = pstats.Stats(profiler)
    for order in ("cumulative", "tottime"):
        say(f"\nTop {top} by {order} (cProfile of {len(indices) - half - 1} more requests):")
        stats.sort_stats(order).print_stats(top)
    return {
        "baseline": median(baseline),
        "webhook": median(timed),
        "statements": len(statements),
        "transaction": ", plus BEGIN and COMMIT" if any(in_transaction) else ", in autocommit",
        "parts": parts,
        "timed": len(timed),
    }


# ---------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=50_000, help="calls (and reports) to create (default 50000)")
    parser.add_argument("--connections", type=int, default=200, help="concurrent connections (default 200)")
    parser.add_argument("--seconds", type=int, default=10, help="length of each timed run (default 10)")
    parser.add_argument("--rounds", type=int, default=3, help="baseline/webhook rounds; medians reported (default 3)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per endpoint (default 3)")
    workers_default = 2 * (os.cpu_count() or 1) + 1
    parser.add_argument("--workers", type=int, default=workers_default, help="gunicorn workers (default 2*CPUs+1)")
    parser.add_argument("--worker-class", choices=("sync", "gthread"), default="sync", help="gunicorn worker class")
    parser.add_argument(
        "--profile", type=int, default=600, metavar="N", help="deliveries profiled in-process (0: none)"
    )
    parser.add_argument("--broker", choices=("redis", "filesystem"), default="redis", help="Celery broker")
    parser.add_argument("--redis-url", default=REDIS_URL, help=f"Redis for the broker (default {REDIS_URL})")
    parser.add_argument("--save-summary", type=Path, metavar="FILE", help="write this run's headline figures")
    parser.add_argument("--before", type=Path, metavar="FILE", help="a --save-summary file to show beside this run")
    parser.add_argument("--keep", action="store_true", help=f"keep the {DB_NAME} database")
    parser.add_argument("--no-results", action="store_true", help="print only; leave RESULTS.md alone")
    parser.add_argument("--open-loop-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.open_loop_child:
        open_loop_child(args.open_loop_child)
        return
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    example = next((path for path in EXAMPLES if path.exists()), None)
    if example is None:
        raise SystemExit("no end-of-call report example found")

    given = os.environ.get("DATABASE_URL")
    own_var_dir = not os.environ.get("BENCH_VAR_DIR")  # else VAR_DIR is the caller's and stays
    database_url = given or create_database()
    os.environ["DATABASE_URL"] = database_url
    # benchlib migrates; it never drops a database named by DATABASE_URL, so this script drops its own.
    database = prepare_database(keep=True)
    redis_url = args.redis_url if args.broker == "redis" else None
    broker = Broker(redis_url)
    env = environment(database.url, redis_url)
    os.environ.update(env)
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from telephony.models import Call, CallEvent

    var_dir = Path(settings.VAR_DIR)
    work = Path(tempfile.mkdtemp(prefix="bench-webhook-"))
    script = work / "rotate.lua"
    script.write_text(WRK_SCRIPT)
    process = None
    try:
        say(f"Creating {args.calls:,} claims with an in-progress Vapi call each …")
        practice_id, calls = create_calls(args.calls)
        bodies = report_bodies(example, practice_id, calls)
        body_size = median([len(body) for body in bodies])
        say(f"Reports: {len(bodies):,}, {body_size:,.0f} bytes each (from {example})")
        port = free_port()
        process = start_gunicorn(env, port, args.workers, args.worker_class, work / "gunicorn.log")
        say(f"gunicorn pid {process.pid}: {args.workers} {args.worker_class} workers on 127.0.0.1:{port}")
        meter = CpuMeter(process.pid, database.url.rsplit("/", 1)[1], bool(redis_url))
        bench = Bench(work, script, port, bodies, calls, Pool(len(bodies)), meter)
        many, few = f"{args.connections} connections", f"{args.workers} connections"

        bench.run(Run("warm-up baseline", "baseline", many), args.warmup, connections=args.connections)
        bench.run(Run("warm-up webhook", "webhook", many, "first"), args.warmup, connections=args.connections)
        rounds: list[tuple[Run, Run]] = []
        for number in range(1, args.rounds + 1):
            base = bench.run(Run(f"round {number} baseline", "baseline", many), args.seconds, args.connections)
            hook = bench.run(Run(f"round {number} webhook", "webhook", many, "first"), args.seconds, args.connections)
            rounds.append((base, hook))
        runs = {"base": [base for base, _hook in rounds], "hook": [hook for _base, hook in rounds]}
        runs["duplicate"] = [bench.run(Run("duplicates", "webhook", many, "duplicate"), args.seconds, args.connections)]
        runs["base_few"] = [bench.run(Run("baseline, few", "baseline", few), args.seconds, args.workers)]
        runs["hook_few"] = [bench.run(Run("webhook, few", "webhook", few, "first"), args.seconds, args.workers)]
        for count in SWEEP_CONNECTIONS:
            load = f"{count} connections"
            runs[f"base_{count}"] = [bench.run(Run(f"baseline, {load}", "baseline", load), args.seconds, count)]
            runs[f"hook_{count}"] = [bench.run(Run(f"webhook, {load}", "webhook", load, "first"), args.seconds, count)]
        paced = round(median([run.rate for run in runs["hook"]]) * PACED_SHARE)
        load = f"{paced:,}/s offered, ≤ {args.connections} at once"
        runs["base_paced"] = [bench.run(Run("baseline, paced", "baseline", load), args.seconds, rate=paced)]
        runs["hook_paced"] = [bench.run(Run("webhook, paced", "webhook", load, "first"), args.seconds, rate=paced)]
        stop_gunicorn(process)
        process = None

        # What the webhook did, checked in the database and the broker's queue folder.
        events = CallEvent.objects.filter(kind="end-of-call-report").count()
        ended = Call.objects.filter(status=Call.Status.ENDED, report_received_at__isnull=False).count()
        enqueued = broker.queued()
        say(f"End-of-call events stored: {events:,}; calls ended by a report: {ended:,}; tasks queued: {enqueued:,}")
        checks = {"events": events, "ended": ended, "enqueued": enqueued}

        profiled = bench.pool.take_first(args.profile)
        floor_indices = bench.pool.unused
        floor_rate, floor_count = database_floor(
            database.url, bodies, calls, floor_indices, args.workers, max(1, args.seconds // 2)
        )
        say(f"Database floor: {floor_rate:,.0f} reports/s ({floor_count:,} written by {args.workers} connections)")
        profile = profile_in_process(bodies, profiled, 25) if len(profiled) >= 10 else None
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        summary = headline(runs, paced, args)
        before = json.loads(args.before.read_text()) if args.before else None
        lines = report(
            args, runs, paced, (floor_rate, floor_count), profile, body_size, checks, version, broker, before
        )
        say("\n".join(lines))
        if args.save_summary:
            args.save_summary.write_text(json.dumps(summary, indent=2) + "\n")
        if not args.no_results:
            write_section("webhook", "Webhook ingestion under load (C)", lines)
    finally:
        if process is not None:
            stop_gunicorn(process)
        shutil.rmtree(work, ignore_errors=True)
        broker.clean()
        if own_var_dir:  # the temporary VAR_DIR, with the queued pipeline tasks
            shutil.rmtree(var_dir, ignore_errors=True)
        finish_database(database)
        if not given and not args.keep:
            drop_database()


# The rows of the results table: key in ``runs`` -> name. Sweep rows follow the "one connection per worker" ones.
ROWS = {
    "base": "Baseline: bare DRF view, JSON parsed",
    "hook": "Webhook: first deliveries",
    "duplicate": "Webhook: duplicate deliveries",
    "base_few": "Baseline, one connection per worker",
    "hook_few": "Webhook: first deliveries, one connection per worker",
    **{
        key: name
        for count in SWEEP_CONNECTIONS
        for key, name in ((f"base_{count}", "Baseline"), (f"hook_{count}", "Webhook: first deliveries"))
    },
    "base_paced": "Baseline, paced",
    "hook_paced": "Webhook: first deliveries, paced",
}


def cpu_per_request(group: list[Run]) -> dict[str, float]:
    return {part: median([run.result["cpu_ms"][part] for run in group]) for part in CPU_PARTS}


def headline(runs: dict[str, list[Run]], paced: int, args) -> dict:
    """Each row's load, requests/s and latencies (medians of its runs), for ``--save-summary``."""
    from datetime import UTC, datetime

    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "workers": f"{args.workers} {args.worker_class}",
        "paced": paced,
        "rows": {
            key: {
                "load": runs[key][0].load,
                "rate": median([run.rate for run in runs[key]]),
                "p50": median([run.ms("p50_us") for run in runs[key]]),
                "p99": median([run.ms("p99_us") for run in runs[key]]),
            }
            for key in ROWS
            if key in runs
        },
    }


def before_lines(before: dict, runs: dict[str, list[Run]]) -> list[str]:
    """The saved run beside this one: requests/s, the ratio to each run's own baseline, p99."""

    def rate(key: str) -> float:
        return median([run.rate for run in runs[key]])

    def p99(key: str) -> float:
        return median([run.ms("p99_us") for run in runs[key]])

    old = before["rows"]
    rows = []
    for base_key, hook_key, load in [
        ("base", "hook", old["hook"]["load"]),
        ("base_few", "hook_few", old["hook_few"]["load"]),
        *((f"base_{n}", f"hook_{n}", f"{n} connections") for n in SWEEP_CONNECTIONS),
        ("base_paced", "hook_paced", "paced (each run at its own rate)"),
    ]:
        if hook_key not in old or hook_key not in runs:
            continue
        rows.append(
            [
                load,
                f"{old[hook_key]['rate']:,.0f} ({old[hook_key]['rate'] / old[base_key]['rate']:.2f}×)",
                f"{rate(hook_key):,.0f} ({rate(hook_key) / rate(base_key):.2f}×)",
                f"{old[hook_key]['p99']:.1f} ms (baseline {old[base_key]['p99']:.1f} ms)",
                f"{p99(hook_key):.1f} ms (baseline {p99(base_key):.1f} ms)",
            ]
        )
    return [
        "",
        f"Before and after: the webhook's code as it was, measured by this script on this machine at "
        f"{before['date']} ({before['workers']} workers, each run with its own baseline; paced at "
        f"{before['paced']:,}/s then), against this run. Requests/s with the ratio to the baseline of the same run:",
        "",
        *table(["Load", "Requests/s before", "Requests/s now", "p99 before", "p99 now"], rows),
    ]


def report(
    args,
    runs: dict[str, list[Run]],
    paced: int,
    floor,
    profile,
    body_size: float,
    checks: dict,
    version,
    broker: Broker,
    before: dict | None = None,
) -> list[str]:
    def rate(key: str) -> float:
        return median([run.rate for run in runs[key]])

    def latency(key: str, which: str) -> float:
        return median([run.ms(which) for run in runs[key]])

    def row(name: str, key: str) -> list[str]:
        group = runs[key]
        return [
            name,
            group[0].load,
            f"{rate(key):,.0f}",
            f"{latency(key, 'p50_us'):.1f} ms",
            f"{latency(key, 'p99_us'):.1f} ms",
            f"{max(run.ms('max_us') for run in group):.1f} ms",
            f"{sum(run.result['requests'] for run in group):,}",
            f"{sum(run.not_ok + run.errors for run in group)}",
        ]

    base_rate, hook_rate = rate("base"), rate("hook")
    hook_p99 = latency("hook", "p99_us")
    ratio = hook_rate / base_rate
    floor_rate, floor_count = floor
    rounds_text = f"{args.rounds} rounds, medians" if args.rounds > 1 else "one round"
    lines = machine_lines(version)
    lines += [
        f"- Command: `.venv/bin/python bench/webhook.py` ({rounds_text}; {args.seconds} s per run after "
        f"{args.warmup} s warm-ups; {args.calls:,} calls in the database)",
        f"- Server: gunicorn, {args.workers} {args.worker_class} workers on 127.0.0.1, `DEBUG=false`, no access log; "
        "PostgreSQL, gunicorn and the load generator share the machine's CPUs",
        f"- Load: `wrk` ({WRK_THREADS} threads) keeps N connections busy, each sending its next request when the "
        f"previous one is answered; *paced* rows: requests at random (Poisson) times at a fixed rate, "
        f"{PACED_SHARE:.0%} of the webhook's rate at {args.connections} connections, the same rate for both "
        "endpoints, from a Python asyncio generator in a child process (a new connection per request). Latency is "
        "from sending (paced: the scheduled time) to the answer, queueing included",
        f"- Body: Vapi's example end-of-call report ({body_size:,.0f} bytes), HMAC-signed with a fresh timestamp; "
        "the same bodies go to both endpoints. Every first delivery is a different call's first report: it stores "
        "the event, updates the call and enqueues the post-call pipeline after commit",
        broker.describe(),
        "- Baseline: `POST /bench/baseline` (`bench/baseline_urls.py`), a DRF view with no authentication that reads "
        '`request.data` and answers `{"ok": true}`, through the same middleware',
        "",
    ]
    lines += table(
        ["Endpoint", "Load", "Requests/s", "p50", "p99", "Max", "Answered", "Not 200 / errors"],
        [row(name, key) for key, name in ROWS.items() if key in runs],
    )
    cpu = {key: cpu_per_request(runs[key]) for key in ("base", "hook") if "cpu_ms" in runs[key][0].result}
    if len(cpu) == 2:
        base_cpu, hook_cpu = sum(cpu["base"].values()), sum(cpu["hook"].values())
        lines += [
            "",
            f"CPU per request at {args.connections} connections (ms; medians of the rounds; read from `/proc` for "
            "gunicorn's workers, this database's PostgreSQL backends and Redis, and from `getrusage` for wrk, so "
            "other work on the machine is left out). On a machine whose CPUs are the limit, the ratio of requests/s "
            "follows the ratio of these totals:",
            "",
        ]
        lines += table(
            ["Endpoint", *CPU_PARTS, "Total"],
            [
                [name, *(f"{cpu[key][part]:.2f}" for part in CPU_PARTS), f"{sum(cpu[key].values()):.2f}"]
                for key, name in (("base", "Baseline"), ("hook", "Webhook: first deliveries"))
            ],
        )
        lines += [
            "",
            f"Baseline ÷ webhook CPU: {base_cpu / hook_cpu:.2f} (measured rate ratio {ratio:.2f}×). The webhook's "
            f"PostgreSQL work alone is {cpu['hook']['PostgreSQL backends']:.2f} ms per report, "
            f"{cpu['hook']['PostgreSQL backends'] / base_cpu:.2f}× the baseline's whole request: a webhook with no "
            f"Python cost at all over the baseline would use {base_cpu + cpu['hook']['PostgreSQL backends']:.2f} ms, "
            f"{base_cpu / (base_cpu + cpu['hook']['PostgreSQL backends']):.2f}× the baseline's rate.",
        ]
    rate_ok, p99_ok = ratio >= GOAL_RATE_RATIO, hook_p99 < GOAL_P99_MS
    first_runs = [run for key, group in runs.items() if key.startswith("hook") for run in group]
    wrapped = sum(run.wrapped for run in first_runs)
    all_ok = all(run.not_ok == 0 and run.errors == 0 for group in runs.values() for run in group)
    duplicate = runs["duplicate"][0]
    lines += [
        "",
        f"**Rate goal (webhook ≥ {GOAL_RATE_RATIO:g}× the baseline's requests/s): {'met' if rate_ok else 'NOT met'}** "
        f"— {hook_rate:,.0f} against {base_rate:,.0f} requests/s, {ratio:.2f}×.",
        "",
        f"**Latency goal (webhook p99 < {GOAL_P99_MS:g} ms at {args.connections} connections): "
        f"{'met' if p99_ok else 'NOT met'}** — p99 {hook_p99:.1f} ms (baseline {latency('base', 'p99_us'):.1f} ms). "
        f"With {args.connections} connections always waiting, the mean latency is {args.connections} ÷ requests/s "
        f"(Little's law): {args.connections / hook_rate * 1000:.0f} ms for the webhook, "
        f"{args.connections / base_rate * 1000:.0f} ms for the baseline; a p99 under {GOAL_P99_MS:g} ms at "
        f"{args.connections} connections needs more than {args.connections / (GOAL_P99_MS / 1000):,.0f} requests/s. "
        f"Under loads the server keeps up with, the webhook's p99 is "
        + ", ".join(
            f"{latency(f'hook_{n}', 'p99_us'):.1f} ms at {n} connections "
            f"(baseline {latency(f'base_{n}', 'p99_us'):.1f} ms)"
            for n in SWEEP_CONNECTIONS
        )
        + f" and {latency('hook_paced', 'p99_us'):.1f} ms paced at {paced:,} requests/s "
        f"(baseline {latency('base_paced', 'p99_us'):.1f} ms at the same rate).",
        "",
        f"**Database floor:** the same reports' event and call update as one SQL statement each (an `INSERT ... ON "
        f"CONFLICT DO NOTHING` and the `UPDATE` in one CTE, autocommit), from {args.workers} connections with no "
        f"HTTP, no Django and no enqueueing: {floor_rate:,.0f} reports/s ({floor_count:,} written), "
        f"{floor_rate / base_rate:.2f}× the baseline's requests/s: the most a webhook that stores each report in "
        "its own transaction before answering could reach here, with nothing else to do.",
    ]
    if profile:
        lines += [
            "",
            f"In-process, one request at a time through Django's test client: baseline "
            f"{profile['baseline'] * 1000:.2f} ms, webhook first delivery {profile['webhook'] * 1000:.2f} ms "
            f"(medians; {profile['statements']} SQL statements per request{profile['transaction']}). Where the "
            f"webhook's time goes (means of {profile['timed']:,} requests, parts timed by wrapping their "
            "functions; a part includes what it calls):",
            "",
        ]
        lines += table(
            ["Part", "ms per request"], [[label, f"{s * 1000:.2f}"] for label, s in profile["parts"].items()]
        )
    lines += [
        "",
        f"Checked after the runs: {checks['events']:,} end-of-call events stored and {checks['ended']:,} calls ended "
        f"by their report (warm-up and requests in flight when a run stopped included), {checks['enqueued']:,} "
        f"post-call pipeline tasks in the broker's queue; every answer 200 with no socket errors: "
        f"{'yes' if all_ok else 'NO'}; duplicate deliveries answered as duplicates: {duplicate.duplicates:,} of "
        f"{duplicate.result['requests']:,}; first-delivery runs that ran out of reports: "
        f"{'none' if wrapped == 0 else f'{wrapped:,} requests repeated'}.",
    ]
    if before:
        lines += before_lines(before, runs)
    return lines


if __name__ == "__main__":
    main()
