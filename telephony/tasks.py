"""Celery tasks of the call queue: thin wrappers around ``telephony.services``, ids only.

A task retries on errors reaching the database or Redis; anything else is a bug and is
logged by Celery. Each is idempotent: the services claim their work with conditional
updates, so a redelivered or duplicated task does no harm.
"""

from __future__ import annotations

from datetime import timedelta
from smtplib import SMTPException

from celery import shared_task

from billingpulse.lib.tasks import TRANSIENT_ERRORS
from telephony import services


@shared_task(
    ignore_result=True,
    acks_late=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
    retry_jitter=True,
    max_retries=8,
)
def place_call(call_id: int) -> None:
    """Place a queued call, or defer it under the pacing rules (a missing call is ignored)."""
    services.place_call(call_id)


@shared_task(ignore_result=True, autoretry_for=TRANSIENT_ERRORS, retry_backoff=True, retry_jitter=True, max_retries=3)
def dispatch_due_followups() -> None:
    """Every minute (beat): queue the follow-up calls that are due, each once."""
    services.dispatch_due_followups()


@shared_task(ignore_result=True, autoretry_for=TRANSIENT_ERRORS, retry_backoff=True, retry_jitter=True, max_retries=3)
def place_deferred_calls(grace_seconds: int | None = None) -> None:
    """Every minute (beat): wake queued calls whose wake-up was lost or too far off for the broker."""
    if grace_seconds is None:
        services.place_deferred_calls()
    else:
        services.place_deferred_calls(grace=timedelta(seconds=grace_seconds))


@shared_task(
    ignore_result=True,
    acks_late=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
    retry_jitter=True,
    max_retries=8,
)
def run_post_call_pipeline(call_id: int) -> None:
    """After a call's end-of-call report is stored: extract, apply, follow up (each step once)."""
    from telephony import pipeline

    pipeline.run_post_call_pipeline(call_id)


@shared_task(
    ignore_result=True,
    acks_late=True,
    autoretry_for=(*TRANSIENT_ERRORS, SMTPException, OSError),
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=10,
)
def notify_call_outcome(call_id: int) -> None:
    """Email the practice about a call's outcome, once; mail server errors are retried for hours."""
    from telephony import pipeline

    pipeline.notify(call_id)


@shared_task(ignore_result=True, autoretry_for=TRANSIENT_ERRORS, retry_backoff=True, retry_jitter=True, max_retries=3)
def reconcile_calls() -> None:
    """Every 5 minutes (beat): catch up on calls whose webhooks were lost."""
    from telephony import reconcile

    reconcile.reconcile_calls()
