from __future__ import annotations

from celery import shared_task

from billingpulse import services
from billingpulse.lib.tasks import TRANSIENT_ERRORS


# Beat sends it every minute; retries beyond that would only overlap the next one.
@shared_task(ignore_result=True, autoretry_for=TRANSIENT_ERRORS, retry_backoff=True, retry_jitter=True, max_retries=3)
def record_heartbeat() -> None:
    services.record_worker_heartbeat()
