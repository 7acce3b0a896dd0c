from __future__ import annotations

import logging

from celery import shared_task

from billingpulse.lib.tasks import TRANSIENT_DB_ERRORS
from documents import services
from documents.models import DocumentVersion

log = logging.getLogger(__name__)


# A locked or lost database is retried with backoff; each task can run again safely.
_RETRIED = {"autoretry_for": TRANSIENT_DB_ERRORS, "retry_backoff": True, "retry_jitter": True, "max_retries": 5}


@shared_task(ignore_result=True, **_RETRIED)
def read_text(version_id: int) -> None:
    """Read a new version's text after its upload (text layer first, OCR for scans)."""
    version = DocumentVersion.objects.select_related("document").filter(pk=version_id).first()
    if version is not None:
        services.read_text(version)


@shared_task(ignore_result=True, **_RETRIED)
def sweep_orphans() -> dict[str, int]:
    """Remove stored files no version points at, and report versions whose file is missing (daily)."""
    return services.sweep_orphans()


@shared_task(ignore_result=True, **_RETRIED)
def rotate_document_keys() -> int:
    """``manage.py rotate_document_keys --background``: progress goes to the worker's log."""
    return services.rotate_keys(progress=lambda count: log.info("Document keys: %d file(s) re-encrypted", count))
