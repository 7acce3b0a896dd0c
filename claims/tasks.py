from __future__ import annotations

from celery import shared_task

from claims.importing import engine


@shared_task(ignore_result=True, acks_late=True)
def run_claim_import(import_id: int) -> None:
    """Run a queued import. A redelivered task starts it over; the upsert makes that safe."""
    engine.run_import(import_id)
