"""Encounters and clinical notes, with signatures bound to the content they sign.

A signed note is a legal record. Its content is sealed on every path: the model's ``save`` and
``delete``, the queryset's ``update``/``delete`` (and so bulk operations), and, in the database
itself, a trigger (PostgreSQL and SQLite, migration ``0002``). Corrections are amendments, new
versions that keep the original; addenda are appended and signed on their own.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from billingpulse.encryption import EncryptedCharField, EncryptedJSONField, EncryptedTextField
from billingpulse.models import Patient, PracticeOwned, Provider, TimestampedModel
from billingpulse.validators import validate_date_in_range
from clinical.status import EDITABLE, SEALED, NoteStatus

# The fields a signature seals, in the order they are shown. Their names are part of the
# canonical form that is hashed: renaming one changes every hash, so add, never rename.
SECTIONS = (
    ("chief_complaint", "Chief complaint"),
    ("hpi", "History of present illness"),
    ("ros", "Review of systems"),
    ("subjective", "Subjective"),
    ("physical_exam", "Physical exam"),
    ("objective", "Objective"),
    ("labs_imaging", "Labs and imaging"),
    ("assessment", "Assessment"),
    ("plan", "Plan"),
)
SECTION_NAMES = tuple(name for name, _ in SECTIONS)
# The sections each type of note is written in (the editor offers the others under "More sections").
TYPE_SECTIONS = {
    "soap": ("chief_complaint", "subjective", "objective", "assessment", "plan"),
    "progress": ("chief_complaint", "subjective", "objective", "assessment", "plan"),
    "consultation": ("chief_complaint", "hpi", "ros", "physical_exam", "labs_imaging", "assessment", "plan"),
    "procedure": ("chief_complaint", "hpi", "physical_exam", "objective", "assessment", "plan"),
    "h_and_p": ("chief_complaint", "hpi", "ros", "physical_exam", "labs_imaging", "assessment", "plan"),
    "discharge": ("chief_complaint", "hpi", "labs_imaging", "assessment", "plan"),
    "other": SECTION_NAMES,
}
CONTENT_FIELDS = (
    "patient_id",
    "provider_id",
    "note_type",
    "note_date",
    *SECTION_NAMES,
    "diagnosis_codes",
    "procedures",
    "medications",
    "orders",
)
# The canonical form's own version: a new way of serialising gets a new number, so old
# signatures still verify against the form they were made with.
CANONICAL_FORM = 1


class SealedNoteError(Exception):
    """Raised by any attempt to change or remove the sealed content of a signed note."""


def canonical(values: dict[str, Any]) -> bytes:
    """The bytes a signature hashes: JSON with explicit field names, sorted keys and fixed
    separators, so two different contents can never serialise alike (no bare concatenation)."""
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def sha256(values: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(values)).hexdigest()


class NoteType(models.TextChoices):
    SOAP = "soap", "SOAP note"
    PROGRESS = "progress", "Progress note"
    CONSULTATION = "consultation", "Consultation"
    PROCEDURE = "procedure", "Procedure note"
    HISTORY_PHYSICAL = "h_and_p", "History and physical"
    DISCHARGE = "discharge", "Discharge summary"
    OTHER = "other", "Other"


class Appointment(PracticeOwned):
    """An encounter: a patient seen (or to be seen) by a provider at a time."""

    class Kind(models.TextChoices):
        NEW_PATIENT = "new_patient", "New patient"
        FOLLOW_UP = "follow_up", "Follow-up"
        ANNUAL = "annual", "Annual exam"
        PROCEDURE = "procedure", "Procedure"
        TELEHEALTH = "telehealth", "Telehealth"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        ARRIVED = "arrived", "Arrived"
        COMPLETED = "completed", "Completed"
        NO_SHOW = "no_show", "No-show"
        CANCELED = "canceled", "Canceled"

    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.SCHEDULED: frozenset({Status.ARRIVED, Status.NO_SHOW, Status.CANCELED, Status.COMPLETED}),
        Status.ARRIVED: frozenset({Status.COMPLETED, Status.SCHEDULED}),
        Status.COMPLETED: frozenset(),
        Status.NO_SHOW: frozenset({Status.SCHEDULED}),
        Status.CANCELED: frozenset({Status.SCHEDULED}),
    }

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="appointments")
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(5), MaxValueValidator(12 * 60)]
    )
    kind = models.CharField("type", max_length=20, choices=Kind.choices, default=Kind.FOLLOW_UP)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SCHEDULED)
    reason = EncryptedCharField("reason for visit", max_length=300, blank=True)
    claims = models.ManyToManyField("claims.Claim", blank=True, related_name="appointments")

    class Meta:
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["practice", "provider", "starts_at"])]

    def __str__(self) -> str:
        local = timezone.localtime(self.starts_at)
        return f"{self.patient.full_name}, {local:%m/%d/%Y %H:%M} ({self.get_kind_display()})"

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS.get(self.status, frozenset())


class NoteTemplate(PracticeOwned):
    """A practice's starting point for a kind of note: prefilled section text."""

    name = models.CharField(max_length=120)
    note_type = models.CharField("type", max_length=20, choices=NoteType.choices, default=NoteType.SOAP)
    sections = models.JSONField(default=dict, blank=True, help_text="Section name → the text it starts with.")
    is_active = models.BooleanField("in use", default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "name"],
                name="note_template_name_unique_per_practice",
                violation_error_message="This practice already has a template with this name.",
            )
        ]

    def __str__(self) -> str:
        return self.name


class NoteQuerySet(models.QuerySet["ClinicalNote"]):
    """Bulk changes may not touch a signed note's content, nor remove a signed note."""

    def update(self, **kwargs: Any) -> int:
        touched = set(kwargs) & _CONTENT_COLUMNS
        if touched and self.filter(status__in=SEALED).exists():
            raise SealedNoteError("A signed note's content cannot be changed; amend it instead.")
        if "status" in kwargs:
            new = kwargs["status"]
            # Rows from whose status ``new`` is no allowed move (an expression, as bulk_update
            # writes, could be anything).
            allowed_from = [old for old, moves in _SEALED_MOVES.items() if isinstance(new, str) and new in moves]
            if self.filter(status__in=SEALED).exclude(status__in=allowed_from).exists():
                raise SealedNoteError("A signed note's status changes only by locking or amending it.")
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        if self.filter(status__in=SEALED).exists():
            raise SealedNoteError("A signed note is a legal record and cannot be deleted.")
        return super().delete()

    _raw_delete = delete

    def current(self) -> NoteQuerySet:
        """The versions a reader should see: every note not superseded by a signed amendment."""
        return self.exclude(status=NoteStatus.AMENDED)


class ClinicalNote(PracticeOwned):
    Type = NoteType
    Status = NoteStatus

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="clinical_notes")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="clinical_notes")
    appointment = models.ForeignKey(Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="notes")
    template = models.ForeignKey(NoteTemplate, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    note_type = models.CharField("type", max_length=20, choices=NoteType.choices, default=NoteType.SOAP)
    note_date = models.DateField(default=date.today, validators=[validate_date_in_range])
    status = models.CharField(max_length=20, choices=NoteStatus.choices, default=NoteStatus.DRAFT)

    chief_complaint = EncryptedTextField(blank=True, max_length=2000)
    hpi = EncryptedTextField("history of present illness", blank=True, max_length=20000)
    ros = EncryptedTextField("review of systems", blank=True, max_length=20000)
    subjective = EncryptedTextField(blank=True, max_length=20000)
    physical_exam = EncryptedTextField(blank=True, max_length=20000)
    objective = EncryptedTextField(blank=True, max_length=20000)
    labs_imaging = EncryptedTextField("labs and imaging", blank=True, max_length=20000)
    assessment = EncryptedTextField(blank=True, max_length=20000)
    plan = EncryptedTextField(blank=True, max_length=20000)
    diagnosis_codes = models.JSONField("ICD-10-CM codes", default=list, blank=True, help_text="In pointer order.")
    procedures = models.JSONField(
        "procedure codes",
        default=list,
        blank=True,
        help_text="CPT/HCPCS lines: code, modifiers, units, diagnosis pointers.",
    )
    medications = EncryptedJSONField(default=list, blank=True)
    orders = EncryptedJSONField(default=list, blank=True)

    # Versions: an amendment is a new note that amends the previous version; the first
    # version of every series is ``first_version`` (itself for the first).
    amends = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True, related_name="amendment")
    first_version = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    version = models.PositiveIntegerField(default=1)
    amendment_reason = EncryptedTextField(blank=True, max_length=2000)

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", help_text="Who started the note."
    )
    # Raised by every save of the draft: an autosave made from an older revision is a conflict.
    revision = models.PositiveIntegerField(default=1)
    signed_at = models.DateTimeField(null=True, blank=True)
    locked_at = models.DateTimeField(null=True, blank=True)
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    claim = models.OneToOneField(
        "claims.Claim", on_delete=models.SET_NULL, null=True, blank=True, related_name="clinical_note"
    )

    objects = NoteQuerySet.as_manager()

    class Meta:
        ordering = ["-note_date", "-id"]
        indexes = [
            models.Index(fields=["practice", "patient", "-note_date"]),
            models.Index(fields=["practice", "provider", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_note_type_display()}, {self.patient.full_name}, {self.note_date:%m/%d/%Y}"

    @property
    def is_signed(self) -> bool:
        return self.status in SEALED

    @property
    def is_locked(self) -> bool:
        return self.status == NoteStatus.LOCKED or (self.status == NoteStatus.AMENDED and self.locked_at is not None)

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE

    @property
    def series_id(self) -> int:
        return self.first_version_id or self.pk

    def content(self) -> dict[str, Any]:
        """What a signature seals, by field name (dates as ISO text)."""
        values = {name: getattr(self, name) for name in CONTENT_FIELDS}
        values["note_date"] = self.note_date.isoformat() if self.note_date else None
        return values

    def content_hash(self) -> str:
        """SHA-256 over the canonical form of this note's sealed content and identity."""
        return sha256({"form": CANONICAL_FORM, "note": self.pk, "version": self.version, "content": self.content()})

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            _refuse_sealed_change(self)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if type(self).objects.filter(pk=self.pk, status__in=SEALED).exists():
            raise SealedNoteError("A signed note is a legal record and cannot be deleted.")
        return super().delete(*args, **kwargs)


# Database column names of the sealed fields (``patient_id`` is the column of ``patient``).
_CONTENT_COLUMNS = frozenset(CONTENT_FIELDS) | {"patient", "provider"}
# What may still change on a signed note, and into what.
_SEALED_MOVES = {
    NoteStatus.SIGNED: {NoteStatus.SIGNED, NoteStatus.LOCKED, NoteStatus.AMENDED},
    NoteStatus.LOCKED: {NoteStatus.LOCKED, NoteStatus.AMENDED},
    NoteStatus.AMENDED: {NoteStatus.AMENDED},
}


def _refuse_sealed_change(note: ClinicalNote) -> None:
    stored = type(note).objects.filter(pk=note.pk).values("status", *CONTENT_FIELDS).first()
    if stored is None or stored["status"] not in SEALED:
        return
    if note.status not in _SEALED_MOVES[stored["status"]]:
        raise SealedNoteError("A signed note's status changes only by locking or amending it.")
    stored_note = ClinicalNote(**{name: stored[name] for name in CONTENT_FIELDS}, pk=note.pk, version=note.version)
    if stored_note.content() != note.content():
        raise SealedNoteError("A signed note's content cannot be changed; amend it instead.")


class Addendum(TimestampedModel):
    """Text appended to a signed note, signed on its own. Never edited."""

    note = models.ForeignKey(ClinicalNote, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = EncryptedTextField(max_length=20000)

    practice_path = "note__practice"

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "addenda"

    def __str__(self) -> str:
        return f"Addendum to {self.note}"

    def content_hash(self) -> str:
        return sha256({"form": CANONICAL_FORM, "addendum_to": self.note_id, "text": self.text})

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise SealedNoteError("A signed addendum cannot be changed; add another.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise SealedNoteError("A signed addendum cannot be deleted.")


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise SealedNoteError(f"{self.model._meta.verbose_name_plural.capitalize()} are never changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise SealedNoteError(f"{self.model._meta.verbose_name_plural.capitalize()} are never deleted.")

    _raw_delete = delete


class Signature(models.Model):
    """One act of signing a note (or one of its addenda): who, as what, when, from where, and the
    hash of exactly what was signed. Never changed or removed."""

    class Meaning(models.TextChoices):
        AUTHOR = "author", "Author"
        REVIEWER = "reviewer", "Reviewer"
        APPROVER = "approver", "Approver"
        COSIGNER = "cosigner", "Co-signer (supervising provider)"

    note = models.ForeignKey(ClinicalNote, on_delete=models.PROTECT, related_name="signatures")
    addendum = models.OneToOneField(Addendum, on_delete=models.PROTECT, null=True, blank=True, related_name="signature")
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    printed_name = models.CharField(max_length=200)
    credentials = models.CharField(max_length=40, blank=True)
    meaning = models.CharField(max_length=20, choices=Meaning.choices)
    attestation = models.TextField(
        editable=False, help_text="The statement signed, written by BillingPulse for the meaning."
    )
    signed_at = models.DateTimeField(default=timezone.now)
    method = models.CharField(max_length=40, default="password re-entered")
    content_hash = models.CharField("SHA-256 of the signed content", max_length=64)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    practice_path = "note__practice"
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["signed_at", "id"]

    def __str__(self) -> str:
        return f"{self.printed_name} ({self.get_meaning_display()}), {self.signed_at:%Y-%m-%d %H:%M} UTC"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise SealedNoteError("A signature is never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise SealedNoteError("A signature is never deleted.")

    def verifies(self) -> bool:
        """Whether what it signed is still exactly what is stored."""
        signed = self.addendum if self.addendum_id else self.note
        return signed.content_hash() == self.content_hash


class NoteEvent(models.Model):
    """The note's audit trail: every act on it, and every refused attempt. Never edited."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        EDITED = "edited", "Edited"
        COMPLETED = "completed", "Marked completed"
        REOPENED = "reopened", "Reopened"
        SIGNED = "signed", "Signed"
        COSIGNED = "cosigned", "Co-signed"
        LOCKED = "locked", "Locked"
        AMENDMENT_STARTED = "amendment_started", "Amendment started"
        AMENDED = "amended", "Amended"
        ADDENDUM = "addendum", "Addendum added"
        CLAIM_CREATED = "claim_created", "Claim created"
        REFUSED = "refused", "Attempt refused"
        SIGNING_FAILED = "signing_failed", "Signing password wrong"
        TAMPER = "tamper", "Content does not match its signature"
        PRINTED = "printed", "Printed"

    practice_path = "note__practice"

    note = models.ForeignKey(ClinicalNote, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    message = models.TextField(blank=True, max_length=2000)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["actor", "kind", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.note_id}: {self.get_kind_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise SealedNoteError("The note's audit trail is never changed.")
        super().save(*args, **kwargs)
