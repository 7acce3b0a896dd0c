from __future__ import annotations

from celery import shared_task

from billingpulse.lib.tasks import TRANSIENT_DB_ERRORS
from exports import services

EXPORT_MAX_RETRIES = 5


@shared_task(
    bind=True,
    ignore_result=True,
    acks_late=True,
    autoretry_for=TRANSIENT_DB_ERRORS,
    retry_backoff=True,
    retry_jitter=True,
    max_retries=EXPORT_MAX_RETRIES,
)
def write_export(self, export_id: int) -> None:
    """Write a queued export's file; a deleted export is nothing to do."""
    services.write_export(export_id, can_retry=self.request.retries < self.max_retries)


@shared_task(
    ignore_result=True, autoretry_for=TRANSIENT_DB_ERRORS, retry_backoff=True, retry_jitter=True, max_retries=3
)
def delete_expired_exports() -> int:
    return services.delete_expired_exports()
