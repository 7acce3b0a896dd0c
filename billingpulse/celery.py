"""The Celery application: JSON messages only, settings from ``CELERY_*`` in settings.py."""

from __future__ import annotations

import os

from celery import Celery, signals

from billingpulse.lib.request_id import current_request_id

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billingpulse.settings")

app = Celery("billingpulse")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.before_task_publish.connect
def _send_request_id(headers: dict, **_kwargs) -> None:
    # Work started by a request logs with that request's id in the worker too.
    headers.setdefault("request_id", current_request_id.get())


@signals.task_prerun.connect
def _receive_request_id(task, **_kwargs) -> None:
    request_id = getattr(task.request, "request_id", None) or task.request.id
    current_request_id.set(request_id or "-")


@signals.worker_ready.connect
def _report_ready(**_kwargs) -> None:
    # Check in at once, so the dashboard need not wait for beat's first heartbeat.
    from billingpulse.services import record_worker_heartbeat

    record_worker_heartbeat()


@signals.worker_process_init.connect
def _warm_up(**_kwargs) -> None:
    # The review gate's second reading is trained once per process: do it before the first call ends.
    from ai.extraction import _second_reading

    _second_reading.warm_up()
