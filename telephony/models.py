"""Payer calls, the events the voice platform reports about them, and follow-up calls."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce
from django.utils import timezone

from ai.outcome import CALL_OUTCOMES
from billingpulse.encryption import EncryptedJSONField, EncryptedTextField
from billingpulse.models import PracticeOwned
from claims.models import Claim, Payer
from telephony.status import ACTIVE, CallStatus, FailureCategory

# Vapi sends the end-of-call report (transcript, summary) after its analysis, a little after the
# call ends; pages keep refreshing for it this long.
REPORT_WAIT = timedelta(minutes=10)


class CallQuerySet(models.QuerySet):
    def live(self) -> CallQuerySet:
        """Calls a page keeps refreshing for (``Call.is_live``, as a query)."""
        recently = timezone.now() - REPORT_WAIT
        return self.filter(
            models.Q(status__in=ACTIVE)
            | models.Q(status=CallStatus.ENDED, report_received_at__isnull=True, status_changed_at__gte=recently)
        )

    def newest_first(self) -> CallQuerySet:
        """Newest first by when each call was placed (a queued call: when it was queued), ties by id.

        A retry is created hours before it is placed, so creation order alone reads out of order.
        """
        return self.order_by(Coalesce("placed_at", "created_at").desc(), "-pk")


class Call(PracticeOwned):
    class Provider(models.TextChoices):
        VAPI = "vapi", "Vapi"
        SANDBOX = "sandbox", "Sandbox"

    class ReviewStatus(models.TextChoices):
        PENDING = "pending", "Waiting for review"
        APPROVED = "approved", "Approved"

    Status = CallStatus

    objects = CallQuerySet.as_manager()

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="calls")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="calls")
    provider = models.CharField(max_length=10, choices=Provider.choices)
    provider_call_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    status = models.CharField(max_length=12, choices=CallStatus.choices, default=CallStatus.QUEUED)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    attempt = models.PositiveSmallIntegerField(default=1)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    scheduled_call = models.ForeignKey(
        "ScheduledCall", on_delete=models.SET_NULL, null=True, blank=True, related_name="calls"
    )
    # Pacing: not placed before this time (rate limits, payer business hours).
    not_before = models.DateTimeField(null=True, blank=True)
    # When we sent the create request: the rate limiter counts these per payer.
    placed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    ended_reason = models.CharField(max_length=200, blank=True)
    failure_category = models.CharField(max_length=20, choices=FailureCategory.choices, blank=True, default="")
    last_error = models.TextField(blank=True)
    transcript = EncryptedTextField(blank=True)
    messages = EncryptedJSONField(default=list, blank=True)
    summary = EncryptedTextField(blank=True)
    recording_url = models.URLField(max_length=1000, blank=True)
    stereo_recording_url = models.URLField(max_length=1000, blank=True)
    cost = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    report_received_at = models.DateTimeField(null=True, blank=True)
    # Filled by the post-call pipeline: ``ai.outcome.CallOutcome.to_json()`` with its evidence.
    outcome = EncryptedJSONField(default=dict, blank=True)
    # The outcome's ``call_outcome`` code, kept beside it by ``save`` and the pipeline: the
    # encrypted outcome cannot be queried, and the payer report counts resolved calls.
    call_outcome = models.CharField(max_length=20, blank=True, default="", editable=False)
    review_status = models.CharField(max_length=10, choices=ReviewStatus.choices, blank=True, default="")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["practice", "status", "-created_at"]),
            models.Index(fields=["payer", "placed_at"]),
            models.Index(fields=["status", "not_before"]),
            models.Index(fields=["practice", "review_status"]),
        ]
        constraints = [
            # At most one call in flight per claim.
            models.UniqueConstraint(
                fields=["claim"],
                condition=models.Q(status__in=sorted(ACTIVE)),
                name="one_active_call_per_claim",
                violation_error_message="A call about this claim is already queued or in progress.",
            )
        ]

    def __str__(self) -> str:
        return f"Call {self.pk} about {self.claim_id}"

    def save(self, *args, **kwargs) -> None:
        self.call_outcome = outcome_code(self.outcome)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "outcome" in update_fields:
            kwargs["update_fields"] = {*update_fields, "call_outcome"}
        super().save(*args, **kwargs)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    @property
    def awaiting_report(self) -> bool:
        """Just ended, with its end-of-call report still to come."""
        return (
            self.status == CallStatus.ENDED
            and self.report_received_at is None
            and self.status_changed_at is not None
            and self.status_changed_at >= timezone.now() - REPORT_WAIT
        )

    @property
    def is_live(self) -> bool:
        """Under way, or just ended with the report still to come: pages showing it keep refreshing."""
        return self.is_active or self.awaiting_report


def outcome_code(outcome) -> str:
    """The ``call_outcome`` of an outcome as stored in ``Call.outcome``; "" when it has none."""
    code = outcome.get("call_outcome") if isinstance(outcome, dict) else None
    return code if code in CALL_OUTCOMES else ""


class CallEvent(models.Model):
    """A message about a call from the voice platform, stored once (``dedupe_key``)."""

    practice_path = "call__practice"

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=40)
    dedupe_key = models.CharField(max_length=200, unique=True)
    payload = EncryptedJSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["received_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} for call {self.call_id}"


class ScheduledCall(PracticeOwned):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DISPATCHED = "dispatched", "Dispatched"
        CANCELED = "canceled", "Canceled"

    class Source(models.TextChoices):
        PERSON = "person", "A person"
        PIPELINE = "pipeline", "Call outcome"

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="scheduled_calls")
    call_after = models.DateTimeField()
    reason = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.PERSON)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["call_after"]
        indexes = [models.Index(fields=["status", "call_after"])]

    def __str__(self) -> str:
        return f"Call about {self.claim_id} after {self.call_after:%Y-%m-%d %H:%M}"
