"""Forms of the calls pages: the calls list filters and a follow-up call on a claim."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from claims.models import Payer
from telephony.models import Call
from telephony.status import ACTIVE, CallStatus

# Query-string parameters the calls list understands; page links keep these.
FILTER_PARAMS = ("status", "payer", "active")


class CallFilters(forms.Form):
    # "filter-auto": the filter form refreshes the table when one of these changes.
    status = forms.ChoiceField(
        required=False,
        choices=[("", "All statuses"), *CallStatus.choices],
        widget=forms.Select(attrs={"class": "filter-auto"}),
    )
    payer = forms.ModelChoiceField(
        queryset=Payer.objects.none(),
        required=False,
        empty_label="All payers",
        widget=forms.Select(attrs={"class": "filter-auto"}),
    )
    active = forms.BooleanField(
        label="Active calls only", required=False, widget=forms.CheckboxInput(attrs={"class": "filter-auto"})
    )

    def __init__(self, *args, payers: QuerySet[Payer], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Another practice's payer id is simply "not a choice".
        self.fields["payer"].queryset = payers.only("name")
        self.fields["payer"].label_from_instance = lambda payer: payer.name

    def apply(self, calls: QuerySet[Call]) -> QuerySet[Call]:
        """The calls matching the valid filters; an invalid value filters nothing."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        if data.get("status"):
            calls = calls.filter(status=data["status"])
        if data.get("payer"):
            calls = calls.filter(payer=data["payer"])
        if data.get("active"):
            calls = calls.filter(status__in=ACTIVE)
        return calls

    @property
    def is_filtered(self) -> bool:
        return any(self.data.get(name) for name in FILTER_PARAMS)


class FollowUpForm(forms.Form):
    """A follow-up call about a claim, at a date and time in the practice's time zone."""

    call_date = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    call_time = forms.TimeField(label="Time", initial=time(9), widget=forms.TimeInput(attrs={"type": "time"}))
    reason = forms.CharField(
        # Not "Reason": the claim page's status form has that label already.
        label="Purpose",
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"placeholder": "Check the reprocessing"}),
    )

    def __init__(self, *args, time_zone: str, **kwargs) -> None:
        # Its own ids: the claim page around it has a status form with a "reason" field too.
        kwargs.setdefault("auto_id", "followup_%s")
        super().__init__(*args, **kwargs)
        self.zone = ZoneInfo(time_zone)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("call_date") and data.get("call_time"):
            call_after = datetime.combine(data["call_date"], data["call_time"], tzinfo=self.zone)
            if call_after <= timezone.now():
                self.add_error("call_date", "Pick a time in the future.")
            data["call_after"] = call_after
        return data
