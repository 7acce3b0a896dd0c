"""Celery tasks of the knowledge base: thin wrappers around ``ai.knowledge``, ids only."""

from __future__ import annotations

from celery import shared_task

from ai import knowledge
from billingpulse.lib.tasks import PERMANENT_ERRORS


# Chroma's client raises many kinds of errors when its store or server is away; all are
# retried (a locked or lost database too) except our own mistakes, and after the last try
# `manage.py ingest_knowledge --reindex` repairs the index.
@shared_task(
    ignore_result=True,
    autoretry_for=(Exception,),
    dont_autoretry_for=PERMANENT_ERRORS,
    retry_backoff=True,
    retry_jitter=True,
    max_retries=6,
)
def sync_index(kind: str, pks: list[int]) -> None:
    """Make the search index match the database for these entries (after a save or delete)."""
    knowledge.sync(kind, pks)
