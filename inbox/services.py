"""Every change to the needs-action inbox.

Items are opened two ways, both idempotent (at most one open item per claim and reason, and
per ERA claim payment, enforced by partial unique constraints):

* ``open_item``: the one entry point for events that hand work to a person — a call whose
  outcome asks the practice for something, calls that failed after their retries, a claim
  moved to denied / not on file / pending information (by a person, a call or an ERA), an
  ERA claim payment held unmatched.
* ``refresh``: derives items from the current state (daily, and ``manage.py refresh_inbox``):
  claims sitting in those statuses, expected payments overdue, ERA payments still held; and
  closes every open item whose condition no longer holds.

An item closes itself (``resolution = auto``) when its condition no longer holds: the claim is
paid, closed or written off, or has left the status the item is about; the ERA payment was
posted to a claim; the expected payment arrived. A person closes it with ``mark_done``.
``refresh`` does not reopen what a person marked done while the condition still holds: only a
new event (a new status change, a new expected payment) opens a new item.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from billing.models import ExpectedPayment, Remittance, RemittanceClaim
from billingpulse.lib.unique import Duplicate, unique_errors
from billingpulse.models import Practice, User
from claims.models import Claim
from claims.status import ClaimStatus
from inbox.models import ActionItem

R = ActionItem.Reason

# Business days a person gets to act, unless the claim's timely-filing deadline comes sooner.
DEFAULT_DUE_BUSINESS_DAYS = 3
# Days after the date the payer gave before an expected payment counts as overdue: a check in
# the mail and the ERA that follows it take about two weeks.
PAYMENT_GRACE_DAYS = 14
# Statuses whose claims need the practice, and the reason each opens.
STATUS_REASONS = {
    ClaimStatus.DENIED: R.DENIED,
    ClaimStatus.NOT_ON_FILE: R.NOT_ON_FILE,
    ClaimStatus.PENDING_INFO: R.PENDING_INFO,
}
# A claim in these statuses needs nobody: every item about it closes.
SETTLED = {ClaimStatus.PAID, ClaimStatus.CLOSED, ClaimStatus.WRITTEN_OFF}
SNOOZE_CHOICES = {"1": 1, "3": 3, "7": 7}
DETAIL_LIMIT = 1000


# ---------------------------------------------------------------------------- due dates


def add_business_days(day: date, count: int) -> date:
    while count > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def due_date_for(claim: Claim | None, today: date) -> date:
    """A few business days from today, or the claim's timely-filing deadline if that is sooner
    (and not already past: a missed deadline is no reason to show the item as late at once)."""
    due = add_business_days(today, DEFAULT_DUE_BUSINESS_DAYS)
    deadline = claim.timely_filing_deadline if claim is not None else None
    if deadline is not None and today <= deadline < due:
        return deadline
    return due


# ---------------------------------------------------------------------------- opening


def _open(claim_id: int | None = None, reason: str | None = None, remittance_claim_id: int | None = None):
    items = ActionItem.objects.filter(status=ActionItem.Status.OPEN)
    if remittance_claim_id is not None:
        return items.filter(remittance_claim_id=remittance_claim_id)
    return items.filter(claim_id=claim_id, reason=reason, remittance_claim__isnull=True)


def open_item(
    reason: str,
    *,
    claim: Claim | None = None,
    remittance_claim: RemittanceClaim | None = None,
    detail: str = "",
) -> ActionItem:
    """Hand a claim (or an unmatched ERA claim payment) to a person; the open item it already
    has for this reason is kept (its assignee, due date and snooze too) and its detail updated.

    Safe under concurrency: two events at once insert one row, the second finds the first.
    """
    if (remittance_claim is not None) != (reason == R.UNMATCHED_ERA) or (claim is None and remittance_claim is None):
        raise ValueError("An unmatched-ERA item is about an ERA claim payment; every other item about a claim.")
    if remittance_claim is not None:
        practice_id = remittance_claim.remittance.practice_id
        lookup = {"remittance_claim_id": remittance_claim.pk}
    else:
        practice_id = claim.practice_id
        lookup = {"claim_id": claim.pk, "reason": reason}
    detail = detail.strip()[:DETAIL_LIMIT]
    existing = _open(**lookup).first()
    if existing is None:
        practice = Practice.objects.only("time_zone").get(pk=practice_id)
        try:
            with unique_errors():
                return ActionItem.objects.create(
                    practice_id=practice_id,
                    claim=claim if claim is not None else getattr(remittance_claim, "claim", None),
                    remittance_claim=remittance_claim,
                    reason=reason,
                    detail=detail,
                    due_date=due_date_for(claim, practice.today()),
                )
        except Duplicate:
            existing = _open(**lookup).get()
    if detail and existing.detail != detail:
        existing.detail = detail
        existing.save(update_fields=["detail", "updated_at"])
    return existing


def claim_status_changed(claim: Claim, *, detail: str = "") -> None:
    """A claim's status changed (by a person, a call, an ERA or a posting): open the item its new
    status calls for, and close the ones its old status had."""
    reason = STATUS_REASONS.get(claim.status)
    if reason is not None:
        open_item(reason, claim=claim, detail=detail or status_detail(claim))
    close_resolved(claim_ids=[claim.pk])


def claims_denied_by_era(claims: list[Claim]) -> None:
    """The claims an ERA just moved to denied (``billing.era.posting``, which updates in bulk):
    the same as ``claim_status_changed`` for each, in a few queries however many there are."""
    if not claims:
        return
    for claim in claims:
        claim.status = ClaimStatus.DENIED
    today = Practice.objects.only("time_zone").get(pk=claims[0].practice_id).today()
    ids = [claim.pk for claim in claims]
    already = _already_open(ActionItem.objects.filter(reason=R.DENIED, remittance_claim__isnull=True), "claim_id", ids)
    _insert(
        ActionItem(
            practice_id=claim.practice_id,
            claim=claim,
            reason=R.DENIED,
            detail=status_detail(claim)[:DETAIL_LIMIT],
            due_date=due_date_for(claim, today),
        )
        for claim in claims
        if claim.pk not in already
    )
    claims_changed(ids)


def _already_open(items: QuerySet[ActionItem], column: str, ids: list[int]) -> set[int]:
    found: set[int] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found |= set(
            items.filter(status=ActionItem.Status.OPEN, **{f"{column}__in": chunk}).values_list(column, flat=True)
        )
    return found


def _insert(items) -> None:
    """Insert new open items; one that a concurrent event opened meanwhile is skipped (the
    partial unique constraints make the insert a no-op for it)."""
    ActionItem.objects.bulk_create(list(items), batch_size=500, ignore_conflicts=True)


def call_handed_to_person(claim: Claim, reason: str, message: str) -> ActionItem:
    """A payer call handed the claim to a person: the payer wants something (``action_required``)
    or calling failed after its retries (``call_failed``)."""
    return open_item(reason, claim=claim, detail=message)


def call_got_through(claim_id: int) -> int:
    """A later call reached the payer and learned the status: failed calls need nobody now."""
    return _close(_open(claim_id=claim_id, reason=R.CALL_FAILED))


def era_payments_held(rows: list[RemittanceClaim]) -> None:
    """ERA claim payments posted to the unmatched queue: each needs a person to find its claim.
    A few queries however many rows (an 835 may hold thousands)."""
    if not rows:
        return
    practice_id = rows[0].remittance.practice_id
    due = due_date_for(None, Practice.objects.only("time_zone").get(pk=practice_id).today())
    already = _already_open(ActionItem.objects.all(), "remittance_claim_id", [row.pk for row in rows])
    _insert(
        ActionItem(
            practice_id=practice_id,
            claim_id=row.claim_id,
            remittance_claim=row,
            reason=R.UNMATCHED_ERA,
            detail=era_detail(row)[:DETAIL_LIMIT],
            due_date=due,
        )
        for row in rows
        if row.pk not in already
    )


def era_payment_posted(row: RemittanceClaim) -> int:
    return _close(_open(remittance_claim_id=row.pk))


# ---------------------------------------------------------------------------- the words


def status_detail(claim: Claim) -> str:
    if claim.status == ClaimStatus.DENIED:
        code = f" ({claim.denial_code})" if claim.denial_code else ""
        why = f": {claim.denial_reason}" if claim.denial_reason else "."
        steps = claim.next_steps or "Correct and resubmit, or appeal."
        return f"The payer denied the claim{code}{why.rstrip('.')}. {steps}"
    if claim.status == ClaimStatus.NOT_ON_FILE:
        return "The payer has no record of this claim. Check the payer and member ID, then resubmit it."
    if claim.status == ClaimStatus.PENDING_INFO:
        return claim.next_steps or "The payer is waiting for information from the practice."
    return ""


def overdue_detail(expected: ExpectedPayment, since: date) -> str:
    reference = f" ({expected.reference})" if expected.reference else ""
    return (
        f"The payer said it paid ${expected.amount:,.2f}{reference} on {since:%b %-d, %Y}; no payment has "
        f"posted in the {PAYMENT_GRACE_DAYS} days since. Ask the payer to trace it."
    )


def era_detail(row: RemittanceClaim) -> str:
    why = row.detail.get("hold") or row.detail.get("match") or row.note or "No claim matched."
    patient = f" for {row.patient_name}" if row.patient_name else ""
    return (
        f"ERA payment of ${row.paid:,.2f} on claim number {row.claim_number}{patient} is held: {why} "
        "Find the claim in the unmatched queue."
    )


# ---------------------------------------------------------------------------- closing


def _close(items: QuerySet[ActionItem]) -> int:
    """Close open items whose condition no longer holds (one UPDATE)."""
    now = timezone.now()
    return items.filter(status=ActionItem.Status.OPEN).update(
        status=ActionItem.Status.DONE, resolution=ActionItem.Resolution.AUTO, done_at=now, updated_at=now
    )


def _stale() -> Q:
    """Open items whose condition no longer holds, as one filter."""
    status_mismatch = Q()
    for status, reason in STATUS_REASONS.items():
        status_mismatch |= Q(reason=reason) & ~Q(claim__status=status)
    overdue_waiting = ExpectedPayment.objects.filter(
        claim_id=OuterRef("claim_id"), status=ExpectedPayment.Status.EXPECTED
    )
    return (
        Q(claim__status__in=SETTLED)
        | status_mismatch
        | (Q(reason=R.PAYMENT_OVERDUE) & ~Exists(overdue_waiting))
        | (Q(reason=R.UNMATCHED_ERA) & Q(remittance_claim__status=RemittanceClaim.Status.POSTED))
    )


def close_resolved(*, practice: Practice | None = None, claim_ids: list[int] | None = None) -> int:
    """Close the open items (of a practice, of some claims, or all) whose condition no longer holds."""
    items = ActionItem.objects.filter(status=ActionItem.Status.OPEN)
    if practice is not None:
        items = items.filter(practice=practice)
    if claim_ids is not None:
        items = items.filter(claim_id__in=claim_ids)
    return _close(items.filter(_stale()))


def claims_changed(claim_ids: list[int]) -> None:
    """Money posted to these claims (an ERA, a payment): close what it resolved."""
    for start in range(0, len(claim_ids), 500):
        close_resolved(claim_ids=claim_ids[start : start + 500])


# ---------------------------------------------------------------------------- refresh


def refresh(practice: Practice | None = None) -> dict[str, int]:
    """Bring the inbox up to date with the current state; safe to run at any time, any number
    of times. Returns how many items were opened and closed."""
    practices = [practice] if practice is not None else list(Practice.objects.all())
    opened = closed = 0
    for one in practices:
        with transaction.atomic():
            closed += close_resolved(practice=one)
            opened += _refresh_statuses(one) + _refresh_overdue(one) + _refresh_held(one)
    return {"opened": opened, "closed": closed}


def _refresh_statuses(practice: Practice) -> int:
    opened = 0
    for status, reason in STATUS_REASONS.items():
        has_item = ActionItem.objects.filter(claim_id=OuterRef("pk"), reason=reason, status=ActionItem.Status.OPEN)
        done = ActionItem.objects.filter(
            claim_id=OuterRef("pk"),
            reason=reason,
            status=ActionItem.Status.DONE,
            resolution=ActionItem.Resolution.PERSON,
            done_at__gte=OuterRef("status_changed_at"),
        )
        claims = (
            Claim.objects.filter(practice=practice, status=status)
            .filter(~Exists(has_item), ~Exists(done))
            .select_related("practice")
        )
        for claim in claims.iterator(chunk_size=500):
            open_item(reason, claim=claim, detail=status_detail(claim))
            opened += 1
    return opened


def _refresh_overdue(practice: Practice) -> int:
    today = practice.today()
    cutoff = today - timedelta(days=PAYMENT_GRACE_DAYS)
    opened = 0
    waiting = (
        ExpectedPayment.objects.filter(practice=practice, status=ExpectedPayment.Status.EXPECTED)
        .exclude(claim__status__in=SETTLED)
        .filter(Q(payment_date__lt=cutoff) | Q(payment_date__isnull=True, created_at__date__lt=cutoff))
        .exclude(Exists(_open(reason=R.PAYMENT_OVERDUE).filter(claim_id=OuterRef("claim_id"))))
        .exclude(
            Exists(
                ActionItem.objects.filter(
                    claim_id=OuterRef("claim_id"),
                    reason=R.PAYMENT_OVERDUE,
                    resolution=ActionItem.Resolution.PERSON,
                    done_at__gte=OuterRef("created_at"),
                )
            )
        )
        .select_related("claim")
        .order_by("claim_id", "created_at")
    )
    seen: set[int] = set()
    for expected in waiting:
        if expected.claim_id in seen:
            continue
        seen.add(expected.claim_id)
        since = expected.payment_date or timezone.localdate(expected.created_at)
        open_item(R.PAYMENT_OVERDUE, claim=expected.claim, detail=overdue_detail(expected, since))
        opened += 1
    return opened


def _refresh_held(practice: Practice) -> int:
    rows = (
        RemittanceClaim.objects.filter(remittance__practice=practice, remittance__status=Remittance.Status.POSTED)
        .exclude(status=RemittanceClaim.Status.POSTED)
        .exclude(Exists(ActionItem.objects.filter(remittance_claim_id=OuterRef("pk"))))
        .select_related("remittance", "claim")
    )
    opened = 0
    for row in rows.iterator(chunk_size=500):
        open_item(R.UNMATCHED_ERA, remittance_claim=row, detail=era_detail(row))
        opened += 1
    return opened


# ---------------------------------------------------------------------------- a person's actions


def _writable(item: ActionItem) -> ActionItem:
    """The item, locked, if it is still open; a clear error if someone closed it meanwhile."""
    item = ActionItem.objects.select_for_update().get(pk=item.pk)
    if item.status != ActionItem.Status.OPEN:
        raise ValidationError("This item is already done.")
    return item


@transaction.atomic
def assign(item: ActionItem, assignee: User | None, *, actor: User) -> ActionItem:
    """Give the item to a teammate (or to nobody: anyone on the team may take it)."""
    if assignee is not None and (assignee.practice_id != item.practice_id or not assignee.is_active):
        raise ValidationError({"assignee": "Choose an active member of your practice."})
    item = _writable(item)
    item.assignee = assignee
    item.save(update_fields=["assignee", "updated_at"])
    return item


@transaction.atomic
def snooze(item: ActionItem, until: date, *, actor: User) -> ActionItem:
    """Hide the item until ``until`` (a day in the practice's time zone)."""
    today = item.practice.today()
    if until <= today:
        raise ValidationError({"until": "Choose a day after today."})
    if until > today + timedelta(days=365):
        raise ValidationError({"until": "Choose a day within a year."})
    item = _writable(item)
    item.snoozed_until = until
    item.save(update_fields=["snoozed_until", "updated_at"])
    return item


@transaction.atomic
def unsnooze(item: ActionItem, *, actor: User) -> ActionItem:
    item = _writable(item)
    item.snoozed_until = None
    item.save(update_fields=["snoozed_until", "updated_at"])
    return item


@transaction.atomic
def mark_done(item: ActionItem, *, actor: User) -> ActionItem:
    item = _writable(item)
    item.status = ActionItem.Status.DONE
    item.resolution = ActionItem.Resolution.PERSON
    item.done_at, item.done_by = timezone.now(), actor
    item.save(update_fields=["status", "resolution", "done_at", "done_by", "updated_at"])
    return item
