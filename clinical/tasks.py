from __future__ import annotations

from celery import shared_task

from billingpulse.lib.tasks import TRANSIENT_DB_ERRORS
from clinical import services


@shared_task(
    ignore_result=True,
    autoretry_for=TRANSIENT_DB_ERRORS,
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
)
def lock_signed_notes() -> int:
    """Lock the notes signed longer ago than ``NOTE_AUTO_LOCK_HOURS`` (hourly, from beat)."""
    return services.lock_signed_notes()
