"""Operations on encounters and clinical notes: write, sign, co-sign, lock, amend, add an addendum.

Each is atomic and leaves an entry in the note's audit trail; refused attempts are recorded too
(in their own transaction, so the refusal that undoes the attempt does not undo its record).
Every rule about who may do what to a note lives here; views and the API only call these.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, NoReturn

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

import audit
from billingpulse import codes as codes_table
from billingpulse.actor import Actor
from billingpulse.models import Patient, Practice, Provider, User
from claims import services as claims
from claims.importing.values import validate_icd10_code
from claims.models import MODIFIER_PATTERN, ZERO, Claim, InsurancePolicy, validate_procedure_code
from clinical.models import (
    SECTION_NAMES,
    Addendum,
    Appointment,
    ClinicalNote,
    NoteEvent,
    NoteTemplate,
    Signature,
)
from clinical.status import EDITABLE, SEALED, NoteStatus, can_move

logger = logging.getLogger(__name__)

# Wrong signing passwords a user may enter before signing pauses for them, and for how long.
SIGNING_FAILURES_ALLOWED = 5
SIGNING_PAUSE = timedelta(minutes=15)

ATTESTATIONS = {
    Signature.Meaning.AUTHOR: "I am the author of this note. I have reviewed it, and it is accurate and complete.",
    Signature.Meaning.COSIGNER: (
        "As the supervising provider I have reviewed this note and concur with its assessment and plan."
    ),
    Signature.Meaning.REVIEWER: "I have reviewed this note.",
    Signature.Meaning.APPROVER: "I have reviewed this note and approve it.",
}
# The meanings with which a note is signed by someone other than its author.
SECOND_SIGNATURES = (Signature.Meaning.COSIGNER, Signature.Meaning.REVIEWER, Signature.Meaning.APPROVER)

_POINTERS = re.compile(r"^[A-L]{1,4}$")
MAX_LIST_ITEMS = 50


class NoteActionError(Exception):
    """An act on a note that was refused, with a message for the person who tried it."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAllowed(NoteActionError):
    status = 403


class EditConflict(NoteActionError):
    status = 409


# ---------------------------------------------------------------------------- content


def clean_content(
    values: dict[str, Any], *, diagnoses: list[str] | None = None, on: date | None = None
) -> dict[str, Any]:
    """The note fields in ``values``, normalised; a ``ValidationError`` naming every bad field.

    Diagnosis codes must be billable ICD-10-CM codes of the code set in effect ``on`` the date of
    service (where a code set is loaded). Procedure lines point at diagnosis codes: those in
    ``values``, else ``diagnoses`` (the note's own).
    """
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name in SECTION_NAMES:
        if name in values:
            cleaned[name] = str(values[name] or "").replace("\r\n", "\n")
    if "diagnosis_codes" in values:
        on = values.get("note_date") or on
        cleaned["diagnosis_codes"] = _collect(
            lambda value: _clean_diagnoses(value, on), values["diagnosis_codes"], "diagnosis_codes", errors
        )
    if "procedures" in values:
        count = len(cleaned.get("diagnosis_codes", diagnoses) or [])
        cleaned["procedures"] = _collect(
            lambda value: _clean_procedures(value, count), values["procedures"], "procedures", errors
        )
    for name in ("medications", "orders"):
        if name in values:
            cleaned[name] = _collect(_clean_lines, values[name], name, errors)
    if "note_date" in values:
        cleaned["note_date"] = values["note_date"]
    if "note_type" in values:
        if values["note_type"] not in ClinicalNote.Type.values:
            errors.setdefault("note_type", []).append("Choose a note type from the list.")
        cleaned["note_type"] = values["note_type"]
    if errors:
        raise ValidationError(errors)
    return cleaned


def _collect(clean, value: Any, name: str, errors: dict[str, list[str]]) -> Any:
    try:
        return clean(value)
    except ValueError as error:
        errors.setdefault(name, []).extend(str(error).split("\n"))
        return None


def _as_list(value: Any) -> list:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        return [part for part in re.split(r"[\n,;]+", value) if part.strip()]
    if not isinstance(value, list):
        raise ValueError("Give a list.")
    if len(value) > MAX_LIST_ITEMS:
        raise ValueError(f"At most {MAX_LIST_ITEMS} entries.")
    return value


def _clean_diagnoses(value: Any, on: date | None) -> list[str]:
    codes: list[str] = []
    problems: list[str] = []
    for raw in _as_list(value):
        try:
            code = validate_icd10_code(str(raw))
        except ValueError as error:
            problems.append(str(error))
            continue
        if code not in codes:
            codes.append(code)
    if len(codes) > 12:
        problems.append("A claim carries at most 12 diagnosis codes.")
    problems += codes_table.problems(codes, on=on)
    if problems:
        raise ValueError("\n".join(problems))
    return codes


def _clean_procedures(value: Any, diagnosis_count: int) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    problems: list[str] = []
    for position, raw in enumerate(_as_list(value), start=1):
        line = {"code": raw} if isinstance(raw, str) else raw
        if not isinstance(line, dict):
            problems.append(f"Line {position}: give a code, modifiers, units and pointers.")
            continue
        code = str(line.get("code") or "").strip().upper()
        try:
            validate_procedure_code(code)
        except ValidationError:
            problems.append(
                f"Line {position}: {code or 'an empty code'} is not a CPT or HCPCS code (like 99213 or J1100)."
            )
            continue
        modifiers = [str(m).strip().upper() for m in _as_list(line.get("modifiers")) if str(m).strip()]
        if len(modifiers) > 4 or not all(re.match(MODIFIER_PATTERN, m) for m in modifiers):
            problems.append(f"Line {position}: modifiers are up to four two-character codes, like 25 or LT.")
        try:
            units = int(str(line.get("units") or 1))
        except ValueError:
            units = 0
        if not 1 <= units <= 999:
            problems.append(f"Line {position}: units are a whole number from 1 to 999.")
        pointers = str(line.get("pointers") or ("A" if diagnosis_count else "")).strip().upper()
        if pointers and (not _POINTERS.match(pointers) or any(ord(p) - 64 > diagnosis_count for p in pointers)):
            problems.append(
                f"Line {position}: diagnosis pointers are up to four letters, each naming one of the note's "
                f"{diagnosis_count} diagnosis codes (A is the first)."
            )
        lines.append({"code": code, "modifiers": modifiers, "units": units, "pointers": pointers})
    if problems:
        raise ValueError("\n".join(problems))
    return lines


def _clean_lines(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [line for line in value.splitlines() if line.strip()]
    items = [str(item).strip() for item in _as_list(value) if str(item).strip()]
    if any(len(item) > 500 for item in items):
        raise ValueError("Each entry is at most 500 characters.")
    return items


# ---------------------------------------------------------------------------- writing


@transaction.atomic
def start_note(
    practice: Practice,
    *,
    patient: Patient,
    provider: Provider,
    actor: Actor,
    note_type: str = ClinicalNote.Type.SOAP,
    template: NoteTemplate | None = None,
    appointment: Appointment | None = None,
    note_date: date | None = None,
) -> ClinicalNote:
    """A new draft for ``patient`` by ``provider``, its sections prefilled from ``template``."""
    for thing in (patient, provider, template, appointment):
        if thing is not None and thing.practice_id != practice.pk:
            # No note exists to carry the refusal: the log keeps it (ids only, no patient data).
            logger.warning(
                "Refused a note in practice %s by user %s naming %s %s of another practice",
                practice.pk,
                actor.user.pk,
                type(thing).__name__,
                thing.pk,
            )
            raise ValidationError("The patient, provider, template and appointment must all be your practice's.")
    if appointment is not None and appointment.patient_id != patient.pk:
        raise ValidationError({"appointment": ["That appointment is for another patient."]})
    prefilled = clean_content({k: v for k, v in (template.sections if template else {}).items() if k in SECTION_NAMES})
    note = ClinicalNote.objects.create(
        practice=practice,
        patient=patient,
        provider=provider,
        appointment=appointment,
        template=template,
        note_type=template.note_type if template else note_type,
        note_date=note_date
        or (timezone.localtime(appointment.starts_at).date() if appointment else timezone.localdate()),
        author=actor.user,
        **prefilled,
    )
    _record(note, NoteEvent.Kind.CREATED, actor, f"Started from the template “{template.name}”." if template else "")
    return note


def save_draft(
    note: ClinicalNote, values: dict[str, Any], *, actor: Actor, revision: int | None = None
) -> ClinicalNote:
    """Save changes to a note not yet signed. ``revision`` is the one the editor started from: if
    someone saved since, nothing is written and ``EditConflict`` says who. A note signed meanwhile
    refuses the change (and the attempt is recorded), as does content that is not valid."""
    try:
        cleaned = clean_content(values, diagnoses=note.diagnosis_codes, on=note.note_date)
    except ValidationError as error:
        _record_once(note, NoteEvent.Kind.REFUSED, actor, "Not saved: " + " ".join(error.messages))
        raise
    with transaction.atomic():
        current = ClinicalNote.objects.select_for_update().get(pk=note.pk)
        if current.status in SEALED:
            refusal = _sealed_refusal(current)
        elif revision is not None and revision != current.revision:
            raise EditConflict(
                f"Someone else saved this note while you were editing (version {current.revision}, "
                f"{timezone.localtime(current.updated_at):%H:%M}). Your changes were not saved: copy them, "
                "reload the note, and add them again."
            )
        else:
            refusal = None
            changed = [name for name, value in cleaned.items() if getattr(current, name) != value]
            for name in changed:
                setattr(current, name, cleaned[name])
            if changed:
                current.revision += 1
                if current.status == NoteStatus.DRAFT:
                    current.status = NoteStatus.IN_PROGRESS
                current.save()
                _record_once(current, NoteEvent.Kind.EDITED, actor)
    if refusal:
        _refuse(note, actor, refusal)
    return current


def set_status(note: ClinicalNote, status: str, *, actor: Actor) -> ClinicalNote:
    """Mark a draft completed (ready to sign) or reopen it for editing."""
    if status not in (NoteStatus.COMPLETED, NoteStatus.IN_PROGRESS) or not can_move(note.status, status):
        _refuse(
            note,
            actor,
            f"A {note.get_status_display().lower()} note cannot be marked {NoteStatus(status).label.lower()}.",
        )
    with transaction.atomic():
        moved = ClinicalNote.objects.filter(pk=note.pk, status=note.status).update(
            status=status, revision=note.revision + 1
        )
        if not moved:
            raise EditConflict("This note changed while you were looking at it. Reload it and try again.")
        note.refresh_from_db()
        kind = NoteEvent.Kind.COMPLETED if status == NoteStatus.COMPLETED else NoteEvent.Kind.REOPENED
        _record(note, kind, actor)
    return note


# ---------------------------------------------------------------------------- signing


def allowed_meanings(note: ClinicalNote, user: User) -> list[str]:
    """The meanings with which ``user`` may sign ``note`` now (empty: they may not sign it)."""
    provider = _provider_of(user, note.practice_id)
    if provider is None:
        return []
    if note.status in EDITABLE:
        return [Signature.Meaning.AUTHOR] if provider.pk == note.provider_id else []
    if (
        note.status in (NoteStatus.SIGNED, NoteStatus.LOCKED)
        and provider.can_cosign
        and provider.pk != note.provider_id
    ):
        done = set(note.signatures.filter(signer=user, addendum=None).values_list("meaning", flat=True))
        return [meaning for meaning in SECOND_SIGNATURES if meaning not in done]
    return []


def sign(note: ClinicalNote, *, actor: Actor, password: str, meaning: str) -> Signature:
    """Sign ``note`` with the signer's password re-entered and a stated meaning.

    The author's signature seals a note being written (and, on an amendment, marks the version it
    corrects as amended); a supervising provider's co-signature, review or approval is added to a
    signed or locked note. Wrong passwords are recorded; after ``SIGNING_FAILURES_ALLOWED`` of them
    in ``SIGNING_PAUSE`` signing pauses for that user.
    """
    _reauthenticate(note, actor, password)
    with transaction.atomic():
        current = ClinicalNote.objects.select_for_update().get(pk=note.pk)
        allowed = allowed_meanings(current, actor.user)
        if meaning not in allowed:
            refusal = _signing_refusal(current, actor.user, meaning)
        else:
            refusal = None
            signature = _signature(current, actor, meaning)
            audit.record("note_signed", target=current, actor=actor.user, detail=str(signature))
            if meaning == Signature.Meaning.AUTHOR:
                current.status, current.signed_at = NoteStatus.SIGNED, signature.signed_at
                current.revision += 1
                current.save()
                _record(current, NoteEvent.Kind.SIGNED, actor, str(signature))
                if current.amends_id:
                    _supersede(current, actor)
            else:
                _record(current, NoteEvent.Kind.COSIGNED, actor, str(signature))
    if refusal:
        _refuse(note, actor, refusal, status=NotAllowed)
    note.refresh_from_db()
    return signature


def _signature(note: ClinicalNote, actor: Actor, meaning: str, addendum: Addendum | None = None) -> Signature:
    provider = actor.user.provider
    return Signature.objects.create(
        note=note,
        addendum=addendum,
        signer=actor.user,
        printed_name=provider.full_name,
        credentials=provider.credentials,
        meaning=meaning,
        attestation=ATTESTATIONS[meaning]
        if addendum is None
        else "I wrote this addendum and attest that it is accurate.",
        content_hash=(addendum or note).content_hash(),
        ip_address=actor.ip_address,
        user_agent=actor.user_agent,
    )


def _supersede(amendment: ClinicalNote, actor: Actor) -> None:
    previous = ClinicalNote.objects.select_for_update().get(pk=amendment.amends_id)
    previous.status = NoteStatus.AMENDED
    previous.save(update_fields=["status", "updated_at"])
    _record(
        previous, NoteEvent.Kind.AMENDED, actor, f"Amended by version {amendment.version}: {amendment.amendment_reason}"
    )


def signing_paused_until(user: User) -> datetime | None:
    """When signing is open again for ``user`` after too many wrong passwords (None: it is open)."""
    failures = _recent_failures(user)
    return failures[0] + SIGNING_PAUSE if len(failures) >= SIGNING_FAILURES_ALLOWED else None


def _recent_failures(user: User) -> list[datetime]:
    """When ``user`` last entered a wrong signing password, newest first, within ``SIGNING_PAUSE``."""
    return list(
        NoteEvent.objects.filter(
            actor=user, kind=NoteEvent.Kind.SIGNING_FAILED, created_at__gt=timezone.now() - SIGNING_PAUSE
        )
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:SIGNING_FAILURES_ALLOWED]
    )


def _reauthenticate(note: ClinicalNote, actor: Actor, password: str) -> None:
    paused = signing_paused_until(actor.user)
    if paused:
        _refuse(
            note,
            actor,
            f"Signing is paused for you until {timezone.localtime(paused):%H:%M} after {SIGNING_FAILURES_ALLOWED} "
            "wrong passwords. Nothing was signed. If you have forgotten your password, reset it from the sign-in page.",
            status=NotAllowed,
        )
    if not actor.user.check_password(password or ""):
        NoteEvent.objects.create(
            note=note, kind=NoteEvent.Kind.SIGNING_FAILED, actor=actor.user, ip_address=actor.ip_address
        )
        left = SIGNING_FAILURES_ALLOWED - len(_recent_failures(actor.user))
        minutes = int(SIGNING_PAUSE.total_seconds() // 60)
        warning = f" {left} more wrong password(s) will pause signing for {minutes} minutes." if left > 0 else ""
        raise NoteActionError(f"That password is not right, so nothing was signed.{warning}")


def _signing_refusal(note: ClinicalNote, user: User, meaning: str) -> str:
    provider = _provider_of(user, note.practice_id)
    if provider is None:
        return "Only providers sign notes. Your sign-in is not linked to a provider of this practice."
    if note.status == NoteStatus.AMENDED:
        return "This version was amended: sign the latest version instead."
    if note.status in EDITABLE:
        return f"Only {note.provider.full_name}, the note's provider, can sign it as its author."
    if provider.pk == note.provider_id:
        return "You signed this note as its author; a co-signature must come from another provider."
    if not provider.can_cosign:
        return "This note is already signed. Only a supervising provider can co-sign it."
    return f"You have already signed this note as {Signature.Meaning(meaning).label.lower()}."


# ---------------------------------------------------------------------------- after signing


def lock(note: ClinicalNote, *, actor: Actor | None) -> ClinicalNote:
    """Lock a signed note (by its author, a supervising provider, or the periodic task when
    ``actor`` is None)."""
    if actor is not None:
        provider = _provider_of(actor.user, note.practice_id)
        if provider is None or (provider.pk != note.provider_id and not provider.can_cosign):
            _refuse(note, actor, "Only the note's provider or a supervising provider can lock it.", status=NotAllowed)
    with transaction.atomic():
        moved = ClinicalNote.objects.filter(pk=note.pk, status=NoteStatus.SIGNED).update(
            status=NoteStatus.LOCKED, locked_at=timezone.now(), locked_by=actor.user if actor else None
        )
        if moved:
            note.refresh_from_db()
            _record(note, NoteEvent.Kind.LOCKED, actor, "" if actor else "Locked automatically.")
    if not moved:
        note.refresh_from_db()
        if note.status != NoteStatus.LOCKED:
            _refuse(note, actor, f"Only a signed note can be locked; this one is {note.get_status_display().lower()}.")
    return note


def lock_signed_notes(now: datetime | None = None) -> int:
    """Lock every note signed more than ``NOTE_AUTO_LOCK_AFTER`` ago; the number locked."""
    cutoff = (now or timezone.now()) - settings.NOTE_AUTO_LOCK_AFTER
    locked = 0
    for note in ClinicalNote.objects.filter(status=NoteStatus.SIGNED, signed_at__lte=cutoff):
        lock(note, actor=None)
        locked += note.status == NoteStatus.LOCKED
    return locked


# What an amendment copies from the version it corrects.
_COPIED = ("patient", "provider", "appointment", "template", "note_type", "note_date", *SECTION_NAMES)
_COPIED_LISTS = ("diagnosis_codes", "procedures", "medications", "orders")


def amend(note: ClinicalNote, *, actor: Actor, reason: str) -> ClinicalNote:
    """Start a correction of a signed note: a new version, a copy of it to edit and sign, linked to
    it with the reason. The original stays as it is (and readable) until the correction is signed."""
    reason = (reason or "").strip()
    provider = _provider_of(actor.user, note.practice_id)
    if provider is None or (provider.pk != note.provider_id and not provider.can_cosign):
        _refuse(note, actor, "Only the note's provider or a supervising provider can amend it.", status=NotAllowed)
    if not reason:
        _refuse(note, actor, "Say why the note is being amended: the reason stays with the note.")
    with transaction.atomic():
        current = ClinicalNote.objects.select_for_update().get(pk=note.pk)
        refusal = None
        if current.status not in (NoteStatus.SIGNED, NoteStatus.LOCKED):
            refusal = "Only a signed note can be amended; edit this one instead."
        elif ClinicalNote.objects.filter(amends=current).exists():
            refusal = "An amendment of this note is already being written: open it from the version history."
        else:
            draft = ClinicalNote.objects.create(
                practice=current.practice,
                author=actor.user,
                amends=current,
                first_version_id=current.series_id,
                version=current.version + 1,
                amendment_reason=reason,
                **{name: getattr(current, name) for name in _COPIED},
                **{name: list(getattr(current, name)) for name in _COPIED_LISTS},
            )
            _record(current, NoteEvent.Kind.AMENDMENT_STARTED, actor, f"Version {draft.version}: {reason}")
            _record(draft, NoteEvent.Kind.CREATED, actor, f"Amends version {current.version}: {reason}")
    if refusal:
        _refuse(note, actor, refusal, status=EditConflict)
    return draft


def add_addendum(note: ClinicalNote, *, actor: Actor, password: str, text: str) -> Addendum:
    """Append signed text to a signed or locked note."""
    _reauthenticate(note, actor, password)
    text = (text or "").strip()
    if _provider_of(actor.user, note.practice_id) is None:
        _refuse(
            note,
            actor,
            "Only providers add addenda. Your sign-in is not linked to a provider of this practice.",
            status=NotAllowed,
        )
    if not text:
        raise NoteActionError("Write the addendum's text.")
    with transaction.atomic():
        current = ClinicalNote.objects.select_for_update().get(pk=note.pk)
        if current.status not in (NoteStatus.SIGNED, NoteStatus.LOCKED):
            refusal = "An addendum is added to a signed note; this one can still be edited."
            if current.status == NoteStatus.AMENDED:
                refusal = "This version was amended: add the addendum to the latest version."
        else:
            refusal = None
            addendum = Addendum.objects.create(note=current, author=actor.user, text=text)
            _signature(current, actor, Signature.Meaning.AUTHOR, addendum=addendum)
            _record(current, NoteEvent.Kind.ADDENDUM, actor, text[:200])
    if refusal:
        _refuse(note, actor, refusal)
    return addendum


# ---------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class SignatureCheck:
    signature: Signature
    intact: bool


def verify(note: ClinicalNote, *, actor: Actor | None = None) -> list[SignatureCheck]:
    """Every signature on ``note`` checked against what is stored now. A mismatch is recorded
    each time it is seen (with who saw it)."""
    checks = [
        SignatureCheck(signature, signature.verifies())
        for signature in note.signatures.select_related("addendum", "signer")
    ]
    broken = [check.signature for check in checks if not check.intact]
    if broken:
        names = ", ".join(f"{s.printed_name} ({s.get_meaning_display().lower()})" for s in broken)
        _record(note, NoteEvent.Kind.TAMPER, actor, f"Stored content does not match the signature of {names}.")
    return checks


# ---------------------------------------------------------------------------- helpers


def _provider_of(user: User, practice_id: int) -> Provider | None:
    provider = getattr(user, "provider", None) if user.is_authenticated else None
    if provider is None or provider.practice_id != practice_id or not provider.is_active:
        return None
    return provider


def _sealed_refusal(note: ClinicalNote) -> str:
    signature = note.signatures.filter(addendum=None).first()
    by = (
        f" by {signature.printed_name} at {timezone.localtime(signature.signed_at):%m/%d/%Y %H:%M}" if signature else ""
    )
    return (
        f"This note was signed{by}, so your changes were not saved. "
        "A signed note is corrected by amending it, or added to with an addendum."
    )


def _record(note: ClinicalNote, kind: str, actor: Actor | None, message: str = "") -> NoteEvent:
    return NoteEvent.objects.create(
        note=note,
        kind=kind,
        message=message[:2000],
        actor=actor.user if actor else None,
        ip_address=actor.ip_address if actor else None,
    )


# Autosave runs every few seconds; the trail keeps one "edited" entry per person per stretch of work.
EDIT_RECORD_INTERVAL = timedelta(minutes=10)


def _record_once(note: ClinicalNote, kind: str, actor: Actor, message: str = "") -> None:
    """Record ``kind`` unless the same person's same entry was recorded within the interval
    (autosave repeats itself every few seconds)."""
    recent = note.events.filter(
        kind=kind, actor=actor.user, message=message[:2000], created_at__gt=timezone.now() - EDIT_RECORD_INTERVAL
    )
    if not recent.exists():
        _record(note, kind, actor, message)


def _refuse(
    note: ClinicalNote, actor: Actor | None, message: str, *, status: type[NoteActionError] = NoteActionError
) -> NoReturn:
    """Record a refused attempt on ``note`` and raise it. Called outside the services' own
    transactions, so the record stays though the attempt changed nothing."""
    _record(note, NoteEvent.Kind.REFUSED, actor, message)
    raise status(message)


# ---------------------------------------------------------------------------- charge capture

# Place of service: a telehealth visit in the patient's home (10), else the office (11).
_PLACE_OF_SERVICE = {Appointment.Kind.TELEHEALTH: "10"}


def create_claim(note: ClinicalNote, *, actor: Actor) -> Claim:
    """A draft claim from a signed note: the patient's primary insurance, the note's provider and
    date, its diagnosis codes in pointer order and one line per procedure, charged from the
    practice's fee schedule (editable on the claim before it is submitted). The note and the claim
    link to each other; a second request returns the same claim."""
    with transaction.atomic():
        current = ClinicalNote.objects.select_for_update().select_related("patient").get(pk=note.pk)
        if current.claim_id:
            return current.claim
        policy = _primary_policy(current)
        refusal = _claim_refusal(current, policy)
        if refusal is None:
            claim = _draft_claim(current, policy, actor)
    if refusal:
        _refuse(note, actor, refusal)
    return claim


def _draft_claim(note: ClinicalNote, policy: InsurancePolicy, actor: Actor) -> Claim:
    place = _PLACE_OF_SERVICE.get(note.appointment.kind if note.appointment else "", "11")
    fees = claims.fees_for(note.practice, [procedure["code"] for procedure in note.procedures])
    lines, unpriced = [], []
    for procedure in note.procedures:
        fee = fees.get(procedure["code"], procedure["modifiers"])
        if fee is None:
            unpriced.append(procedure["code"])
        lines.append(
            {
                "service_date": note.note_date,
                "procedure_code": procedure["code"],
                "modifiers": procedure["modifiers"],
                "units": Decimal(procedure["units"]),
                "charge": (fee or ZERO) * procedure["units"],
                "diagnosis_pointers": procedure["pointers"],
                "place_of_service": place,
            }
        )
    message = f"Created from the signed {note.get_note_type_display()} of {note.note_date:%m/%d/%Y}."
    if unpriced:
        message += f" No fee on file for {', '.join(unpriced)}: charge set to $0.00; enter it before submitting."
    claim = claims.create_claim(
        {
            "practice": note.practice,
            "patient": note.patient,
            "provider": note.provider,
            "payer": policy.payer,
            "policy": policy,
            "claim_number": claims.next_claim_number(note.practice),
            "service_date_from": note.note_date,
            "diagnosis_codes": list(note.diagnosis_codes),
        },
        lines,
        actor=actor.user,
        message=message,
        draft=True,
    )
    note.claim = claim
    note.save(update_fields=["claim", "updated_at"])
    if note.appointment_id:
        note.appointment.claims.add(claim)
    _record(note, NoteEvent.Kind.CLAIM_CREATED, actor, f"Claim {claim.claim_number} (draft).")
    return claim


def _claim_refusal(note: ClinicalNote, policy: InsurancePolicy | None) -> str | None:
    if note.status not in (NoteStatus.SIGNED, NoteStatus.LOCKED):
        if note.status == NoteStatus.AMENDED:
            return "This version was amended: create the claim from the latest version."
        return "Only a signed note becomes a claim: sign it first."
    if not note.procedures:
        return "The note has no procedure codes to bill. Amend it to add them."
    if not note.diagnosis_codes:
        return "The note has no diagnosis codes; a claim needs at least one. Amend it to add them."
    if policy is None:
        return f"{note.patient.full_name} has no insurance policy on file. Add one on the patient's page first."
    return None


def _primary_policy(note: ClinicalNote) -> InsurancePolicy | None:
    """The patient's primary policy in effect on the note's date (else their latest primary policy)."""
    policies = (
        InsurancePolicy.objects.filter(patient=note.patient, priority=InsurancePolicy.Priority.PRIMARY)
        .select_related("payer")
        .order_by("-id")
    )
    in_effect = [
        p
        for p in policies
        if (p.effective_from is None or p.effective_from <= note.note_date)
        and (p.effective_to is None or note.note_date <= p.effective_to)
    ]
    return (in_effect or list(policies) or [None])[0]


# ---------------------------------------------------------------------------- printing


def record_printed(note: ClinicalNote, actor: Actor) -> NoteEvent:
    """Record in the note's audit trail that a PDF of this version was made, by whom and from where."""
    return _record(note, NoteEvent.Kind.PRINTED, actor, f"Version {note.version} printed as a PDF.")


# ---------------------------------------------------------------------------- appointments


@transaction.atomic
def schedule_appointment(
    practice: Practice,
    *,
    patient: Patient,
    provider: Provider,
    starts_at: datetime,
    actor: Actor | None = None,
    duration_minutes: int = 30,
    kind: str = Appointment.Kind.FOLLOW_UP,
    reason: str = "",
) -> Appointment:
    """A new scheduled appointment of ``patient`` with ``provider``. Both must be the practice's and
    the provider active; a time in the past is allowed (a visit entered after it happened)."""
    if patient.practice_id != practice.pk:
        raise ValidationError({"patient": ["That patient is not one of your practice's."]})
    if provider.practice_id != practice.pk:
        raise ValidationError({"provider": ["That provider is not one of your practice's."]})
    if not provider.is_active:
        raise ValidationError({"provider": [f"{provider.full_name} is inactive; pick an active provider."]})
    if timezone.is_naive(starts_at):
        raise ValidationError({"starts_at": ["Give the time with its time zone."]})
    appointment = Appointment(
        practice=practice,
        patient=patient,
        provider=provider,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        kind=kind,
        reason=(reason or "").strip(),
    )
    appointment.full_clean(exclude=["claims"])
    appointment.save()
    return appointment


def move_appointment(appointment: Appointment, status: str, *, actor: Actor | None = None) -> Appointment:
    """Move an appointment along ``Appointment.TRANSITIONS`` (arrived, completed, no-show, canceled,
    or back to scheduled). The move is a conditional update from the status it was read in, so two
    people moving the same appointment at once cannot both succeed; a refused move changes nothing."""
    if status not in Appointment.Status.values:
        raise ValidationError({"status": ["Choose a status from the list."]})
    if not appointment.can_move_to(status):
        current, target = appointment.get_status_display().lower(), Appointment.Status(status).label.lower()
        raise ValidationError({"status": [f"A {current} appointment cannot be marked {target}."]})
    moved = Appointment.objects.filter(pk=appointment.pk, status=appointment.status).update(
        status=status, updated_at=timezone.now()
    )
    if not moved:
        appointment.refresh_from_db()
        raise ValidationError(
            {"status": [f"Someone changed this appointment meanwhile; it is now {appointment.get_status_display()}."]}
        )
    appointment.refresh_from_db()
    return appointment
