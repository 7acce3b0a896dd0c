from __future__ import annotations

from celery import shared_task

from billingpulse import services


@shared_task(ignore_result=True)
def record_heartbeat() -> None:
    services.record_worker_heartbeat()
