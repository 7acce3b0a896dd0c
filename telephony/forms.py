"""Forms of the calls pages: the calls list filters, a follow-up call on a claim, an outcome review."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, time
from zoneinfo import ZoneInfo

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from ai.outcome import CLAIM_STATUSES, VALUE_FIELDS, CallOutcome
from billingpulse.validators import validate_date_in_range
from claims.models import Payer, validate_denial_code
from claims.status import ClaimStatus
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

    call_date = forms.DateField(
        label="Date", validators=[validate_date_in_range], widget=forms.DateInput(attrs={"type": "date"})
    )
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


class CadenceForm(forms.Form):
    """Days until the next payer call when the payer named no date, per claim status."""

    def __init__(self, *args, practice, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        from telephony.pipeline import DEFAULT_CADENCE, cadence

        for status, default in DEFAULT_CADENCE.items():
            self.fields[status] = forms.IntegerField(
                label=ClaimStatus(status).label,
                min_value=1,
                max_value=365,
                initial=cadence(practice.follow_up_cadence, status),
                help_text=f"Days. Default {default}",
                widget=forms.NumberInput(attrs={"class": "input-narrow"}),
            )


class OutcomeReviewForm(forms.Form):
    """A biller's check of an extracted outcome: every field may be corrected before approval."""

    claim_status = forms.ChoiceField(
        choices=[(value, value.replace("_", " ").capitalize()) for value in CLAIM_STATUSES]
    )
    call_outcome = forms.ChoiceField(
        label="Result",
        choices=[
            ("resolved", "Resolved: nothing more to do"),
            ("follow_up", "Follow-up call needed"),
            ("action_required", "Action required from the practice"),
            ("failed", "No information obtained"),
        ],
    )
    reference_number = forms.CharField(label="Call reference #", required=False, max_length=40)
    rep_name = forms.CharField(label="Representative", required=False, max_length=80)
    denial_code = forms.CharField(required=False, max_length=10, validators=[validate_denial_code])
    remark_codes = forms.CharField(
        label="Remark codes (RARC)", required=False, help_text="Separate codes with commas, like N130, MA130."
    )
    paid_amount = forms.DecimalField(
        label="Paid amount (as the payer said)",
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        help_text="Recorded on the claim as an expected payment, not posted: it is matched when the payment posts.",
    )
    check_or_eft_number = forms.CharField(label="Check / EFT #", required=False, max_length=40)
    payment_date = forms.DateField(
        required=False, validators=[validate_date_in_range], widget=forms.DateInput(attrs={"type": "date"})
    )
    follow_up_days = forms.IntegerField(
        label="Call back in (days)", required=False, min_value=1, max_value=365, help_text="Empty: no call needed."
    )
    human_reached = forms.BooleanField(label="Reached a person", required=False)
    next_steps = forms.CharField(required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))

    FIELDS = (*VALUE_FIELDS, "next_steps")

    @classmethod
    def initial_from(cls, outcome: CallOutcome) -> dict:
        initial = {name: getattr(outcome, name) for name in cls.FIELDS}
        initial["remark_codes"] = ", ".join(outcome.remark_codes)
        return initial

    def clean_reference_number(self) -> str:
        return _alnum(self.cleaned_data["reference_number"])

    def clean_check_or_eft_number(self) -> str:
        return _alnum(self.cleaned_data["check_or_eft_number"])

    def clean_denial_code(self) -> str:
        return self.cleaned_data["denial_code"].strip().upper()

    def clean_remark_codes(self) -> list[str]:
        codes = [code.strip().upper() for code in self.cleaned_data["remark_codes"].split(",") if code.strip()]
        bad = [code for code in codes if not re.fullmatch(r"[A-Z]{1,2}\d{1,3}", code)]
        if bad:
            raise forms.ValidationError(f"{', '.join(bad)} is not a remark code; they look like N130 or MA130.")
        return codes

    def clean(self) -> dict:
        data = super().clean()
        if data.get("call_outcome") == "follow_up" and not data.get("follow_up_days"):
            self.add_error("follow_up_days", "Say when to call back, or choose another result.")
        return data

    def reviewed(self, outcome: CallOutcome) -> tuple[CallOutcome, dict[str, list]]:
        """The outcome with the biller's values, and what they changed ({field: [before, after]}).

        A corrected value no longer rests on the transcript: its evidence is dropped.
        """
        reviewed = replace(outcome, evidence=dict(outcome.evidence))
        changes = {}
        for name in self.FIELDS:
            value = self.cleaned_data.get(name)
            if value in ("", None) and name not in ("human_reached", "remark_codes"):
                value = "" if name == "next_steps" else None
            before = getattr(outcome, name)
            if value != before:
                changes[name] = [_plain(before), _plain(value)]
                setattr(reviewed, name, value)
                reviewed.evidence.pop(name, None)
        return reviewed, changes


def _alnum(value: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", value.upper())


def _plain(value):
    return value if isinstance(value, (str, int, bool, list, type(None))) else str(value)
