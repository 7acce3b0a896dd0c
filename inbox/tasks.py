from __future__ import annotations

from celery import shared_task

from billingpulse.lib.tasks import TRANSIENT_DB_ERRORS
from inbox import services


@shared_task(
    ignore_result=True, autoretry_for=TRANSIENT_DB_ERRORS, retry_backoff=True, retry_jitter=True, max_retries=5
)
def refresh_inbox() -> dict[str, int]:
    """Open and close needs-action items from the current state (daily, from beat)."""
    return services.refresh()
