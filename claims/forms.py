"""Forms for working claims and managing payers. They validate; views assign the practice."""

from __future__ import annotations

import json
import re

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q

from billingpulse.codes import normalize as normalize_icd10
from billingpulse.forms import PhoneNormalizingMixin
from billingpulse.lib import strict_json, unique
from billingpulse.models import Provider
from claims.ivr import validate_ivr_config
from claims.models import ZERO, Claim, Payer, validate_icd10
from claims.status import REASON_REQUIRED, ClaimStatus, missing_reason_message
from claims.templatetags.claim_tags import us_phone
from claims.worklist import normalize_denial_code

MAX_DIAGNOSIS_CODES = 12  # CMS-1500 box 21 has pointers A to L
WEEKDAYS = [("0", "Mon"), ("1", "Tue"), ("2", "Wed"), ("3", "Thu"), ("4", "Fri"), ("5", "Sat"), ("6", "Sun")]

IVR_EXAMPLE = {
    "steps": [
        {"prompt": "For eligibility press 1, for claim status press 2", "options": {"1": "eligibility", "2": "claims"}},
        {"prompt": "Please say the reason for your call", "say": "Claim status"},
        {"prompt": "Please hold for the next representative", "wait_seconds": 30},
    ]
}
IVR_EXAMPLE_JSON = json.dumps(IVR_EXAMPLE, indent=2)


class DiagnosisCodesField(forms.CharField):
    """ICD-10 codes typed as ``E11.9, I10`` (or ``e119``), kept as a list in pointer order.

    The model's validator checks them against the code set, where one is loaded."""

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value) -> list[str]:
        text = super().to_python(value)
        codes: list[str] = []
        for part in re.split(r"[\s,;]+", text):
            code = normalize_icd10(part)
            if code and code not in codes:
                codes.append(code)
        return codes

    def validate(self, value: list[str]) -> None:
        super().validate(value)
        wrong = [code for code in value if not validate_icd10.regex.search(code)]
        if wrong:
            raise ValidationError(
                "%(codes)s %(verb)s not ICD-10. Write codes like E11.9 or Z00.00, separated by commas.",
                params={"codes": ", ".join(wrong), "verb": "is" if len(wrong) == 1 else "are"},
            )
        if len(value) > MAX_DIAGNOSIS_CODES:
            raise ValidationError(f"A claim holds at most {MAX_DIAGNOSIS_CODES} diagnosis codes.")

    def has_changed(self, initial, data) -> bool:
        try:
            return (initial or []) != self.to_python(data)
        except ValidationError:
            return True


class ClaimEditForm(forms.ModelForm):
    """A claim's details. A changed total charge is posted to the ledger as a correction
    (``services.save_claim_changes``), never written over the claim's amounts."""

    diagnosis_codes = DiagnosisCodesField(
        label="ICD-10 codes",
        required=False,
        help_text="In pointer order (A, B, C…), separated by commas, like E11.9, I10.",
    )
    charge_reason = forms.CharField(
        label="Why the charge changed",
        required=False,
        max_length=200,
        help_text="Only when you change the total charge; kept with the correction in the claim's ledger.",
    )

    class Meta:
        model = Claim
        fields = [
            "provider",
            "claim_type",
            "claim_form",
            "service_date_from",
            "service_date_to",
            "diagnosis_codes",
            "total_charge",
            "allowed_amount",
            "denial_code",
            "denial_reason",
            "next_follow_up_date",
            "call_reference_number",
            "next_steps",
        ]
        widgets = {
            "service_date_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "service_date_to": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "next_follow_up_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "denial_code": forms.TextInput(attrs={"placeholder": "CO-16"}),
            "next_steps": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {
            "service_date_from": "Date of service",
            "service_date_to": "Last date of service",
            "claim_form": "Claim form",
            "next_follow_up_date": "Next follow-up",
            "call_reference_number": "Call reference #",
        }
        help_texts = {"service_date_to": "Only for a claim that spans several days."}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Only this practice's providers (active ones, plus the one already on the claim): a
        # forged id from another practice is "not one of the available choices".
        self.fields["provider"].queryset = Provider.objects.filter(
            Q(is_active=True) | Q(pk=self.instance.provider_id), practice_id=self.instance.practice_id
        )
        self.fields["provider"].empty_label = "No rendering provider"
        for name in ("total_charge", "allowed_amount"):
            self.fields[name].widget.attrs.update({"step": "0.01", "min": "0", "inputmode": "decimal"})

    def clean_denial_code(self) -> str:
        return normalize_denial_code(self.cleaned_data["denial_code"])

    def clean_total_charge(self):
        return _not_negative(self.cleaned_data["total_charge"])

    def clean_allowed_amount(self):
        return _not_negative(self.cleaned_data["allowed_amount"])

    def clean(self) -> dict:
        cleaned = super().clean()
        check_service_dates(self, cleaned)
        return cleaned


def check_service_dates(form: forms.Form, cleaned: dict) -> None:
    """The claim's last date of service is not before its first (the edit and new-claim pages)."""
    start, end = cleaned.get("service_date_from"), cleaned.get("service_date_to")
    if start and end and end < start:
        form.add_error("service_date_to", "The last date of service cannot be before the first.")


def _not_negative(amount):
    if amount is not None and amount < ZERO:
        raise ValidationError("Amounts cannot be negative.")
    return amount


class ClaimStatusForm(forms.Form):
    """Choose a next status; the select offers only the moves the status machine allows.

    The field accepts any status so that a move the machine forbids reaches
    ``services.change_status`` and is refused there, with the machine's own explanation.
    """

    status = forms.ChoiceField(
        label="New status", choices=ClaimStatus.choices, error_messages={"required": "Choose the new status."}
    )
    reason = forms.CharField(
        label="Reason",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "What happened, and who said so"}),
        help_text="Required when denying, rejecting, writing off or closing a claim.",
    )

    def __init__(self, *args, claim: Claim, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].widget.choices = [("", "Choose…"), *((s.value, s.label) for s in claim.allowed_statuses)]

    def clean(self) -> dict:
        cleaned = super().clean()
        # services.change_status refuses these too; checking here puts the message on the field.
        if cleaned.get("status") in REASON_REQUIRED and not cleaned.get("reason", "").strip():
            self.add_error("reason", missing_reason_message(cleaned["status"]))
        return cleaned


class NoteForm(forms.Form):
    text = forms.CharField(
        label="Note",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Add a note for the team…"}),
        error_messages={"required": "Write the note first."},
    )


class WeekdaysField(forms.MultipleChoiceField):
    """Seven checkboxes, stored as the digits of the open days (Monday = 0): ``"01234"``."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs) -> None:
        super().__init__(choices=WEEKDAYS, **kwargs)

    def prepare_value(self, value):
        return list(value) if isinstance(value, str) else value

    def clean(self, value) -> str:
        return "".join(sorted(set(super().clean(value))))


class IvrConfigField(forms.CharField):
    """The payer's phone menu as pretty-printed JSON, checked against the IVR schema."""

    widget = forms.Textarea(attrs={"rows": 12, "class": "code-input", "spellcheck": "false"})

    def prepare_value(self, value):
        if isinstance(value, dict | list):
            return json.dumps(value, indent=2) if value else ""
        return value

    def to_python(self, value) -> dict:
        text = super().to_python(value).strip()
        if not text:
            return {}
        try:
            return strict_json.loads(text)
        except strict_json.StrictJSONError as error:
            raise ValidationError(str(error), code="invalid_json") from None

    def validate(self, value) -> None:
        super().validate(value)
        if not isinstance(value, dict):
            raise ValidationError('The menu should be a JSON object with a "steps" list, like the example.')
        validate_ivr_config(value)

    def has_changed(self, initial, data) -> bool:
        try:
            return (initial or {}) != self.to_python(data)
        except ValidationError:
            return True


class PayerForm(PhoneNormalizingMixin, forms.ModelForm):
    open_weekdays = WeekdaysField(
        label="Open days", error_messages={"required": "Pick at least one day the phone line is open."}
    )
    ivr_config = IvrConfigField(
        label="Menu steps (JSON)",
        required=False,
        help_text="The menu as steps: what it says (prompt), which key to press (options), or what to say. "
        "Leave empty and calls listen to the menu and choose the options themselves; steps make them more reliable.",
    )

    class Meta:
        model = Payer
        fields = [
            "name",
            "payer_id",
            "phone",
            "phone_extension",
            "time_zone",
            "opens_at",
            "closes_at",
            "open_weekdays",
            "timely_filing_days",
            "max_calls_per_window",
            "call_window_minutes",
            "ivr_config",
            "ivr_notes",
        ]
        widgets = {
            "opens_at": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "closes_at": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off", "placeholder": "(800) 555-0100"}),
            "ivr_notes": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {
            "opens_at": "Opens at",
            "closes_at": "Closes at",
            "max_calls_per_window": "Max calls",
            "ivr_notes": "Notes for callers",
        }
        help_texts = {
            "phone": "The provider services line for claim status, like (800) 555-0100.",
            "opens_at": "",
            "max_calls_per_window": "How many calls the agent may place in each window. Empty: the default limit.",
            "call_window_minutes": "The length of that window, in minutes.",
            "timely_filing_days": "Days after the date of service to file a claim; sets each claim's deadline.",
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.phone and not self.is_bound:
            self.initial["phone"] = us_phone(self.instance.phone)  # shown as (800) 555-0100, stored as E.164

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()

    def clean_payer_id(self) -> str:
        payer_id = self.cleaned_data["payer_id"].strip().upper()
        # The view sets instance.practice; the unique constraint spans it, so check here.
        others = Payer.objects.filter(practice_id=self.instance.practice_id, payer_id=payer_id)
        if others.exclude(pk=self.instance.pk).exists():
            raise ValidationError(unique.message(Payer, "payer_id_unique_per_practice"))
        return payer_id

    def clean(self) -> dict:
        cleaned = super().clean()
        opens, closes = cleaned.get("opens_at"), cleaned.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", "The line has to close after it opens.")
        calls, minutes = cleaned.get("max_calls_per_window"), cleaned.get("call_window_minutes")
        if (calls is None) != (minutes is None):
            missing = "call_window_minutes" if minutes is None else "max_calls_per_window"
            self.add_error(missing, "Set both the number of calls and the window length, or neither.")
        for name in ("max_calls_per_window", "call_window_minutes"):
            if cleaned.get(name) == 0:
                self.add_error(name, "Use a number above zero, or leave both empty for the default.")
        return cleaned
