"""The post-call pipeline: what happens to a claim once its call's end-of-call report is stored.

For now it notes the call on the claim's timeline, keeps the summary as the claim's last
call outcome and applies the failure policy (``services.handle_call_end``: retry or flag).
Outcome extraction, claim updates, follow-ups and notifications (the AI issue) will take
over from here.

It runs once per call however often it is enqueued: a ``CallEvent`` with a fixed dedupe key
is inserted in the same transaction as the claim's changes, and a second run finds it.
"""

from __future__ import annotations

import logging
import re

from django.db import IntegrityError, transaction
from django.utils import timezone

from claims.models import Claim, ClaimEvent
from telephony import services
from telephony.models import Call, CallEvent
from telephony.status import FailureCategory

logger = logging.getLogger(__name__)

EVENT_KIND = "post-call-pipeline"
# "reference number is REF-778812", "call reference: 4471": a token of 4+ characters with a digit.
_REFERENCE = re.compile(
    r"\breference(?:\s+number)?(?:\s+is|:)?\s+(?=[A-Z0-9-]{4,40}\b)([A-Z-]*\d[A-Z0-9-]*)", re.IGNORECASE
)


def dedupe_key(call_id: int) -> str:
    return f"{call_id}:{EVENT_KIND}"


def run_post_call_pipeline(call_id: int) -> bool:
    """Apply the call's report to its claim; False when there is nothing to do (no call, no report, done)."""
    call = Call.objects.select_related("claim").filter(pk=call_id).first()
    if call is None or call.report_received_at is None:
        return False
    line = outcome_line(call)
    with transaction.atomic():
        try:
            with transaction.atomic():
                CallEvent.objects.create(
                    call=call, kind=EVENT_KIND, dedupe_key=dedupe_key(call.pk), payload={"outcome": line}
                )
        except IntegrityError:
            return False
        ClaimEvent.objects.create(claim=call.claim, kind=ClaimEvent.Kind.CALL, message=line, source="call")
        Claim.objects.filter(pk=call.claim_id).update(
            last_call_outcome=call.summary.strip() or line, updated_at=timezone.now()
        )
        # Retry or flag the claim by the call's failure category (once per call, by its own key).
        services.handle_call_end(call.pk)
    logger.info("Post-call pipeline done for call %s", call.pk)
    return True


def outcome_line(call: Call) -> str:
    """One sentence for the claim's timeline: "Call ended: <summary>, reference <number>"."""
    summary = " ".join(call.summary.split()).rstrip(".")
    if not summary:
        category = FailureCategory(call.failure_category).label if call.failure_category else "no summary"
        summary = f"{category} ({call.ended_reason or 'no reason given'})"
    reference = reference_number(call)
    if reference and reference not in summary:
        return f"Call ended: {summary}, reference {reference}."
    return f"Call ended: {summary}."


def reference_number(call: Call) -> str:
    """The payer's call reference number: from Vapi's structured analysis, else as said in the call."""
    report = call.events.filter(kind="end-of-call-report").values_list("payload", flat=True).first() or {}
    analysis = (report.get("message") or {}).get("analysis") or {}
    structured = analysis.get("structuredData") if isinstance(analysis, dict) else None
    if isinstance(structured, dict) and isinstance(structured.get("referenceNumber"), str):
        return structured["referenceNumber"].strip()[:40]
    for text in (call.summary, call.transcript):
        match = _REFERENCE.search(text or "")
        if match:
            return match.group(1)
    return ""
