"""Forms of the billing pages: patient search, ledger filters and one form per posting.

Every posting form carries a hidden ``key``: a uuid4 made when the form is first shown and
sent back with it, which the view passes to the service as the idempotency key, so a
double submit (or a retried request) posts once. The forms check what they can see (an
amount more than zero, allocations within the payment); the services check the books.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from django import forms
from django.db import models

from billing.models import WRITE_OFF_REASONS, AdjustmentReason, JournalTransaction, Payment, Responsibility
from claims.models import Claim

ZERO = Decimal("0.00")
MONEY_FIELD = {"max_digits": 12, "decimal_places": 2}
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATE_FORMATS = ["%Y-%m-%d", "%m/%d/%Y"]


class MoneyField(forms.DecimalField):
    """A dollar amount: two decimal places at most, and more than zero unless ``allow_zero``."""

    def __init__(self, *, allow_zero: bool = False, **kwargs) -> None:
        kwargs.setdefault("min_value", ZERO if allow_zero else Decimal("0.01"))
        kwargs.setdefault("max_value", Decimal("9999999999.99"))
        kwargs.setdefault(
            "widget", forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal", "class": "money"})
        )
        super().__init__(**MONEY_FIELD, **kwargs)
        self.error_messages["min_value"] = (
            "Enter an amount of zero or more." if allow_zero else "Enter an amount more than zero."
        )
        self.error_messages["max_decimal_places"] = "Use dollars and cents: at most two decimal places."
        self.error_messages["max_digits"] = "That amount is too large."
        self.error_messages["max_whole_digits"] = "That amount is too large."


def parse_date(text: str) -> date | None:
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


class PatientSearchForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Name, account # or DOB (MM/DD/YYYY)", "autocomplete": "off"}
        ),
    )
    owing = forms.BooleanField(label="Only patients with a balance", required=False)

    def search(self, patients: models.QuerySet) -> models.QuerySet:
        """Narrow ``patients``: each word matches a name or account number; a date matches the birth date."""
        if not self.is_valid():
            return patients
        for word in self.cleaned_data["q"].split():
            born = parse_date(word)
            if born is not None:
                patients = patients.filter(date_of_birth=born)
            else:
                patients = patients.filter(
                    models.Q(first_name__icontains=word)
                    | models.Q(last_name__icontains=word)
                    | models.Q(account_number__icontains=word)
                )
        if self.cleaned_data["owing"]:
            patients = patients.filter(account__balance__gt=0)
        return patients


class LedgerFilterForm(forms.Form):
    date_from = forms.DateField(label="From", required=False, widget=DATE_INPUT, input_formats=DATE_FORMATS)
    date_to = forms.DateField(label="To", required=False, widget=DATE_INPUT, input_formats=DATE_FORMATS)
    kind = forms.ChoiceField(
        label="Type", required=False, choices=[("", "All types"), *JournalTransaction.Kind.choices]
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned

    def filter(self, transactions: models.QuerySet) -> models.QuerySet:
        """The filtered rows; a filter with invalid input is left out rather than failing the page."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        if data.get("date_from"):
            transactions = transactions.filter(effective_date__gte=data["date_from"])
        if data.get("date_to") and "date_to" not in self.errors:
            transactions = transactions.filter(effective_date__lte=data["date_to"])
        if data.get("kind"):
            transactions = transactions.filter(kind=data["kind"])
        return transactions

    @property
    def is_filtered(self) -> bool:
        return any(self.data.get(name) for name in self.fields)


class PostingForm(forms.Form):
    """Base of every posting form: the idempotency token, made fresh for each new form."""

    # Not required here: a missing or mangled token is said above the form (a hidden field's
    # own error would show nowhere).
    key = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("key", uuid.uuid4().hex)

    def clean(self):
        cleaned = super().clean()
        try:
            cleaned["key"] = uuid.UUID(cleaned.get("key") or "").hex
        except ValueError:
            raise forms.ValidationError("This form is out of date; reload the page and try again.") from None
        return cleaned


def _claim_choice(claim: Claim) -> str:
    return f"{claim.claim_number} · DOS {claim.service_date_from:%m/%d/%Y} · ${claim.balance:,} owed"


class ClaimChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Claim) -> str:
        return _claim_choice(obj)


def owed_by(claim: Claim, source: str | None) -> Decimal:
    """What a payment from ``source`` can pay on the claim: the patient's share, or the rest."""
    if source == Payment.Source.PATIENT:
        return max(claim.patient_responsibility, ZERO)
    return max(claim.balance - claim.patient_responsibility, ZERO)


class PaymentForm(PostingForm):
    """A payment from the patient or a payer, with an amount to apply to each open claim.

    The view passes the patient's open claims; the form adds an ``alloc_<id>`` field for each.
    """

    source = forms.ChoiceField(choices=Payment.Source.choices, initial=Payment.Source.PATIENT)
    method = forms.ChoiceField(choices=Payment.Method.choices, initial=Payment.Method.CARD)
    amount = MoneyField()
    reference = forms.CharField(label="Check / EFT / trace number", required=False, max_length=60)
    payment_date = forms.DateField(widget=DATE_INPUT, input_formats=DATE_FORMATS)
    deposit_date = forms.DateField(required=False, widget=DATE_INPUT, input_formats=DATE_FORMATS)
    copay = MoneyField(allow_zero=True, required=False, label="Copay applied")
    deductible = MoneyField(allow_zero=True, required=False, label="Deductible applied")
    coinsurance = MoneyField(allow_zero=True, required=False, label="Coinsurance applied")
    memo = forms.CharField(required=False, max_length=300)
    pending = forms.BooleanField(
        required=False,
        label="Not settled yet",
        help_text="A card or ACH payment still pending: it is posted when you mark it settled.",
    )

    def __init__(self, *args, claims: list[Claim], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.claims = claims
        for claim in claims:
            self.fields[f"alloc_{claim.pk}"] = MoneyField(
                allow_zero=True, required=False, label=f"Apply to claim {claim.claim_number}"
            )

    @property
    def allocation_rows(self) -> list[dict]:
        return [
            {
                "claim": claim,
                "field": self[f"alloc_{claim.pk}"],
                "insurance_owes": owed_by(claim, Payment.Source.PRIMARY),
                "patient_owes": owed_by(claim, Payment.Source.PATIENT),
            }
            for claim in self.claims
        ]

    def clean(self):
        cleaned = super().clean()
        for name in ("copay", "deductible", "coinsurance"):
            if cleaned.get(name) is None and name not in self.errors:
                cleaned[name] = ZERO
        allocations = [
            (claim, cleaned[f"alloc_{claim.pk}"]) for claim in self.claims if cleaned.get(f"alloc_{claim.pk}")
        ]
        cleaned["allocations"] = allocations
        source = cleaned.get("source")
        for claim, value in allocations:
            owed = owed_by(claim, source)
            if value > owed:
                who = "The patient owes" if source == Payment.Source.PATIENT else "Insurance owes"
                self.add_error(f"alloc_{claim.pk}", f"{who} ${owed:,} on claim {claim.claim_number}.")
        amount = cleaned.get("amount")
        allocated = sum((value for _, value in allocations), ZERO)
        if amount is not None and allocated > amount:
            raise forms.ValidationError(
                f"${allocated:,} is applied to claims, more than the ${amount:,} payment. "
                "Lower the amounts applied or raise the payment."
            )
        if amount is not None and source and source != Payment.Source.PATIENT and allocated != amount:
            raise forms.ValidationError(
                f"Apply all of an insurance payment to claims: ${amount - allocated:,} is not applied yet."
            )
        return cleaned


class ClaimPostingForm(PostingForm):
    """A posting to one of the patient's claims; the view passes the claims to choose from."""

    claim = ClaimChoiceField(queryset=Claim.objects.none(), empty_label="Choose a claim")

    def __init__(self, *args, claims: models.QuerySet[Claim], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["claim"].queryset = claims


class AdjustmentForm(ClaimPostingForm):
    reason = forms.ChoiceField(
        choices=[("", "Choose a reason"), *AdjustmentReason.choices],
        help_text="Bad debt, small balance and timely filing are posted as write-offs.",
    )
    amount = MoneyField(help_text="How much lower the balance gets.")
    responsibility = forms.ChoiceField(
        label="Taken off what is owed by", choices=Responsibility.choices, initial=Responsibility.PRIMARY
    )
    memo = forms.CharField(required=False, max_length=300)


class WriteOffForm(ClaimPostingForm):
    reason = forms.ChoiceField(
        choices=[("", "Choose a reason"), *((r.value, r.label) for r in WRITE_OFF_REASONS)],
    )
    amount = MoneyField()
    responsibility = forms.ChoiceField(
        label="Written off from", choices=Responsibility.choices, initial=Responsibility.PATIENT
    )
    memo = forms.CharField(required=False, max_length=300)


class TransferForm(ClaimPostingForm):
    from_responsibility = forms.ChoiceField(
        label="Move from", choices=Responsibility.choices, initial=Responsibility.PRIMARY
    )
    to_responsibility = forms.ChoiceField(
        label="Move to", choices=Responsibility.choices, initial=Responsibility.PATIENT
    )
    amount = MoneyField()
    memo = forms.CharField(required=False, max_length=300)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("from_responsibility") and cleaned.get("from_responsibility") == cleaned.get(
            "to_responsibility"
        ):
            self.add_error("to_responsibility", "Choose who the balance moves to: not the same as where it is.")
        return cleaned


class ApplyCreditForm(ClaimPostingForm):
    amount = MoneyField()

    def __init__(self, *args, credit: Decimal, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.credit = credit
        self.fields["amount"].help_text = f"The patient has ${credit:,} of credit."

    def clean(self):
        cleaned = super().clean()
        amount, claim = cleaned.get("amount"), cleaned.get("claim")
        if amount is not None and amount > self.credit:
            self.add_error("amount", f"The patient has only ${self.credit:,} of credit.")
        elif amount is not None and claim is not None and amount > claim.patient_responsibility:
            self.add_error(
                "amount", f"The patient owes ${claim.patient_responsibility:,} on claim {claim.claim_number}."
            )
        return cleaned


class RefundForm(PostingForm):
    amount = MoneyField()
    claim = ClaimChoiceField(
        queryset=Claim.objects.none(),
        required=False,
        empty_label="From the patient's credit",
        label="Take it from",
        help_text="A payer's refund is taken back from the claim it paid.",
    )
    reason = forms.CharField(max_length=300, help_text="Shown on the ledger.")

    def __init__(self, *args, payment: Payment, claims: models.QuerySet[Claim], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.payment = payment
        self.fields["claim"].queryset = claims
        left = payment.amount - payment.refunded_amount
        self.fields["amount"].help_text = f"${left:,} of this payment can be refunded."

    def clean(self):
        cleaned = super().clean()
        amount = cleaned.get("amount")
        left = self.payment.amount - self.payment.refunded_amount
        if amount is not None and amount > left:
            self.add_error("amount", f"A refund cannot exceed what was paid: ${left:,} is left to refund.")
        return cleaned


class ReasonForm(forms.Form):
    """Why a transaction is reversed or a payment voided: the ledger keeps it."""

    reason = forms.CharField(max_length=300, widget=forms.TextInput(attrs={"autocomplete": "off"}))

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Say why.")
        return reason
