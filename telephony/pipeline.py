"""The post-call pipeline: extract → apply → decide follow-up → schedule → notify.

Runs in Celery once a call's end-of-call report is stored (``tasks.run_post_call_pipeline``).
Each step runs once per call however often the task is delivered: it inserts a
``CallEvent`` with a fixed dedupe key (``<call id>:pipeline-<step>``) in the same
transaction as its changes, so a second run finds the key and skips the step, and a step
that fails on a transient error rolls back whole and is retried with the task.

An outcome the extractor flags (a value without evidence, low confidence, the AI service
unreachable) is held for a person: the call waits in the review queue
(``Call.review_status = pending``) and the pipeline goes on from *apply* once a biller
approves it (``approve_outcome``). A call that reached nobody goes to the failure policy
(``services.handle_call_end``: retry with backoff, or hand the claim to a person).
Notifying runs last, in its own task, so an email failure never holds up the claim; a call
that is simply tried again later sends no email.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from ai import knowledge
from ai.extraction import add_usual_remedy, extract_outcome
from ai.models import DenialCode
from ai.outcome import CallOutcome, ClaimContext
from billing.services import expect_payment
from billingpulse.models import User
from claims import services as claim_services
from claims.models import Claim, ClaimEvent
from claims.status import PAYER_REPORTABLE, ClaimStatus, can_move
from inbox import services as inbox
from inbox.models import ActionItem
from telephony import pacing, services
from telephony.models import Call, CallEvent, ScheduledCall, outcome_code
from telephony.status import FailureCategory

logger = logging.getLogger(__name__)

EXTRACT, APPLY, FOLLOW_UP, NOTIFY = "extract", "apply", "follow-up", "notify"
# The pipeline has run for a call once its extraction is recorded.
EVENT_KIND = f"pipeline-{EXTRACT}"

# Days until the next call when the payer named no date, by the claim's status after the
# call; a practice overrides them in ``Practice.follow_up_cadence``.
DEFAULT_CADENCE: dict[str, int] = {
    ClaimStatus.SUBMITTED: 7,
    ClaimStatus.ACCEPTED: 14,
    ClaimStatus.IN_PROCESS: 14,
    ClaimStatus.PENDING_INFO: 7,
    ClaimStatus.NOT_ON_FILE: 5,
    ClaimStatus.DENIED: 14,
    ClaimStatus.REPROCESSING: 14,
    ClaimStatus.APPEALED: 30,
    ClaimStatus.PARTIALLY_PAID: 14,
}


def dedupe_key(call_id: int, step: str = EXTRACT) -> str:
    return f"{call_id}:pipeline-{step}"


def _record_step(call: Call, step: str, payload: dict | None = None) -> CallEvent | None:
    """Mark ``step`` done for the call, or None when it was done before. Call inside a transaction."""
    try:
        with transaction.atomic():
            return CallEvent.objects.create(
                call=call, kind=f"pipeline-{step}", dedupe_key=dedupe_key(call.pk, step), payload=payload or {}
            )
    except IntegrityError:
        return None


def _load(call_id: int) -> Call | None:
    return (
        Call.objects.select_related("practice", "payer", "claim__patient", "claim__policy").filter(pk=call_id).first()
    )


def run_post_call_pipeline(call_id: int) -> str:
    """Run every step not yet done for the call; returns where it stopped, for logs and tests."""
    call = _load(call_id)
    if call is None or call.report_received_at is None:
        return "no report"
    outcome = extract(call)
    if call.review_status == Call.ReviewStatus.PENDING:
        logger.info("Call %s waits for review: %s", call.pk, "; ".join(outcome.review_reasons))
        return "waiting for review"
    finish(call, outcome)
    return "done"


def finish(call: Call, outcome: CallOutcome, actor: User | None = None) -> None:
    """Apply an outcome, decide and schedule the follow-up, and queue the email."""
    from telephony import tasks

    apply(call, outcome, actor)
    follow_up(call, outcome)
    transaction.on_commit(lambda: tasks.notify_call_outcome.delay(call.pk))


# 1. Extract


def claim_context(call: Call) -> ClaimContext:
    """What the extractor may know of the claim: the facts the agent could disclose, nothing more."""
    claim = call.claim
    zone = ZoneInfo(call.practice.time_zone)
    return ClaimContext(
        claim_number=claim.claim_number,
        patient_name=claim.patient.full_name,
        patient_dob=claim.patient.date_of_birth.isoformat() if claim.patient.date_of_birth else "",
        date_of_service=claim.service_date_from.isoformat(),
        billed_amount=str(claim.total_charge),
        payer=call.payer.name,
        member_id=claim.policy.member_id if claim.policy else "",
        prior_denial_code=claim.denial_code or None,
        call_date=timezone.localdate(call.ended_at or call.report_received_at, timezone=zone),
    )


def extract(call: Call) -> CallOutcome:
    """The call's outcome, extracted once and stored on the call with its evidence."""
    if call.outcome:
        return CallOutcome.from_json(call.outcome)
    hits = knowledge.search_for_call(
        call.practice_id,
        denial_code=call.claim.denial_code or None,
        payer=call.payer.name,
        payer_id=call.payer.payer_id,
    )
    outcome = extract_outcome(call.transcript, claim_context(call), hits)
    if outcome.denial_code and not outcome.knowledge_used:
        # A denial first heard on this call: the offline reader's remedy comes from its own entry.
        heard = knowledge.search_for_call(
            call.practice_id, denial_code=outcome.denial_code, payer=call.payer.name, limit=1
        )
        add_usual_remedy(outcome, heard)
    outcome.settle_review(reached_nobody=_reached_nobody(call, outcome))
    review_status = Call.ReviewStatus.PENDING if outcome.needs_review else ""
    with transaction.atomic():
        if _record_step(call, EXTRACT, {"extractor": outcome.extractor}) is None:
            call.refresh_from_db(fields=["outcome", "review_status"])
            return CallOutcome.from_json(call.outcome)
        Call.objects.filter(pk=call.pk).update(
            outcome=outcome.to_json(), call_outcome=outcome_code(outcome.to_json()), review_status=review_status
        )
    call.outcome, call.review_status = outcome.to_json(), review_status
    call.call_outcome = outcome_code(call.outcome)
    return outcome


def _reached_nobody(call: Call, outcome: CallOutcome) -> bool:
    failed = call.failure_category not in ("", FailureCategory.CANCELED) or call.status == Call.Status.FAILED
    return failed and not outcome.human_reached


# 2. Apply


def apply(call: Call, outcome: CallOutcome, actor: User | None = None) -> bool:
    """Bring the claim up to date with what the payer said; False when already applied."""
    with transaction.atomic():
        if _record_step(call, APPLY) is None:
            return False
        claim = Claim.objects.select_for_update().select_related("payer").get(pk=call.claim_id)
        status_note = _apply_status(claim, outcome, call, actor)
        now = timezone.now()
        changes: dict = {"last_call_outcome": summary_line(call, outcome), "updated_at": now}
        if outcome.reference_number:
            changes["call_reference_number"] = outcome.reference_number
        if outcome.denial_code:
            changes["denial_code"] = outcome.denial_code
            changes["denial_reason"] = _denial_reason(call.practice_id, outcome.denial_code) or claim.denial_reason
        if outcome.remark_codes:
            changes["remark_codes"] = outcome.remark_codes
        if outcome.paid_amount:
            _expect_payment(claim, outcome, call)
        if outcome.next_steps:
            changes["next_steps"] = outcome.next_steps
        Claim.objects.filter(pk=claim.pk).update(**_fitted(changes))
        message = changes["last_call_outcome"] + (f" {status_note}" if status_note else "")
        if outcome.paid_amount:
            message += (
                f" Expected payment of ${outcome.paid_amount:,.2f} recorded; it is matched when the payment posts."
            )
        ClaimEvent.objects.create(claim=claim, kind=ClaimEvent.Kind.CALL, message=message, actor=actor, source="call")
        # The inbox item a new status opened says what the call learned (denial code, next steps).
        inbox.claim_status_changed(Claim.objects.get(pk=claim.pk))
    return True


def _expect_payment(claim: Claim, outcome: CallOutcome, call: Call) -> None:
    """What the payer said it paid is not money on the books: it waits as an expected payment,
    matched when the payer's ERA or a manual payment posts (billing.services.match_expected_payments).
    Once per call: the expected payment is unique per call, and this runs inside the apply step."""
    expect_payment(
        claim,
        amount=outcome.paid_amount,
        reference=outcome.check_or_eft_number or "",
        payment_date=outcome.payment_date,
        call=call,
    )


def _fitted(changes: dict) -> dict:
    """Text cut to each claim field's length: however long a call's words, the update must not fail."""
    for name, value in changes.items():
        limit = getattr(Claim._meta.get_field(name), "max_length", None)
        if limit and isinstance(value, str):
            changes[name] = value[:limit]
    return changes


def _apply_status(claim: Claim, outcome: CallOutcome, call: Call, actor: User | None) -> str:
    """Move the claim to the status the payer gave; a note when the status machine forbids it."""
    target = outcome.claim_status
    if target not in PAYER_REPORTABLE or target == claim.status:
        return ""
    label = ClaimStatus(target).label.lower()
    if not can_move(claim.status, target):
        return f"The payer said {label}; a {claim.get_status_display().lower()} claim was left as it is."
    reason = f"{call.payer.name} said so on call {call.pk}" + (
        f" (reference {outcome.reference_number})." if outcome.reference_number else "."
    )
    claim_services.change_status(claim, target, actor=actor, reason=reason, source="call")
    return ""


def _denial_reason(practice_id: int, denial_code: str) -> str:
    code = denial_code.rsplit("-", 1)[-1]
    entry = DenialCode.objects.filter(practice_id=practice_id, code=code).values_list("description", flat=True).first()
    return (entry or "")[:300]


def summary_line(call: Call, outcome: CallOutcome) -> str:
    """One sentence for the timeline: "Call 12 with Aetna (Tanya): reprocessing, reference R471."."""
    who = f" ({outcome.rep_name})" if outcome.rep_name else ""
    if outcome.call_outcome == "failed" and outcome.claim_status == "unknown":
        reason = FailureCategory(call.failure_category).label if call.failure_category else "no claim information"
        return f"Call {call.pk} with {call.payer.name}{who}: {reason.lower()}."
    parts = [
        ClaimStatus(outcome.claim_status).label.lower()
        if outcome.claim_status in ClaimStatus.values
        else "status unknown"
    ]
    if outcome.denial_code:
        parts.append(f"denial {outcome.denial_code}")
    if outcome.paid_amount is not None:
        parts.append(f"paid ${outcome.paid_amount:,.2f}")
    if outcome.check_or_eft_number:
        parts.append(f"check/EFT {outcome.check_or_eft_number}")
    if outcome.reference_number:
        parts.append(f"reference {outcome.reference_number}")
    return f"Call {call.pk} with {call.payer.name}{who}: {', '.join(parts)}."


# 3–4. Decide the follow-up and schedule it


@dataclass(frozen=True)
class FollowUp:
    CALL = "call"  # schedule the next call
    RETRY = "retry"  # the failure policy took over
    PERSON = "person"  # the practice has to act
    DONE = "done"  # nothing more to do

    action: str
    days: int | None = None
    reason: str = ""


def decide(call: Call, outcome: CallOutcome) -> FollowUp:
    """What happens next, from the outcome, the practice's cadence, or the failure policy."""
    if outcome.call_outcome == "failed":
        return FollowUp(FollowUp.RETRY, reason="The call got no claim information.")
    if outcome.call_outcome == "resolved":
        return FollowUp(FollowUp.DONE, reason="Resolved on the call.")
    if outcome.call_outcome == "action_required":
        return FollowUp(FollowUp.PERSON, reason=outcome.next_steps or "The payer needs something from the practice.")
    if outcome.follow_up_days:
        return FollowUp(FollowUp.CALL, outcome.follow_up_days, _reason(outcome, "as the payer asked"))
    status = outcome.claim_status if outcome.claim_status in ClaimStatus.values else call.claim.status
    days = cadence(call.practice.follow_up_cadence, status)
    return FollowUp(FollowUp.CALL, days, _reason(outcome, "the practice's usual interval"))


def cadence(overrides: dict, status: str) -> int:
    days = (overrides or {}).get(status) or DEFAULT_CADENCE.get(status) or DEFAULT_CADENCE[ClaimStatus.IN_PROCESS]
    return int(days)


def _reason(outcome: CallOutcome, why: str) -> str:
    status = ClaimStatus(outcome.claim_status).label.lower() if outcome.claim_status in ClaimStatus.values else ""
    return f"Check on the claim ({status}), {why}." if status else f"Check on the claim, {why}."


def follow_up(call: Call, outcome: CallOutcome) -> FollowUp | None:
    """Decide and act: schedule the next call (replacing a pending one), retry, or flag the claim."""
    with transaction.atomic():
        record = _record_step(call, FOLLOW_UP)
        if record is None:
            return None
        decision = decide(call, outcome)
        claim = call.claim
        now = timezone.now()
        if decision.action != FollowUp.RETRY:
            # The call reached the payer: an earlier "calls failed" item needs nobody now.
            inbox.call_got_through(claim.pk)
        if decision.action == FollowUp.CALL:
            at = now + timedelta(days=decision.days)
            call_after = pacing.next_opening(call.payer, at) or at
            services.schedule_follow_up(claim, call_after, decision.reason, source=ScheduledCall.Source.PIPELINE)
            local = timezone.localdate(call_after, timezone=ZoneInfo(call.practice.time_zone))
            Claim.objects.filter(pk=claim.pk).update(next_follow_up_date=local)
        elif decision.action == FollowUp.RETRY:
            ended = _retry(call)
            if ended.action != services.EndDecision.RETRY:
                # No attempts left, or a failure no retry can fix: the claim went to a person.
                decision = FollowUp(FollowUp.PERSON, reason=ended.message)
        elif decision.action == FollowUp.PERSON:
            services.cancel_pending_follow_ups(claim)
            services.flag_claim(call, f"Action needed: {decision.reason}", ActionItem.Reason.ACTION_REQUIRED)
        else:
            services.cancel_pending_follow_ups(claim)
            Claim.objects.filter(pk=claim.pk).update(next_follow_up_date=None)
        record.payload = {"action": decision.action, "days": decision.days, "reason": decision.reason}
        record.save(update_fields=["payload"])
    return decision


def _retry(call: Call) -> services.EndDecision:
    """The failure policy for a call that got nothing: by its category, or as an IVR dead end."""
    if not call.failure_category:
        Call.objects.filter(pk=call.pk).update(failure_category=FailureCategory.IVR_FAILURE)
        call.failure_category = FailureCategory.IVR_FAILURE
    return services.handle_call_end(call.pk)


# Review


def approve_outcome(call: Call, outcome: CallOutcome, reviewer: User, changes: dict | None = None) -> None:
    """A biller checked (and perhaps corrected) the outcome: store it and carry on from *apply*."""
    outcome.needs_review = False
    with transaction.atomic():
        approved = Call.objects.filter(pk=call.pk, review_status=Call.ReviewStatus.PENDING).update(
            outcome=outcome.to_json(),
            call_outcome=outcome_code(outcome.to_json()),
            review_status=Call.ReviewStatus.APPROVED,
            reviewed_by=reviewer,
            reviewed_at=timezone.now(),
        )
        if not approved:
            raise ValidationError("Someone has already reviewed this outcome.")
        CallEvent.objects.create(
            call=call,
            kind="outcome-reviewed",
            dedupe_key=f"{call.pk}:outcome-reviewed",
            payload={"reviewer": reviewer.email, "changes": changes or {}},
        )
        call.refresh_from_db()
        finish(call, outcome, actor=reviewer)


# 5. Notify


def notify(call_id: int) -> bool:
    """Email the practice about the call's outcome, once; an error propagates so the task retries."""
    call = _load(call_id)
    if call is None or not call.outcome or call.review_status == Call.ReviewStatus.PENDING:
        return False
    followed_up = CallEvent.objects.filter(dedupe_key=dedupe_key(call.pk, FOLLOW_UP)).values_list("payload", flat=True)
    decision = followed_up.first()
    if decision is None or decision.get("action") == FollowUp.RETRY:
        # Not followed up yet, or simply tried again later: nothing for the practice to read.
        return False
    recipients = notification_recipients(call.practice)
    if not recipients:
        return False
    outcome = CallOutcome.from_json(call.outcome)
    with transaction.atomic():
        if _record_step(call, NOTIFY, {"to": recipients}) is None:
            return False
        subject, body = notification_email(call, outcome)
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
        Claim.objects.filter(pk=call.claim_id).update(notified_at=timezone.now())
    return True


def notification_recipients(practice) -> list[str]:
    if practice.notification_email:
        return [practice.notification_email]
    return sorted(User.objects.filter(practice=practice, is_active=True).values_list("email", flat=True))


def notification_email(call: Call, outcome: CallOutcome) -> tuple[str, str]:
    claim = call.claim
    status = ClaimStatus(outcome.claim_status).label if outcome.claim_status in ClaimStatus.values else "Unknown"
    subject = f"Claim {claim.claim_number}: {status.lower()} — call with {call.payer.name}"
    body = render_to_string(
        "telephony/emails/call_outcome.txt",
        {
            "call": call,
            "claim": claim,
            "outcome": outcome,
            "status": status,
            "summary": summary_line(call, outcome),
            "link": settings.SITE_URL + reverse("claims:detail", args=[claim.pk]),
        },
    )
    return subject, body
