"""The audit trail's rows: entries, append-only, and one chain head per practice.

An entry is written unchained (``sequence`` empty) inside whatever transaction caused it, and
chained right after that transaction commits (``audit.chain.seal``): the chain head's row lock is
held only for that short step, never for a caller's transaction. Practice-less events (a failed
sign-in for an address no account has) form one global chain, shown only to operators.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from billingpulse.models import Patient, Practice


class AppendOnlyError(Exception):
    """Raised by any attempt to change or delete an audit entry."""


class Action(models.TextChoices):
    VIEWED = "viewed", "Viewed"
    DOWNLOADED = "downloaded", "Downloaded"
    EXPORTED = "exported", "Exported"
    API_READ = "api_read", "Read through the API"
    CREATED = "created", "Created"
    CHANGED = "changed", "Changed"
    DELETED = "deleted", "Deleted"
    SIGNED_IN = "signed_in", "Signed in"
    SIGNED_OUT = "signed_out", "Signed out"
    SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
    LOCKED_OUT = "locked_out", "Locked out"
    PASSWORD_CHANGED = "password_changed", "Password changed"
    ROLE_CHANGED = "role_changed", "Role changed"
    TWO_FACTOR_CHANGED = "two_factor_changed", "Two-factor sign-in changed"
    CALL_STARTED = "call_started", "Call started"
    NOTE_SIGNED = "note_signed", "Note signed"
    KEY_ROTATED = "key_rotated", "Encryption key rotated"


# Every kind of record an entry can be about (audit.registry.RESOURCES says how to reach each one's
# practice and patient), and entries about something else: the audit log itself, the practice.
RESOURCE_TYPES = (
    "action_item",
    "addendum",
    "appointment",
    "audit_log",
    "call",
    "claim",
    "claim_import",
    "claim_line",
    "document",
    "document_share",
    "document_version",
    "expected_payment",
    "fee_schedule_entry",
    "insurance_policy",
    "note",
    "patient",
    "patient_account",
    "payment",
    "practice",
    "remittance",
    "remittance_claim",
    "scheduled_call",
    "transaction",
    "user",
)


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    """Entries are never changed or removed; only ``audit.chain`` fills in the chain fields (in SQL)."""

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("Audit entries cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit entries cannot be deleted.")

    _raw_delete = delete  # type: ignore[assignment]


# The chain fields; every other column is content the hash covers (audit.chain.canonical).
CHAIN_FIELDS = ("sequence", "previous_hash", "hash")


class AuditEntry(models.Model):
    # Plain ids without database constraints: an entry outlives the practice, user or patient it
    # names (deleting a patient must neither fail nor rewrite the entries that prove who did it).
    practice = models.ForeignKey(
        Practice, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    # Kept as written, so the entry reads the same after the user is renamed or removed.
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=24, choices=Action.choices)
    resource_type = models.CharField(
        max_length=40, blank=True, choices=[(name, name.replace("_", " ").capitalize()) for name in RESOURCE_TYPES]
    )
    resource_id = models.CharField(max_length=64, blank=True)
    resource_label = models.CharField(max_length=200, blank=True)
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    # {field: [before, after]} for changes; other details (a query string, a key id) for the rest.
    changes = models.JSONField(default=dict, blank=True)
    message = models.CharField(max_length=500, blank=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=128, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(db_index=True)
    # The chain: the entry's place in its practice's chain, the previous entry's hash, and the
    # SHA-256 of this entry's canonical form (which includes both).
    sequence = models.PositiveBigIntegerField(null=True, blank=True)
    previous_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "audit entries"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["practice", "sequence"], name="audit_one_entry_per_place"),
            models.UniqueConstraint(
                fields=["sequence"], condition=models.Q(practice__isnull=True), name="audit_one_global_entry_per_place"
            ),
        ]
        indexes = [
            models.Index(fields=["practice", "-created_at"], name="audit_practice_newest"),
            models.Index(fields=["practice", "patient", "-created_at"], name="audit_patient_newest"),
            # The entries still to chain: a small partial index the sealer reads in order.
            models.Index(fields=["practice", "id"], condition=models.Q(sequence__isnull=True), name="audit_unchained"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.resource_type} {self.resource_id}".strip()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("An audit entry cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("An audit entry cannot be deleted.")


class AuditChain(models.Model):
    """The newest link of one chain: a practice's, or (``practice`` empty) the global one.

    ``key`` is ``"practice-<id>"`` or ``"global"``, so exactly one head exists per chain. Its row
    is locked while entries are chained, and it lets verification notice entries removed from
    the end of a chain.
    """

    key = models.CharField(max_length=40, unique=True)
    practice = models.ForeignKey(
        Practice, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    last_sequence = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.key} at {self.last_sequence}"

    @staticmethod
    def key_for(practice_id: int | None) -> str:
        return f"practice-{practice_id}" if practice_id else "global"
