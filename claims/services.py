"""Operations that change claims. Each is atomic, validated and leaves a timeline entry."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from billingpulse.models import User
from claims.models import Claim, ClaimEvent
from claims.status import REASON_REQUIRED, ClaimStatus, can_move, missing_reason_message


@transaction.atomic
def change_status(claim: Claim, to_status: str, *, actor: User | None, reason: str = "", source: str = "user") -> Claim:
    """Move a claim to ``to_status`` if the status machine allows it, and record why.

    The update is conditional on the status we read, so two people (or a person and a
    payer call) changing the same claim at once cannot both win: the second gets a
    clear error instead of silently overwriting the first.
    """
    if to_status not in ClaimStatus.values:
        raise ValidationError(f"{to_status!r} is not a claim status.")
    from_status = claim.status
    if to_status == from_status:
        raise ValidationError(f"The claim is already {claim.get_status_display().lower()}.")
    if not can_move(from_status, to_status):
        raise ValidationError(
            f"A {ClaimStatus(from_status).label.lower()} claim cannot become {ClaimStatus(to_status).label.lower()}."
        )
    # Enforced here, not only in the page's form, so the API and every other caller keep the rule.
    if to_status in REASON_REQUIRED and not reason.strip():
        raise ValidationError({"reason": missing_reason_message(to_status)})
    now = timezone.now()
    changed = Claim.objects.filter(pk=claim.pk, status=from_status).update(
        status=to_status, status_changed_at=now, updated_at=now
    )
    if changed != 1:
        raise ValidationError("Someone else changed this claim's status a moment ago. Reload and try again.")
    ClaimEvent.objects.create(
        claim=claim,
        kind=ClaimEvent.Kind.STATUS_CHANGED,
        from_status=from_status,
        to_status=to_status,
        message=reason.strip(),
        actor=actor,
        source=source,
    )
    claim.status, claim.status_changed_at, claim.updated_at = to_status, now, now
    return claim


@transaction.atomic
def save_claim_changes(claim: Claim, changed_fields: list[str], *, actor: User | None) -> Claim:
    """Save edits made through a validated form and note on the timeline what changed."""
    if not changed_fields:
        return claim
    claim.save()
    labels = ", ".join(str(Claim._meta.get_field(name).verbose_name) for name in changed_fields)
    ClaimEvent.objects.create(claim=claim, kind=ClaimEvent.Kind.UPDATED, message=f"Changed {labels}.", actor=actor)
    return claim


@transaction.atomic
def add_note(claim: Claim, text: str, *, actor: User | None) -> ClaimEvent:
    text = text.strip()
    if not text:
        raise ValidationError("Write the note first.")
    return ClaimEvent.objects.create(claim=claim, kind=ClaimEvent.Kind.NOTE, message=text, actor=actor)
