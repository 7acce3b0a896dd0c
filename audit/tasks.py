from __future__ import annotations

from celery import shared_task

from audit import chain
from billingpulse.lib.tasks import TRANSIENT_DB_ERRORS


@shared_task(autoretry_for=TRANSIENT_DB_ERRORS, retry_backoff=True, retry_jitter=True, max_retries=3)
def seal_audit_chains() -> int:
    """Chain entries whose after-commit chaining was lost (a process stopped right after a commit)."""
    return chain.seal_all()
