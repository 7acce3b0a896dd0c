"""Knowledge-base entry forms. They validate one entry; the pages, the API's bulk upload and
the ingest command all use them (through ``ai.services``), so every door checks the same.
The API's serializers (one entry changed at a time) share their rules through the helpers
below."""

from __future__ import annotations

from django import forms

from ai.knowledge import normalize_code
from ai.models import DenialCode, PayerPolicy
from billingpulse.lib import unique


def code_in_use(practice, code: str, pk: int | None = None) -> bool:
    """Whether another of the practice's denial code entries (not ``pk``) has this code."""
    return bool(code) and DenialCode.objects.filter(practice=practice, code=code).exclude(pk=pk).exists()


# What every door says about a code already in the knowledge base (the database's constraint says it too).
CODE_IN_USE = unique.message(DenialCode, "denial_code_unique_per_practice")


def normalize_payer(payer: str) -> str:
    """A payer's name as stored: runs of spaces as one, so it matches the claims' payer names."""
    return " ".join(payer.split())


class DenialCodeForm(forms.ModelForm):
    # Wider than the model's 4 characters so "CO-16" reaches clean_code and loses its group.
    code = forms.CharField(
        label="Reason code (CARC)",
        max_length=12,
        help_text="Without the group: 16, not CO-16 (a group is removed for you).",
    )

    class Meta:
        model = DenialCode
        fields = ["code", "description", "remedy"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "remedy": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, practice=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Set on the pages, where adding an existing code is a mistake; bulk uploads update it instead.
        self.practice = practice
        self.fields["code"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false", "class": "mono"})

    def clean_code(self) -> str:
        code = normalize_code(self.cleaned_data["code"])
        if self.practice is not None and code_in_use(self.practice, code, self.instance.pk):
            raise forms.ValidationError(CODE_IN_USE)
        return code


class PayerPolicyForm(forms.ModelForm):
    class Meta:
        model = PayerPolicy
        fields = ["payer", "title", "text", "source", "effective_date"]
        widgets = {
            "text": forms.Textarea(attrs={"rows": 6}),
            "effective_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }
        labels = {"text": "Policy", "effective_date": "Effective from"}

    def __init__(self, *args, practice=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.practice = practice
        # ISO dates only: 01/02/2026 means January in one office and February in another.
        self.fields["effective_date"].input_formats = ["%Y-%m-%d"]
        self.fields["effective_date"].error_messages["invalid"] = "Write the date as YYYY-MM-DD."

    def clean_payer(self) -> str:
        return normalize_payer(self.cleaned_data["payer"])


class KnowledgeSearchForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=200)

    def query(self) -> str:
        return self.cleaned_data.get("q", "").strip() if self.is_valid() else ""


FORMS = {"denial_code": DenialCodeForm, "payer_policy": PayerPolicyForm}
