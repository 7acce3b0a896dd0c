from __future__ import annotations

from celery import shared_task

from billingpulse.lib.tasks import TRANSIENT_DB_ERRORS
from claims.importing import engine

# With retry_backoff, waits of about 1, 2, 4 … 128 seconds (jittered): some four minutes in all,
# ample for a busy SQLite file or a PostgreSQL restart.
IMPORT_MAX_RETRIES = 8


@shared_task(
    bind=True,
    ignore_result=True,
    acks_late=True,
    autoretry_for=TRANSIENT_DB_ERRORS,
    retry_backoff=True,
    retry_jitter=True,
    max_retries=IMPORT_MAX_RETRIES,
)
def run_claim_import(self, import_id: int) -> None:
    """Run a queued import. A retried or redelivered task carries on after the last batch that
    committed, so no row is written or counted twice; once the retries are spent, the import is
    marked failed with the rows that were imported."""
    engine.run_import(import_id, can_retry=self.request.retries < self.max_retries)
