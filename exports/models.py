"""Exports prepared in the background: what was asked for, how far it got, and its file."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from billingpulse.models import PracticeOwned


class Export(PracticeOwned):
    """A large export, written by a Celery task to private storage and downloaded by the
    practice's admins until ``expires_at``; the beat sweep then deletes its file."""

    class Kind(models.TextChoices):
        CLAIMS = "claims", "Claims"
        CALLS = "calls", "Calls"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel (XLSX)"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Writing"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    format = models.CharField(max_length=4, choices=Format.choices)
    # The page's query string as a dict (the worklist's or the calls list's filters).
    filters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    # The file's name in the "exports" storage ("" until written, and again once expired).
    file_name = models.CharField(max_length=200, blank=True)
    download_name = models.CharField(max_length=100, blank=True)
    failure_message = models.CharField(max_length=300, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} export {self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED, self.Status.EXPIRED)

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(99, self.rows_done * 100 // self.rows_total)
