from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from billingpulse import services
from billingpulse.celery import app
from billingpulse.tasks import record_heartbeat

ROOT = Path(__file__).resolve().parents[2]


def test_it_speaks_json_only():
    assert app.conf.task_serializer == "json"
    assert app.conf.result_serializer == "json"
    assert app.conf.accept_content == ["json"]


def test_it_schedules_with_the_database_scheduler():
    assert app.conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["options"]["expires"] < entry["schedule"]


@pytest.mark.django_db
def test_it_records_the_worker_heartbeat():
    assert services.last_worker_heartbeat() is None

    record_heartbeat()

    assert services.last_worker_heartbeat() is not None


def _manage_env(var_dir: Path) -> dict:
    env = {**os.environ, "VAR_DIR": str(var_dir)}
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = f"sqlite:///{var_dir / 'worker-test.sqlite3'}"
    return env


def test_it_runs_a_task_in_a_real_worker(tmp_path):
    """On the embedded filesystem broker by default; on Redis when REDIS_URL is set."""
    # GIVEN a migrated database, a broker folder of its own, and a real worker process
    env = _manage_env(tmp_path)
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=120)
    subprocess.run([*manage, "createcachetable"], cwd=ROOT, env=env, check=True, timeout=60)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "billingpulse", "worker", "--pool=solo", "-l", "warning"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        # WHEN the web side enqueues the heartbeat task
        send = "from billingpulse.tasks import record_heartbeat; record_heartbeat.delay()"
        subprocess.run([*manage, "shell", "-v", "0", "-c", send], cwd=ROOT, env=env, check=True, timeout=60)

        # THEN the worker runs it and the web side sees the heartbeat
        read = "from billingpulse.services import last_worker_heartbeat; print(last_worker_heartbeat())"
        seen = "None"
        deadline = time.monotonic() + 60
        while seen == "None" and time.monotonic() < deadline:
            time.sleep(1)
            result = subprocess.run(
                [*manage, "shell", "-v", "0", "-c", read], cwd=ROOT, env=env, capture_output=True, text=True
            )
            seen = result.stdout.strip() or "None"
        assert seen != "None", "the worker did not run the task within a minute"
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
