"""Every Celery task retries what passes with time (a locked or lost database) and nothing else.

A task's own work is replaced so the decorator's real retry rules run. An eager task retries
at once, without the backoff wait, and only if eager errors are not raised (each retry runs
as a new eager call).
"""

from __future__ import annotations

from unittest import mock

import pytest
from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, ProgrammingError

from billingpulse.celery import app

# Every app of the project (a folder of the repository with an apps.py), later ones included.
PROJECT_APPS = sorted(path.parent.name for path in settings.BASE_DIR.glob("*/apps.py"))


def _project_tasks() -> list[str]:
    app.loader.import_default_modules()
    return sorted(name for name in app.tasks if name.split(".")[0] in PROJECT_APPS)


TASKS = _project_tasks()


def _replace_work(task, side_effect):
    """Replace the task's own function: the one Celery's autoretry wrapper calls, or ``run`` without one."""
    return mock.patch.object(task, "_orig_run" if hasattr(task, "_orig_run") else "run", side_effect=side_effect)


@pytest.fixture(autouse=True)
def _eager_errors_not_raised(_celery_eager):
    app.conf.task_eager_propagates = False


def test_it_knows_the_tasks_that_write():
    assert {
        "billingpulse.tasks.record_heartbeat",
        "ai.tasks.sync_index",
        "claims.tasks.run_claim_import",
        "telephony.sandbox.deliver_event",
        "telephony.tasks.place_call",
    } <= set(TASKS)


@pytest.mark.parametrize("name", TASKS)
def test_it_retries_a_locked_or_lost_database_with_backoff(name):
    task = app.tasks[name]
    failures = [OperationalError("database is locked"), InterfaceError("connection already closed")]

    with _replace_work(task, [*failures, None]) as run:
        result = task.apply()

    assert result.successful(), result.result
    assert run.call_count == 3
    assert task.retry_backoff and task.retry_jitter
    assert 0 < task.max_retries <= 10


@pytest.mark.parametrize("name", TASKS)
@pytest.mark.parametrize("error", [ProgrammingError("no such column: x"), IntegrityError("UNIQUE failed"), TypeError()])
def test_it_does_not_retry_a_mistake(name, error):
    task = app.tasks[name]

    with _replace_work(task, error) as run:
        result = task.apply()

    assert result.failed() and result.result is error
    assert run.call_count == 1
