"""The needs-action inbox: claims (and ERA claim payments) handed to a person.

An ``ActionItem`` says why a person must act (``reason``), who (``assignee``, empty for
anyone on the team) and by when (``due_date``). Items are opened by the events that hand
work to a person and by the daily ``refresh`` (``inbox.services``); they close when a
person marks them done or when their condition no longer holds (``resolution`` says which).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from billingpulse.encryption import EncryptedTextField
from billingpulse.models import PracticeOwned


class ActionItem(PracticeOwned):
    class Reason(models.TextChoices):
        DENIED = "denied", "Denied"
        NOT_ON_FILE = "not_on_file", "Not on file"
        PENDING_INFO = "pending_info", "Information requested"
        ACTION_REQUIRED = "action_required", "Payer needs action"
        CALL_FAILED = "call_failed", "Calls failed"
        PAYMENT_OVERDUE = "payment_overdue", "Payment overdue"
        UNMATCHED_ERA = "unmatched_era", "Unmatched ERA payment"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"

    class Resolution(models.TextChoices):
        PERSON = "person", "Done by a person"
        AUTO = "auto", "Resolved automatically"

    claim = models.ForeignKey(
        "claims.Claim", on_delete=models.CASCADE, null=True, blank=True, related_name="action_items"
    )
    # An ERA claim payment (CLP) that matched no claim: the item is about the payment, not a claim.
    remittance_claim = models.ForeignKey(
        "billing.RemittanceClaim",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="action_items",
        verbose_name="ERA claim payment",
    )
    reason = models.CharField(max_length=20, choices=Reason.choices)
    # Why, in words: may quote a denial reason or what the payer asked for, so it is encrypted.
    detail = EncryptedTextField(max_length=1000, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="action_items"
    )
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    # Hidden from the inbox until this day (in the practice's time zone) begins.
    snoozed_until = models.DateField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolution = models.CharField(max_length=10, choices=Resolution.choices, blank=True)

    class Meta:
        ordering = ["due_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["claim", "reason"],
                condition=Q(status="open", remittance_claim__isnull=True),
                name="action_item_open_once_per_claim_reason",
                violation_error_message="This claim already has an open item for this reason.",
            ),
            models.UniqueConstraint(
                fields=["remittance_claim"],
                condition=Q(status="open"),
                name="action_item_open_once_per_era_payment",
                violation_error_message="This ERA claim payment already has an open item.",
            ),
            models.CheckConstraint(
                condition=Q(claim__isnull=False) | Q(remittance_claim__isnull=False),
                name="action_item_has_subject",
                violation_error_message="An item is about a claim or an ERA claim payment.",
            ),
        ]
        indexes = [
            # The navigation badge and the inbox list: open items of a practice, by assignee.
            models.Index(
                fields=["practice", "assignee", "snoozed_until"],
                condition=Q(status="open"),
                name="action_item_open_by_assignee",
            ),
            models.Index(fields=["practice", "status", "reason"], name="action_item_practice_reason"),
        ]

    def __str__(self) -> str:
        subject = self.claim or self.remittance_claim
        return f"{self.get_reason_display()}: {subject}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN
