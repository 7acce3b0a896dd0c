"""The billing API's serializers: what payments, ledger transactions, patient balances and
expected payments look like in JSON, and what a posting request may say.

Money is always a decimal string with two places ("312.40"). Amounts a biller posts must be
more than zero and fit a money column; a correction is a reversal, never a negative posting.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing.models import (
    WRITE_OFF_REASONS,
    AdjustmentReason,
    ExpectedPayment,
    JournalTransaction,
    LedgerEntry,
    Payment,
    Responsibility,
)
from billing.posting import MAX_AMOUNT
from billingpulse.models import Patient
from billingpulse.validators import validate_date_in_range
from claims.api.fields import PracticePrimaryKeyField
from claims.models import Claim, Payer
from claims.status import ClaimStatus

NO_SUCH = "No such {what}."
WRITE_OFF_CHOICES = [(reason.value, reason.label) for reason in WRITE_OFF_REASONS]


def money(**kwargs) -> serializers.DecimalField:
    """A money amount: a decimal string in answers; a positive amount of at most two places in requests."""
    options = {"max_digits": 12, "decimal_places": 2, "coerce_to_string": True}
    if not kwargs.get("read_only"):
        options.update(min_value=Decimal("0.01"), max_value=MAX_AMOUNT)
        options["error_messages"] = {
            "min_value": "Enter an amount of more than zero.",
            "max_value": "Enter an amount of at most 9,999,999,999.99.",
            "max_decimal_places": "Enter an amount in dollars and cents (at most two decimal places).",
        }
    options.update(kwargs)
    return serializers.DecimalField(**options)


def share() -> serializers.DecimalField:
    """A part of a payment (copay, deductible, coinsurance): zero or more, zero when left out."""
    return money(
        min_value=Decimal("0.00"),
        required=False,
        default=Decimal("0.00"),
        error_messages={"min_value": "Enter zero or more.", "max_decimal_places": "Enter dollars and cents."},
    )


def practice_row(model, what: str, **kwargs) -> PracticePrimaryKeyField:
    """A foreign key to a row of the caller's practice; anything else reads "No such <what>."."""
    messages = {"does_not_exist": NO_SUCH.format(what=what), "incorrect_type": NO_SUCH.format(what=what)}
    return PracticePrimaryKeyField(queryset=model.objects.all(), error_messages=messages, **kwargs)


class ReasonField(serializers.CharField):
    """A reason in words: required, trimmed, at most 300 characters (it becomes the posting's memo)."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", 300)
        kwargs.setdefault("help_text", "Why, in words; kept on the ledger transaction.")
        super().__init__(**kwargs)


# -- reading ------------------------------------------------------------------------------


class LedgerEntrySerializer(serializers.ModelSerializer):
    account_label = serializers.CharField(source="get_account_display", read_only=True)
    amount = serializers.SerializerMethodField(help_text="The entry's size, always positive; `side` says which.")
    side = serializers.SerializerMethodField()

    class Meta:
        model = LedgerEntry
        fields = ["account", "account_label", "amount", "side"]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "format": "decimal", "pattern": r"^-?\d{0,10}(?:\.\d{0,2})?$"})
    def get_amount(self, entry: LedgerEntry) -> str:
        return f"{abs(entry.amount):.2f}"

    @extend_schema_field({"type": "string", "enum": ["debit", "credit"]})
    def get_side(self, entry: LedgerEntry) -> str:
        return "debit" if entry.amount > 0 else "credit"


class TransactionSerializer(serializers.ModelSerializer):
    claim_number = serializers.CharField(source="claim.claim_number", read_only=True, default=None, allow_null=True)
    reversed_by = serializers.SerializerMethodField(help_text="The reversal that nets this transaction to zero.")
    amount = money(read_only=True)
    claim_balance_after = money(read_only=True, allow_null=True)
    account_balance_after = money(read_only=True, allow_null=True)
    entries = LedgerEntrySerializer(many=True, read_only=True)

    class Meta:
        model = JournalTransaction
        fields = [
            "id",
            "kind",
            "source",
            "claim",
            "claim_number",
            "patient",
            "payment",
            "remittance",
            "reverses",
            "reversed_by",
            "amount",
            "reason",
            "carc_group",
            "carc_code",
            "memo",
            "effective_date",
            "claim_balance_after",
            "account_balance_after",
            "idempotency_key",
            "created_by",
            "created_at",
            "entries",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "integer", "nullable": True})
    def get_reversed_by(self, txn: JournalTransaction) -> int | None:
        reversal = getattr(txn, "reversed_by", None)
        return reversal.pk if reversal is not None else None


class AllocationSerializer(serializers.Serializer):
    claim = practice_row(Claim, "claim")
    amount = money()


class PaymentSerializer(serializers.ModelSerializer):
    amount = money(read_only=True)
    refunded_amount = money(read_only=True)
    net_payment = money(read_only=True)
    copay = money(read_only=True)
    deductible = money(read_only=True)
    coinsurance = money(read_only=True)
    allocations = serializers.SerializerMethodField(help_text="What the payment paid on each claim, net of reversals.")
    unapplied = serializers.SerializerMethodField(help_text="What was kept as the patient's credit.")

    class Meta:
        model = Payment
        fields = [
            "id",
            "patient",
            "payer",
            "remittance",
            "method",
            "source",
            "status",
            "amount",
            "refunded_amount",
            "net_payment",
            "reference",
            "payment_date",
            "deposit_date",
            "copay",
            "deductible",
            "coinsurance",
            "memo",
            "allocations",
            "unapplied",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields

    def _payments(self, payment: Payment) -> list[JournalTransaction]:
        # ``ledger`` is prefetched with reversals, so a list costs the same few queries at any length.
        return [
            txn
            for txn in payment.ledger.all()
            if txn.kind == JournalTransaction.Kind.PAYMENT and getattr(txn, "reversed_by", None) is None
        ]

    @extend_schema_field(AllocationSerializer(many=True))
    def get_allocations(self, payment: Payment) -> list[dict]:
        return [
            {"claim": txn.claim_id, "amount": f"{txn.amount:.2f}"} for txn in self._payments(payment) if txn.claim_id
        ]

    @extend_schema_field({"type": "string", "format": "decimal", "pattern": r"^-?\d{0,10}(?:\.\d{0,2})?$"})
    def get_unapplied(self, payment: Payment) -> str:
        total = sum((txn.amount for txn in self._payments(payment) if not txn.claim_id), Decimal("0.00"))
        return f"{total:.2f}"


class PatientAccountSerializer(serializers.ModelSerializer):
    """A patient with the balances of their account (zero when nothing was ever posted)."""

    patient = serializers.IntegerField(source="pk", read_only=True)
    name = serializers.CharField(source="full_name", read_only=True)
    insurance_balance = money(read_only=True)
    patient_balance = money(read_only=True, help_text="What the patient owes.")
    credit = money(read_only=True, help_text="Unapplied payments held for the patient.")
    balance = money(read_only=True, help_text="Insurance and patient balance less credit.")

    class Meta:
        model = Patient
        fields = [
            "patient",
            "name",
            "account_number",
            "date_of_birth",
            "insurance_balance",
            "patient_balance",
            "credit",
            "balance",
        ]
        read_only_fields = fields


class ClaimBalanceSerializer(serializers.ModelSerializer):
    total_charge = money(read_only=True)
    paid_amount = money(read_only=True)
    adjustment_amount = money(read_only=True)
    patient_responsibility = money(read_only=True)
    balance = money(read_only=True)
    status = serializers.ChoiceField(choices=ClaimStatus.choices, read_only=True)

    class Meta:
        model = Claim
        fields = [
            "id",
            "claim_number",
            "service_date_from",
            "status",
            "payer",
            "total_charge",
            "paid_amount",
            "adjustment_amount",
            "patient_responsibility",
            "balance",
        ]
        read_only_fields = fields


class PatientAccountDetailSerializer(PatientAccountSerializer):
    claims = ClaimBalanceSerializer(many=True, read_only=True, source="billing_claims")

    class Meta(PatientAccountSerializer.Meta):
        fields = [*PatientAccountSerializer.Meta.fields, "claims"]
        read_only_fields = fields


class ExpectedPaymentSerializer(serializers.ModelSerializer):
    claim_number = serializers.CharField(source="claim.claim_number", read_only=True)
    amount = money(read_only=True)
    received_amount = money(read_only=True, allow_null=True)
    difference = money(read_only=True, allow_null=True, help_text="Received less expected, once received.")

    class Meta:
        model = ExpectedPayment
        fields = [
            "id",
            "claim",
            "claim_number",
            "call",
            "amount",
            "reference",
            "payment_date",
            "status",
            "received_amount",
            "difference",
            "matched_transaction",
            "matched_at",
            "created_at",
        ]
        read_only_fields = fields


# -- posting requests ----------------------------------------------------------------------


class PaymentCreateSerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=Payment.Source.choices)
    method = serializers.ChoiceField(choices=Payment.Method.choices)
    amount = money()
    payment_date = serializers.DateField()
    patient = practice_row(Patient, "patient", required=False, allow_null=True, default=None)
    payer = practice_row(Payer, "payer", required=False, allow_null=True, default=None)
    allocations = AllocationSerializer(many=True, required=False, default=list, max_length=500)
    reference = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    deposit_date = serializers.DateField(required=False, allow_null=True, default=None)
    copay = share()
    deductible = share()
    coinsurance = share()
    memo = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    pending = serializers.BooleanField(
        required=False, default=False, help_text="Not settled yet: posted when the payment is completed."
    )

    def validate_payment_date(self, value):
        return _date_in_range(value)

    def validate_deposit_date(self, value):
        return _date_in_range(value) if value is not None else value


class RefundSerializer(serializers.Serializer):
    amount = money()
    reason = ReasonField()
    claim = practice_row(
        Claim,
        "claim",
        required=False,
        allow_null=True,
        default=None,
        help_text="The claim the money is taken back from; leave out to refund a patient's unapplied credit.",
    )


class ReasonSerializer(serializers.Serializer):
    reason = ReasonField()


class AdjustmentSerializer(serializers.Serializer):
    amount = money(help_text="How much lower the balance owed by `responsibility` becomes.")
    reason = serializers.ChoiceField(choices=AdjustmentReason.choices)
    responsibility = serializers.ChoiceField(
        choices=Responsibility.choices, required=False, default=Responsibility.PRIMARY
    )
    carc_group = serializers.RegexField(
        r"^(CO|PR|OA|PI|CR)$", required=False, allow_blank=True, default="", help_text="CO, PR, OA, PI or CR."
    )
    carc_code = serializers.RegexField(r"^[A-Z0-9]{1,5}$", required=False, allow_blank=True, default="")
    memo = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class WriteOffSerializer(AdjustmentSerializer):
    reason = serializers.ChoiceField(choices=WRITE_OFF_CHOICES)


class TransferSerializer(serializers.Serializer):
    # "from" and "to" are Python keywords, so they are declared through the class namespace.
    vars()["from"] = serializers.ChoiceField(choices=Responsibility.choices, help_text="Who owes it now.")
    vars()["to"] = serializers.ChoiceField(choices=Responsibility.choices, help_text="Who owes it after.")
    amount = money()
    memo = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict) -> dict:
        if attrs["from"] == attrs["to"]:
            raise serializers.ValidationError({"to": ["Choose someone else than who owes it now."]})
        return attrs


class ApplyCreditSerializer(serializers.Serializer):
    amount = money(help_text="How much of the patient's unapplied credit pays what they owe on this claim.")


def _date_in_range(value):
    try:
        validate_date_in_range(value)
    except ValidationError as error:
        raise serializers.ValidationError(error.messages) from None
    return value
