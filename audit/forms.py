"""The audit log's filters: one form for the page, its CSV export and ``GET /api/v1/audit``."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.db.models import QuerySet

from audit.models import Action, AuditEntry
from billingpulse.models import Patient, Practice, User
from billingpulse.validators import validate_date_in_range

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATE_FORMATS = ["%Y-%m-%d", "%m/%d/%Y"]
FILTER_PARAMS = ("user", "action", "resource_type", "patient", "date_from", "date_to")


class AuditFilterForm(forms.Form):
    user = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label="Everyone")
    action = forms.ChoiceField(required=False, choices=[("", "All actions"), *Action.choices])
    resource_type = forms.ChoiceField(
        label="Record type", required=False, choices=[("", "All records"), *AuditEntry.resource_type.field.choices]
    )
    # A patient id: the patient's pages and each entry link here with it set.
    patient = forms.ModelChoiceField(
        label="Patient ID",
        queryset=Patient.objects.none(),
        required=False,
        widget=forms.NumberInput(attrs={"min": 1, "inputmode": "numeric"}),
        error_messages={"invalid_choice": "No patient of this practice has this ID."},
    )
    date_from = forms.DateField(
        label="From", required=False, widget=DATE_INPUT, input_formats=DATE_FORMATS, validators=[validate_date_in_range]
    )
    date_to = forms.DateField(
        label="To", required=False, widget=DATE_INPUT, input_formats=DATE_FORMATS, validators=[validate_date_in_range]
    )

    def __init__(self, *args, practice: Practice, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.practice = practice
        # Former members stay in the list: their entries are still there.
        self.fields["user"].queryset = User.objects.filter(practice=practice).order_by("full_name", "email")
        self.fields["user"].label_from_instance = lambda user: user.full_name or user.email
        self.fields["patient"].queryset = Patient.objects.filter(practice=practice)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned

    def filter(self, entries: QuerySet[AuditEntry]) -> QuerySet[AuditEntry]:
        """The entries matching the valid filters (call ``is_valid`` first to report errors)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        if data.get("user"):
            entries = entries.filter(actor=data["user"])
        if data.get("action"):
            entries = entries.filter(action=data["action"])
        if data.get("resource_type"):
            entries = entries.filter(resource_type=data["resource_type"])
        if data.get("patient"):
            entries = entries.filter(patient_id=data["patient"].pk)
        if data.get("date_from"):
            entries = entries.filter(created_at__gte=self._start_of(data["date_from"]))
        if data.get("date_to") and "date_to" not in self.errors:
            entries = entries.filter(created_at__lt=self._start_of(data["date_to"] + timedelta(days=1)))
        return entries

    def _start_of(self, day: date) -> datetime:
        """Dates are the practice's calendar days."""
        return datetime.combine(day, time.min, tzinfo=ZoneInfo(self.practice.time_zone))

    @property
    def is_filtered(self) -> bool:
        return any(self.data.get(name) for name in FILTER_PARAMS)
