"""Display helpers for the calls pages: status badges, durations, and the extracted outcome."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from billingpulse.tenancy import scoped
from claims.status import ClaimStatus
from claims.templatetags.claim_tags import money
from telephony.models import Call
from telephony.status import CallStatus, FailureCategory

register = template.Library()

# One tone per group: waiting to be placed, live on the line, finished well, finished badly.
STATUS_TONES = {
    CallStatus.QUEUED: "waiting",
    CallStatus.DIALING: "live",
    CallStatus.RINGING: "live",
    CallStatus.IN_PROGRESS: "live",
    CallStatus.ENDED: "done",
    CallStatus.FAILED: "failed",
    CallStatus.CANCELED: "closed",
}
# The outcome fields (named as in the corpus labels) in the order a biller reads them.
OUTCOME_LABELS = {
    "claim_status": "Claim status",
    "call_outcome": "Result",
    "reference_number": "Call reference #",
    "rep_name": "Representative",
    "paid_amount": "Paid amount",
    "payment_date": "Payment date",
    "check_or_eft_number": "Check / EFT #",
    "denial_code": "Denial code",
    "remark_codes": "Remark codes",
    "follow_up_days": "Call back in",
    "human_reached": "Reached a person",
    "next_steps": "Next steps",
}
CALL_OUTCOMES = {
    "resolved": "Resolved",
    "follow_up": "Follow-up call needed",
    "action_required": "Action required",
    "failed": "No information obtained",
}
# Keys of the outcome that are not fields to list.
_NOT_FIELDS = {"evidence", "confidence", "extractor", "needs_review", "review_reasons", "knowledge_used"}


@register.filter
def call_badge(call) -> SafeString:
    """A call's status badge; a call that ended without reaching anyone is marked as a warning."""
    tone = STATUS_TONES.get(call.status, "closed")
    if call.status == CallStatus.ENDED and call.failure_category:
        tone = "warn"
    label = CallStatus(call.status).label if call.status in CallStatus.values else call.status
    return format_html('<span class="badge status call-status call-status-{}">{}</span>', tone, label)


@register.filter
def call_duration(seconds: int | float | None) -> str:
    """``872`` as ``14:32``; an hour or more as ``1:02:10``; a dash for none (or a call nobody answered)."""
    if seconds is None or seconds == "" or not float(seconds):
        return "—"
    return call_clock(seconds)


@register.filter
def call_clock(seconds: int | float) -> str:
    """A moment of a call, from its start: ``0:00``, ``10:16``, ``1:02:10``."""
    total = int(round(float(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.filter
def failure_label(category: str) -> str:
    return FailureCategory(category).label if category in FailureCategory.values else category


@register.filter
def outcome_fields(outcome: dict | None) -> list[tuple[str, str]]:
    """The outcome's fields as (label, text), known fields first; empty values left out."""
    if not isinstance(outcome, dict):
        return []
    keys = [key for key in OUTCOME_LABELS if key in outcome]
    keys += [key for key in outcome if key not in OUTCOME_LABELS and key not in _NOT_FIELDS]
    rows = []
    for key in keys:
        text = _outcome_value(key, outcome[key])
        if text:
            rows.append((OUTCOME_LABELS.get(key) or key.replace("_", " ").capitalize(), text))
    return rows


@register.filter
def event_detail(event) -> str:
    """What an event said, in a word: the new status, or how the call ended."""
    payload = event.payload if isinstance(event.payload, dict) else {}
    message = payload.get("message") if isinstance(payload.get("message"), dict) else payload
    if message.get("type") == "status-update" or event.kind == "status-update":
        return str(message.get("status") or "")
    return str(message.get("endedReason") or message.get("action") or "")


def _outcome_value(key: str, value: object) -> str:
    if value is None or value == "" or value == [] or isinstance(value, dict):
        return ""
    if key == "claim_status":
        return ClaimStatus(value).label if value in ClaimStatus.values else str(value).replace("_", " ").capitalize()
    if key == "call_outcome":
        return CALL_OUTCOMES.get(str(value), str(value))
    if key == "paid_amount":
        try:
            return money(Decimal(str(value)))
        except InvalidOperation:
            return str(value)
    if key == "follow_up_days":
        return f"{value} day{'' if str(value) == '1' else 's'}"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


@register.filter
def outcome_status(value: str) -> str:
    """An extracted claim status as words: "partially_paid" → "Partially paid"."""
    return _outcome_value("claim_status", value) or "Unknown"


@register.simple_tag(takes_context=True)
def outcomes_to_review(context) -> int:
    """How many of the practice's call outcomes wait for a person (the Review tab's count)."""
    return scoped(context["request"], Call).filter(review_status=Call.ReviewStatus.PENDING).count()
