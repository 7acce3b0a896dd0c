"""Documents: the files a practice keeps for a patient, in versions, encrypted, reviewed, found.

A document belongs to a patient and may be attached to an encounter, a claim, a payer call, a
clinical note or a remittance. Its bytes live in the documents storage (``documents.storage``)
under opaque keys that nothing editable is derived from, encrypted by the application before
they reach any backend. Uploading a new version keeps every earlier one; every act on a
document names the exact version it acted on. The text read from a file is kept encrypted, and
its words only as keyed hashes (``documents.blind_index``): the database holds no readable
text of any file.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from billingpulse.models import Patient, PracticeOwned
from billingpulse.validators import validate_date_in_range
from documents.status import DocumentStatus


class DocumentType(models.TextChoices):
    LAB_RESULT = "lab_result", "Lab result"
    IMAGING = "imaging", "Imaging"
    INSURANCE_CARD = "insurance_card", "Insurance card"
    EOB = "eob", "EOB"
    DENIAL_LETTER = "denial_letter", "Denial letter"
    APPEAL = "appeal", "Appeal"
    MEDICAL_RECORDS = "medical_records", "Medical records"
    CONSENT_FORM = "consent_form", "Consent form"
    REFERRAL = "referral", "Referral"
    CORRESPONDENCE = "correspondence", "Correspondence"
    OTHER = "other", "Other"


class Extraction(models.TextChoices):
    """Where reading a version's text stands (the values of ``documents.extract.ExtractionStatus``)."""

    PENDING = "pending", "Reading text"
    DONE = "done", "Text read"
    NO_TEXT = "no_text", "No text found"
    FAILED = "failed", "Text could not be read"
    UNAVAILABLE = "unavailable", "Text recognition unavailable"


class AuditedOnlyError(Exception):
    """An attempt to change or delete a document's history."""


class DocumentQuerySet(models.QuerySet["Document"]):
    def visible_to(self, user: Any) -> DocumentQuerySet:
        """Confidential documents only for the practice's admins and the users named on them."""
        if getattr(user, "is_practice_admin", False):
            return self
        return self.filter(models.Q(confidential=False) | models.Q(allowed_users=user)).distinct()


class Document(PracticeOwned):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="documents")
    appointment = models.ForeignKey(
        "clinical.Appointment", on_delete=models.SET_NULL, null=True, blank=True, related_name="documents"
    )
    claim = models.ForeignKey(
        "claims.Claim", on_delete=models.SET_NULL, null=True, blank=True, related_name="documents"
    )
    call = models.ForeignKey(
        "telephony.Call", on_delete=models.SET_NULL, null=True, blank=True, related_name="documents"
    )
    note = models.ForeignKey(
        "clinical.ClinicalNote",
        verbose_name="clinical note",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="documents",
    )
    remittance = models.ForeignKey(
        "billing.Remittance", on_delete=models.SET_NULL, null=True, blank=True, related_name="documents"
    )
    document_type = models.CharField("type", max_length=20, choices=DocumentType.choices)
    status = models.CharField(max_length=20, choices=DocumentStatus.choices, default=DocumentStatus.PENDING_REVIEW)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=2000)
    document_date = models.DateField("date on the document", null=True, blank=True, validators=[validate_date_in_range])
    confidential = models.BooleanField(
        default=False, help_text="Only the practice's admins and the users named here may see it."
    )
    allowed_users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    current_version = models.OneToOneField(
        "DocumentVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    objects = DocumentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["practice", "status", "-created_at"]),
            models.Index(fields=["practice", "document_type"]),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def size_mb(self) -> float:
        """The current version's size in MB (0 before the first version is stored)."""
        return round(self.current_version.size / 1_000_000, 2) if self.current_version else 0.0

    @property
    def is_reviewed(self) -> bool:
        return self.status in (DocumentStatus.REVIEWED, DocumentStatus.APPROVED)

    @property
    def is_approved(self) -> bool:
        return self.status == DocumentStatus.APPROVED

    @property
    def encrypted(self) -> bool:
        return bool(self.current_version and self.current_version.encrypted)

    @property
    def extraction_status(self) -> str:
        return self.current_version.extraction_status if self.current_version else Extraction.PENDING


class DocumentVersion(models.Model):
    """One file of a document. Never changed once stored, except by reading its text."""

    practice_path = "document__practice"

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    parent = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="child", editable=False
    )
    original_name = models.CharField(max_length=255)
    size = models.BigIntegerField()
    mime_type = models.CharField("type", max_length=100)
    sha256 = models.CharField("SHA-256", max_length=64)
    storage_backend = models.CharField(max_length=10)
    storage_key = models.CharField(max_length=100, unique=True)
    key_id = models.CharField("encryption key", max_length=16)
    encrypted = models.BooleanField(default=True)
    comment = models.CharField("what changed", max_length=300, blank=True)
    extraction_status = models.CharField(max_length=20, choices=Extraction.choices, default=Extraction.PENDING)
    extraction_reason = models.CharField(max_length=300, blank=True)
    # The text read from the file, encrypted like the file (documents.crypto.encrypt_bytes).
    extracted_text = models.BinaryField(null=True, blank=True, editable=False)
    pages = models.PositiveIntegerField(null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["document", "-number"]
        constraints = [models.UniqueConstraint(fields=["document", "number"], name="document_version_number_unique")]

    def __str__(self) -> str:
        return f"{self.document} (version {self.number})"

    @property
    def is_current(self) -> bool:
        return self.document.current_version_id == self.pk

    @property
    def size_mb(self) -> float:
        return round(self.size / 1_000_000, 2)


def hash_share_token(token: str) -> str:
    """The stored form of a share link's token: only its hash is kept, so the table holds no usable link."""
    return hashlib.sha256(token.encode()).hexdigest()


class DocumentShareQuerySet(models.QuerySet["DocumentShare"]):
    def live(self, now: datetime | None = None) -> DocumentShareQuerySet:
        """Neither withdrawn nor expired, on a document that is not archived."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=now or timezone.now()).exclude(
            document__status=DocumentStatus.ARCHIVED
        )

    def for_token(self, token: str) -> DocumentShare | None:
        """The live link with this token, or None (unknown, withdrawn and expired look the same)."""
        if not token or len(token) > 100:
            return None
        return self.live().filter(token_hash=hash_share_token(token)).select_related("version", "document").first()


class DocumentShare(models.Model):
    """A link that lets someone outside the practice download exactly one version of a document
    until it expires or is withdrawn. Only the token's hash is stored: the link is shown once."""

    practice_path = "document__practice"

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="shares")
    version = models.ForeignKey(DocumentVersion, on_delete=models.PROTECT, related_name="shares")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    recipient = models.CharField("shared with", max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField("withdrawn at", null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = DocumentShareQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.version} shared with {self.recipient or 'someone'}"

    def issue_token(self) -> str:
        token = secrets.token_urlsafe(32)
        self.token_hash = hash_share_token(token)
        return token

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class DocumentWord(models.Model):
    """A keyed hash of one word of a version's text (``documents.blind_index``): never the word."""

    practice_path = "version__document__practice"

    version = models.ForeignKey(DocumentVersion, on_delete=models.CASCADE, related_name="words")
    token = models.CharField(max_length=32)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["token", "version"], name="document_word_unique")]

    def __str__(self) -> str:
        return self.token


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AuditedOnlyError("A document's history is never changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditedOnlyError("A document's history is never deleted.")


class DocumentEvent(models.Model):
    """The document's history: every act on it, every view and download, every refusal."""

    class Kind(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded"
        VERSION_ADDED = "version_added", "New version uploaded"
        EDITED = "edited", "Details changed"
        STATUS = "status", "Status changed"
        COMMENT = "comment", "Comment"
        VIEWED = "viewed", "Viewed"
        PREVIEWED = "previewed", "Previewed"
        DOWNLOADED = "downloaded", "Downloaded"
        ATTACHED = "attached", "Attached"
        TEXT_READ = "text_read", "Text read"
        SHARED = "shared", "Share link made"
        SHARE_DOWNLOADED = "share_downloaded", "Downloaded through a share link"
        SHARE_WITHDRAWN = "share_withdrawn", "Share link withdrawn"
        EMAILED = "emailed", "Emailed"
        REFUSED = "refused", "Attempt refused"

    practice_path = "document__practice"

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="events")
    version = models.ForeignKey(DocumentVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    message = models.TextField(blank=True, max_length=2000)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.document_id}: {self.get_kind_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditedOnlyError("A document's history is never changed.")
        super().save(*args, **kwargs)
