"""Operations that change claims. Each is atomic, validated and leaves a timeline entry."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from billing import services as billing
from billing.posting import CLAIM_AMOUNTS, Kind, Source
from billingpulse.lib.unique import unique_errors
from billingpulse.models import User
from claims import tasks
from claims.importing import engine
from claims.models import ZERO, Claim, ClaimEvent, ClaimImport, ClaimLine, ClaimNumbering, FeeScheduleEntry
from claims.status import REASON_REQUIRED, ClaimStatus, can_move, initial_status, missing_reason_message
from inbox import services as inbox

# The claim's money: the ledger's projection, written only by billing.posting.
MONEY_FIELDS = frozenset(CLAIM_AMOUNTS)


@transaction.atomic
def create_claim(values: dict, lines: list[dict], *, actor: User | None, message: str, draft: bool = False) -> Claim:
    """Create a claim from validated values (practice included) with its lines, and note it on the timeline.

    The claim starts with no money on it; its total charge is then posted to the ledger, in the
    same transaction, which sets the claim's amounts. A ``draft`` posts nothing yet: its lines'
    charges are posted when it is submitted (``change_status``). A claim number another request
    took since the caller checked it is a ``Duplicate`` on claim_number.
    """
    total_charge = values.get("total_charge") or ZERO
    values = {name: value for name, value in values.items() if name not in MONEY_FIELDS}
    status = ClaimStatus.DRAFT if draft else initial_status(values.get("denial_code", ""))
    with unique_errors():
        claim = Claim.objects.create(status=status, total_charge=ZERO, paid_amount=ZERO, **values)
    _add_lines(claim, lines)
    ClaimEvent.objects.create(claim=claim, kind=ClaimEvent.Kind.CREATED, message=message, actor=actor)
    if total_charge and not draft:
        billing.charge(claim, total_charge, key=f"claim:{claim.pk}:charge", source=Source.MANUAL, actor=actor)
        claim.refresh_from_db(fields=CLAIM_AMOUNTS)
    return claim


@transaction.atomic
def replace_lines(claim: Claim, lines: list[dict], *, actor: User | None) -> bool:
    """Replace all of a claim's service lines with ``lines``; False (and nothing written) if they are the same."""
    # Two replacements at once would both number their lines from 1: one waits for the other.
    Claim.objects.select_for_update().filter(pk=claim.pk).values_list("pk").first()
    current = ClaimLine.objects.filter(claim=claim)  # read under the lock, not a prefetched copy
    if _line_values(lines) == _line_values(current):
        return False
    current.delete()
    _add_lines(claim, lines)
    claim.save(update_fields=["updated_at"])
    ClaimEvent.objects.create(
        claim=claim, kind=ClaimEvent.Kind.UPDATED, message="Changed the service lines.", actor=actor
    )
    return True


# The fields a client gives for a line; line_number comes from the line's position.
LINE_FIELDS = [
    "service_date",
    "procedure_code",
    "modifiers",
    "units",
    "charge",
    "diagnosis_pointers",
    "place_of_service",
    "revenue_code",
]


def _add_lines(claim: Claim, lines: list[dict]) -> None:
    ClaimLine.objects.bulk_create(
        ClaimLine(claim=claim, line_number=number, **line) for number, line in enumerate(lines, start=1)
    )


def _line_values(lines) -> list[tuple]:
    """Lines as comparable tuples (from validated dicts or from rows), to tell a real change from a resend."""

    def value(line, name: str):
        default = ClaimLine._meta.get_field(name).get_default()
        return line.get(name, default) if isinstance(line, dict) else getattr(line, name)

    return [tuple(value(line, name) for name in LINE_FIELDS) for line in lines]


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
    if from_status == ClaimStatus.DRAFT and to_status == ClaimStatus.SUBMITTED:
        _post_draft_charge(claim, actor)
    # Denied, not on file, pending information: the practice must act (the needs-action inbox).
    inbox.claim_status_changed(claim)
    return claim


def _post_draft_charge(claim: Claim, actor: User | None) -> None:
    """A draft's charge goes on the books when it is submitted: the sum of its lines."""
    total = sum((line.charge for line in ClaimLine.objects.filter(claim=claim)), ZERO)
    if total:
        billing.charge(claim, total, key=f"claim:{claim.pk}:charge", source=Source.MANUAL, actor=actor)
        claim.refresh_from_db(fields=CLAIM_AMOUNTS)


@transaction.atomic
def next_claim_number(practice) -> str:
    """The next unused number of the practice's own sequence (``BP000001``…), skipping numbers
    already taken (imported claims may use any number)."""
    numbering, _ = ClaimNumbering.objects.get_or_create(practice=practice)
    numbering = ClaimNumbering.objects.select_for_update().get(pk=numbering.pk)
    while True:
        number = f"{numbering.prefix}{numbering.next_number:06d}"
        numbering.next_number += 1
        if not Claim.objects.filter(practice=practice, claim_number__iexact=number).exists():
            break
    numbering.save(update_fields=["next_number", "updated_at"])
    return number


class FeeSchedule:
    """A practice's charges for some codes, read in one query (``fees_for``)."""

    def __init__(self, entries: dict[tuple[str, str], Decimal]) -> None:
        self.entries = entries

    def get(self, code: str, modifiers: list[str]) -> Decimal | None:
        """The charge for one unit of ``code``: for its first modifier listed, else for the code
        alone; None if the schedule has neither."""
        for modifier in [*modifiers, ""]:
            if (code, modifier) in self.entries:
                return self.entries[(code, modifier)]
        return None


def fees_for(practice, codes: list[str]) -> FeeSchedule:
    entries = FeeScheduleEntry.objects.filter(practice=practice, code__in=set(codes))
    return FeeSchedule({(entry.code, entry.modifier): entry.charge for entry in entries})


@transaction.atomic
def save_claim_changes(
    claim: Claim, changed_fields: list[str], *, actor: User | None, charge_reason: str = ""
) -> Claim:
    """Save edits made through a validated form or the API and note on the timeline what changed.

    The money columns are never saved from the edit: a changed total charge is posted to the
    ledger as a charge correction (the difference, with ``charge_reason``), which moves the
    claim's amounts; paid and adjusted amounts change only through billing.
    """
    names = {field.name for field in Claim._meta.concrete_fields}
    changed_fields = [name for name in changed_fields if name in names]
    if not changed_fields:
        return claim
    plain = [name for name in changed_fields if name not in MONEY_FIELDS]
    if plain:
        with unique_errors():  # a claim number another claim took meanwhile
            claim.save(update_fields=[*plain, "timely_filing_deadline", "updated_at"])
    if "total_charge" in changed_fields:
        correct_charge(claim, claim.total_charge, actor=actor, reason=charge_reason)
    labels = ", ".join(str(Claim._meta.get_field(name).verbose_name) for name in changed_fields)
    ClaimEvent.objects.create(claim=claim, kind=ClaimEvent.Kind.UPDATED, message=f"Changed {labels}.", actor=actor)
    return claim


def correct_charge(claim: Claim, total_charge, *, actor: User | None, reason: str = "", source: str = Source.MANUAL):
    """Post the difference between the claim's charge on the books and ``total_charge``; None if none.

    The key counts the claim's charges so far: a double submit of the same correction posts once,
    and two different corrections made at the same moment cannot both post (the second is refused).
    """
    current = Claim.objects.values_list("total_charge", flat=True).get(pk=claim.pk)
    difference = total_charge - current
    transaction_ = None
    if difference:
        number = claim.ledger.filter(kind=Kind.CHARGE).count() + 1
        memo = f"Charge corrected from ${current:,.2f} to ${total_charge:,.2f}" + (
            f": {reason.strip()}" if reason.strip() else ""
        )
        transaction_ = billing.charge(
            claim, difference, key=f"claim:{claim.pk}:charge:{number}", source=source, memo=memo[:300], actor=actor
        )
    claim.refresh_from_db(fields=CLAIM_AMOUNTS)
    return transaction_


@transaction.atomic
def add_note(claim: Claim, text: str, *, actor: User | None) -> ClaimEvent:
    text = text.strip()
    if not text:
        raise ValidationError("Write the note first.")
    return ClaimEvent.objects.create(claim=claim, kind=ClaimEvent.Kind.NOTE, message=text, actor=actor)


def start_import(claim_import: ClaimImport) -> bool:
    """Start an import whose columns are checked: small files now, large ones in the background.

    Returns False if the import had already left the column check (a second submit).
    The background task is queued once this transaction commits, so it finds the import.
    """
    if not engine.start(claim_import):
        return False
    rows = claim_import.total_rows
    if rows is not None and rows <= settings.CLAIM_IMPORT_INLINE_ROWS:
        engine.run_import_now(claim_import.pk)
    else:
        transaction.on_commit(lambda: tasks.run_claim_import.delay(claim_import.pk))
    return True
