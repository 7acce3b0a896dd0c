"""Catch up on calls whose webhooks were lost: Vapi does not retry a failed delivery by default.

Run periodically (``telephony.tasks.reconcile_calls``, ``manage.py reconcile_calls``). Each run:

1. **Ambiguous creates**: a call sent to the platform (``placed_at``) whose create answer
   never came (no ``provider_call_id``) is looked up by the id in its metadata; found, it
   takes the platform's id and state; not found, it was never placed and is marked failed.
2. **Overdue calls**: an active call older than the longest a call can last, or an ended
   one whose report never came, is fetched (``GET /call/{id}``) and the answer ingested as
   the webhooks would have been. A call the platform does not know is marked failed.
3. **Stalled pipelines**: a call whose report is stored but whose post-call pipeline never
   ran (the enqueue was lost) is enqueued again.

Every step goes through ``telephony.ingest``, so a webhook arriving late changes nothing twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from telephony import ingest, pipeline, services
from telephony.models import Call, CallEvent
from telephony.providers import CallProvider, ProviderError, get_provider
from telephony.status import ACTIVE, CallStatus, FailureCategory

logger = logging.getLogger(__name__)

# Beyond the maximum duration: time for the platform to hang up and report.
MARGIN = timedelta(minutes=10)
# How long a create answer may be outstanding before we go looking for the call.
AMBIGUOUS_GRACE = timedelta(minutes=2)
# How long after a call ended its report (made after analysis) may take.
REPORT_GRACE = timedelta(minutes=15)
PIPELINE_GRACE = timedelta(minutes=10)
# Calls older than this are left alone: a run never keeps retrying the same lost call for ever.
LOOKBACK = timedelta(days=2)
BATCH = 100


@dataclass
class ReconcileSummary:
    checked: int = 0
    updated: int = 0
    failed: int = 0
    errors: int = 0
    pipelines: int = 0

    def __str__(self) -> str:
        return (
            f"{self.checked} calls checked, {self.updated} updated, {self.failed} marked failed, "
            f"{self.errors} lookups failed, {self.pipelines} pipelines enqueued"
        )


def reconcile_calls(now: datetime | None = None) -> ReconcileSummary:
    now = now or timezone.now()
    summary = ReconcileSummary()
    providers: dict[str, CallProvider] = {}

    def provider_for(call: Call) -> CallProvider:
        if call.provider not in providers:
            providers[call.provider] = get_provider(call.provider)
        return providers[call.provider]

    work = [(call, _reconcile_ambiguous) for call in ambiguous_creates(now)]
    work += [(call, _reconcile_overdue) for call in overdue_calls(now)]
    for call, reconcile_one in work:
        try:
            reconcile_one(call, provider_for(call), summary)
        except Exception:
            # One call that cannot be handled must not hold back the others on every run.
            summary.errors += 1
            logger.exception("Could not reconcile call %s", call.pk)
    summary.pipelines = _enqueue_stalled_pipelines(now)
    if summary.checked or summary.pipelines:
        logger.info("Reconciled calls: %s", summary)
    return summary


def ambiguous_creates(now: datetime):
    return Call.objects.filter(
        status=CallStatus.QUEUED,
        provider_call_id__isnull=True,
        placed_at__lt=now - AMBIGUOUS_GRACE,
        placed_at__gte=now - LOOKBACK,
    ).order_by("placed_at")[:BATCH]


def overdue_calls(now: datetime):
    longest = timedelta(seconds=settings.CALL_MAX_DURATION_SECONDS) + MARGIN
    return (
        Call.objects.filter(report_received_at__isnull=True, provider_call_id__isnull=False)
        .annotate(
            begun=Coalesce("started_at", "placed_at", "created_at"),
            finished=Coalesce("ended_at", "status_changed_at", "updated_at"),
        )
        .filter(begun__gte=now - LOOKBACK)
        .filter(
            Q(status__in=sorted(ACTIVE), begun__lt=now - longest)
            | Q(status=CallStatus.ENDED, finished__lt=now - REPORT_GRACE)
        )
        .order_by("begun")[:BATCH]
    )


def _reconcile_ambiguous(call: Call, provider: CallProvider, summary: ReconcileSummary) -> None:
    summary.checked += 1
    try:
        found = provider.find_call(call)
    except ProviderError as error:
        summary.errors += 1
        logger.warning("Could not look up call %s placed without an answer: %s", call.pk, error)
        return
    if found is None:
        _fail(call, "The platform has no record of this call: it was never placed.", summary)
        return
    # ingest adopts the platform's id from the metadata, since the call has none yet.
    _ingest(call, found, summary)


def _reconcile_overdue(call: Call, provider: CallProvider, summary: ReconcileSummary) -> None:
    summary.checked += 1
    try:
        found = provider.fetch_call(call.provider_call_id)
    except ProviderError as error:
        summary.errors += 1
        logger.warning("Could not fetch call %s from %s: %s", call.pk, call.provider, error)
        return
    if found is None or found.get("status") == "not-found":
        if call.status == CallStatus.ENDED:
            logger.warning("Call %s ended but the platform has no report for it", call.pk)
        else:
            _fail(call, "The platform does not know this call.", summary)
        return
    _ingest(call, found, summary)


def _fail(call: Call, error: str, summary: ReconcileSummary) -> None:
    with transaction.atomic():
        if not ingest.mark_failed(call, FailureCategory.PROVIDER_ERROR, error):
            return
        # The failure policy decides whether another attempt is queued.
        services.handle_call_end(call.pk)
    summary.failed += 1


def _ingest(call: Call, found: dict, summary: ReconcileSummary) -> None:
    before = Call.objects.filter(pk=call.pk).values_list("status", "report_received_at").first()
    for message in ingest.messages_from_vapi_call(found):
        result = ingest.ingest_message(message)
        if result.status_code != 200:
            logger.warning("Call %s: the platform's %s was refused: %s", call.pk, message["type"], result.body)
    if Call.objects.filter(pk=call.pk).values_list("status", "report_received_at").first() != before:
        summary.updated += 1


def _enqueue_stalled_pipelines(now: datetime) -> int:
    from telephony import tasks

    call_ids = list(
        Call.objects.filter(report_received_at__lt=now - PIPELINE_GRACE, report_received_at__gte=now - LOOKBACK)
        .filter(~Exists(CallEvent.objects.filter(call=OuterRef("pk"), kind=pipeline.EVENT_KIND)))
        .order_by("report_received_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    for call_id in call_ids:
        tasks.run_post_call_pipeline.delay(call_id)
    return len(call_ids)
