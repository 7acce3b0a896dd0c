"""The practice's books: an append-only double-entry ledger, patient accounts, payments,
expected payments and remittances (835).

Every money figure in the product traces to ``LedgerEntry`` rows. A posting is one
``JournalTransaction`` whose entries sum to zero across the fixed chart of accounts in
``Account``; a debit is a positive amount, a credit a negative one. Claims and patient
accounts keep their amounts as a projection of those entries, written only by
``billing.posting`` in the same database transaction.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models

from billingpulse.encryption import EncryptedCharField
from billingpulse.models import Patient, Practice, PracticeOwned
from billingpulse.validators import validate_date_in_range
from claims.models import MONEY, ZERO, Claim, Payer


class Account(models.TextChoices):
    """The chart of accounts every practice has. Receivables are kept per claim and patient."""

    CHARGES = "charges", "Gross charges"
    PRIMARY_AR = "primary_ar", "Primary insurance receivable"
    SECONDARY_AR = "secondary_ar", "Secondary insurance receivable"
    TERTIARY_AR = "tertiary_ar", "Tertiary insurance receivable"
    PATIENT_AR = "patient_ar", "Patient receivable"
    CASH = "cash", "Cash and deposits"
    ERA_CLEARING = "era_clearing", "ERA clearing"
    # An ERA's claim payments that match no claim yet (the unmatched queue); zero once each is posted.
    ERA_HELD = "era_held", "ERA payments awaiting a claim"
    UNAPPLIED = "unapplied", "Unapplied patient credit"
    CONTRACTUAL = "contractual", "Contractual adjustments"
    WRITE_OFF = "write_off", "Write-offs"
    ADJUSTMENT = "adjustment", "Other adjustments"
    PROVIDER_ADJUSTMENT = "provider_adj", "Provider-level adjustments"


INSURANCE_AR = (Account.PRIMARY_AR, Account.SECONDARY_AR, Account.TERTIARY_AR)
RECEIVABLES = (*INSURANCE_AR, Account.PATIENT_AR)
# Money that came in and was applied to a claim (a debit) or went back out (a credit).
MONEY_IN = (Account.CASH, Account.ERA_CLEARING, Account.UNAPPLIED)
ADJUSTMENTS = (Account.CONTRACTUAL, Account.WRITE_OFF, Account.ADJUSTMENT)


class Responsibility(models.TextChoices):
    """Who is expected to pay a claim's balance; each has its own receivable account."""

    PRIMARY = "primary", "Primary insurance"
    SECONDARY = "secondary", "Secondary insurance"
    TERTIARY = "tertiary", "Tertiary insurance"
    PATIENT = "patient", "Patient"

    @property
    def account(self) -> Account:
        return Account(f"{self.value}_ar")


class AdjustmentReason(models.TextChoices):
    CONTRACTUAL = "contractual", "Contractual"
    PROVIDER_DISCOUNT = "provider_discount", "Provider discount"
    HARDSHIP = "hardship", "Hardship"
    BAD_DEBT = "bad_debt", "Bad debt"
    SMALL_BALANCE = "small_balance", "Small balance"
    TIMELY_FILING = "timely_filing", "Timely filing"
    OTHER = "other", "Other"

    @property
    def account(self) -> Account:
        if self == AdjustmentReason.CONTRACTUAL:
            return Account.CONTRACTUAL
        if self in (AdjustmentReason.BAD_DEBT, AdjustmentReason.SMALL_BALANCE, AdjustmentReason.TIMELY_FILING):
            return Account.WRITE_OFF
        return Account.ADJUSTMENT


WRITE_OFF_REASONS = (AdjustmentReason.BAD_DEBT, AdjustmentReason.SMALL_BALANCE, AdjustmentReason.TIMELY_FILING)


class AppendOnlyQuerySet(models.QuerySet):
    """Ledger rows are never changed or removed; a mistake is corrected by a reversal."""

    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model._meta.verbose_name_plural} cannot be changed; post a reversal.")

    def delete(self):
        raise AppendOnlyError(f"{self.model._meta.verbose_name_plural} cannot be deleted; post a reversal.")

    _raw_delete = delete


class AppendOnlyError(Exception):
    """Raised by any attempt to change or delete a ledger row."""


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise AppendOnlyError(f"A {self._meta.verbose_name} cannot be changed; post a reversal.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"A {self._meta.verbose_name} cannot be deleted; post a reversal.")


class PatientAccount(PracticeOwned):
    """A patient's account: the projection of every ledger entry for the patient."""

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="account")
    insurance_balance = models.DecimalField(**MONEY, default=ZERO)
    patient_balance = models.DecimalField(**MONEY, default=ZERO, help_text="What the patient owes.")
    credit = models.DecimalField(**MONEY, default=ZERO, help_text="Unapplied payments held for the patient.")
    balance = models.DecimalField(**MONEY, default=ZERO, help_text="Insurance and patient balance less credit.")

    class Meta:
        ordering = ["patient"]

    def __str__(self) -> str:
        return f"Account of {self.patient}"


class Payment(PracticeOwned):
    """Money received from a patient or a payer; posted to the ledger when completed."""

    class Method(models.TextChoices):
        CASH = "cash", "Cash"
        CHECK = "check", "Check"
        CARD = "card", "Credit card"
        EFT = "eft", "ACH / EFT"
        INSURANCE = "insurance", "Insurance"
        OTHER = "other", "Other"

    class Source(models.TextChoices):
        PATIENT = "patient", "Patient"
        PRIMARY = "primary", "Primary insurance"
        SECONDARY = "secondary", "Secondary insurance"
        TERTIARY = "tertiary", "Tertiary insurance"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
        REFUNDED = "refunded", "Refunded"
        VOIDED = "voided", "Voided"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, null=True, blank=True, related_name="payments")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, null=True, blank=True, related_name="payments")
    remittance = models.ForeignKey(
        "Remittance", on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    method = models.CharField(max_length=10, choices=Method.choices)
    source = models.CharField(max_length=10, choices=Source.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.COMPLETED)
    amount = models.DecimalField(**MONEY, validators=[MinValueValidator(Decimal("0.01"))])
    refunded_amount = models.DecimalField(**MONEY, default=ZERO, editable=False)
    reference = models.CharField("check / EFT / trace number", max_length=60, blank=True)
    payment_date = models.DateField(validators=[validate_date_in_range])
    deposit_date = models.DateField(null=True, blank=True, validators=[validate_date_in_range])
    copay = models.DecimalField(**MONEY, default=ZERO, validators=[MinValueValidator(ZERO)])
    deductible = models.DecimalField(**MONEY, default=ZERO, validators=[MinValueValidator(ZERO)])
    coinsurance = models.DecimalField(**MONEY, default=ZERO, validators=[MinValueValidator(ZERO)])
    memo = EncryptedCharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    # The request's key: the same payment sent twice (even at once) is recorded once.
    idempotency_key = models.CharField(max_length=120, blank=True, editable=False)
    # A pending payment's claims and amounts, posted when it completes: [{"claim": id, "amount": "12.50"}].
    allocation_plan = models.JSONField(default=list, blank=True, editable=False)

    class Meta:
        ordering = ["-payment_date", "-id"]
        indexes = [models.Index(fields=["practice", "-payment_date"])]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="payment_idempotency_key_unique",
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(refunded_amount__gte=0, refunded_amount__lte=models.F("amount")),
                name="payment_refunds_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.amount} on {self.payment_date}"

    def can_become(self, status: str) -> bool:
        return status in PAYMENT_TRANSITIONS[self.status]

    @property
    def net_payment(self) -> Decimal:
        return self.amount - self.refunded_amount

    @property
    def is_fully_refunded(self) -> bool:
        return self.refunded_amount >= self.amount


_P = Payment.Status
# The payment status machine. A pending payment (a card or ACH payment not settled yet) is on
# no books; completing it posts it. Refunds move a completed payment to partially refunded and
# refunded, and back when a refund is reversed. A payment that fails after it posted (a
# returned check, an ACH return) or is voided has all its postings reversed.
PAYMENT_TRANSITIONS: dict[str, set[str]] = {
    _P.PENDING: {_P.COMPLETED, _P.FAILED, _P.VOIDED},
    _P.COMPLETED: {_P.PARTIALLY_REFUNDED, _P.REFUNDED, _P.FAILED, _P.VOIDED},
    _P.PARTIALLY_REFUNDED: {_P.COMPLETED, _P.REFUNDED, _P.FAILED, _P.VOIDED},
    _P.REFUNDED: {_P.COMPLETED, _P.PARTIALLY_REFUNDED, _P.VOIDED},
    _P.FAILED: set(),
    _P.VOIDED: set(),
}
# Statuses in which a payment's money is on the books.
POSTED_PAYMENT = {_P.COMPLETED, _P.PARTIALLY_REFUNDED, _P.REFUNDED}


class Remittance(PracticeOwned):
    """One payment (BPR/TRN) of an uploaded 835 file: previewed, then posted in one step."""

    class Status(models.TextChoices):
        PREVIEW = "preview", "Waiting to post"
        POSTED = "posted", "Posted"
        REFUSED = "refused", "Refused"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PREVIEW)
    file_name = models.CharField(max_length=255, blank=True)
    content = models.BinaryField(editable=False)
    content_sha256 = models.CharField(max_length=64, editable=False)
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, null=True, blank=True, related_name="remittances")
    payer_identifier = models.CharField("payer ID in the file", max_length=80, blank=True)
    payer_name = models.CharField(max_length=200, blank=True)
    trace_number = models.CharField(max_length=80, blank=True)
    payment_amount = models.DecimalField(**MONEY, null=True, blank=True)
    payment_method = models.CharField(max_length=10, blank=True)
    payment_date = models.DateField(null=True, blank=True, validators=[validate_date_in_range])
    claim_count = models.PositiveIntegerField(default=0)
    # The remittance's identity once posted: payer + trace number + amounts. Unique among
    # posted remittances of a practice, so the same 835 can never post twice.
    duplicate_key = models.CharField(max_length=64, blank=True, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    posted_at = models.DateTimeField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "duplicate_key"],
                condition=models.Q(status="posted"),
                name="remittance_posted_once",
                violation_error_message="This remittance has already been posted.",
            )
        ]

    def __str__(self) -> str:
        return f"ERA {self.trace_number or self.pk} from {self.payer_name or 'payer'}"


class RemittanceClaim(models.Model):
    """One claim payment (CLP) of a remittance: matched and posted, or waiting in the queue."""

    class Status(models.TextChoices):
        MATCHED = "matched", "Matched"
        UNMATCHED = "unmatched", "Unmatched"
        AMBIGUOUS = "ambiguous", "Ambiguous"
        POSTED = "posted", "Posted"

    practice_path = "remittance__practice"

    remittance = models.ForeignKey(Remittance, on_delete=models.CASCADE, related_name="claim_payments")
    position = models.PositiveIntegerField()
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, null=True, blank=True, related_name="remittances")
    status = models.CharField(max_length=10, choices=Status.choices)
    claim_number = models.CharField(max_length=50)
    patient_name = models.CharField(max_length=200, blank=True)
    claim_status_code = models.CharField(max_length=2)
    charge = models.DecimalField(**MONEY)
    paid = models.DecimalField(**MONEY)
    patient_responsibility = models.DecimalField(**MONEY, default=ZERO)
    payer_claim_number = models.CharField(max_length=50, blank=True)
    detail = models.JSONField(default=dict, blank=True, help_text="Adjustments and service lines as read.")
    note = models.CharField(max_length=300, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["remittance", "position"]
        constraints = [
            models.UniqueConstraint(fields=["remittance", "position"], name="remittance_claim_position_unique")
        ]

    def __str__(self) -> str:
        return f"{self.claim_number} on {self.remittance}"


class JournalTransaction(AppendOnlyModel):
    """One posting: entries summing to zero, with who, when, why and where it came from."""

    class Kind(models.TextChoices):
        CHARGE = "charge", "Charge"
        PAYMENT = "payment", "Payment"
        ADJUSTMENT = "adjustment", "Adjustment"
        WRITE_OFF = "write_off", "Write-off"
        REFUND = "refund", "Refund"
        TRANSFER = "transfer", "Transfer of responsibility"
        CREDIT_APPLIED = "credit_applied", "Credit applied"
        PROVIDER_ADJUSTMENT = "provider_adj", "Provider-level adjustment"
        REVERSAL = "reversal", "Reversal"

    class Source(models.TextChoices):
        MANUAL = "manual", "Manual"
        ERA = "era", "ERA"
        IMPORT = "import", "Import"
        OPENING = "opening", "Opening balance"

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    source = models.CharField(max_length=10, choices=Source.choices)
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, null=True, blank=True, related_name="ledger")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, null=True, blank=True, related_name="ledger")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="ledger")
    remittance = models.ForeignKey(Remittance, on_delete=models.PROTECT, null=True, blank=True, related_name="ledger")
    reverses = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by")
    amount = models.DecimalField(**MONEY, help_text="The transaction's size: the sum of its debits.")
    reason = models.CharField(max_length=20, choices=AdjustmentReason.choices, blank=True)
    carc_group = models.CharField("CARC group", max_length=2, blank=True)
    carc_code = models.CharField("CARC", max_length=5, blank=True)
    memo = EncryptedCharField(max_length=300, blank=True)
    effective_date = models.DateField(validators=[validate_date_in_range])
    claim_balance_after = models.DecimalField(**MONEY, null=True, blank=True)
    account_balance_after = models.DecimalField(**MONEY, null=True, blank=True)
    idempotency_key = models.CharField(max_length=120)
    content_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "ledger transaction"
        indexes = [
            models.Index(fields=["claim", "id"]),
            models.Index(fields=["patient", "id"]),
            models.Index(fields=["practice", "-created_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "idempotency_key"],
                name="ledger_idempotency_key_unique",
                violation_error_message="This posting was already made.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} (#{self.pk})"

    def clean(self) -> None:  # pragma: no cover - rows are built by billing.posting
        if self.reverses_id and self.reverses.kind == self.Kind.REVERSAL:
            raise ValidationError("A reversal cannot be reversed.")

    @property
    def is_reversed(self) -> bool:
        return hasattr(self, "reversed_by")


class LedgerEntry(AppendOnlyModel):
    """One leg of a transaction: a debit (positive) or credit (negative) to one account."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    transaction = models.ForeignKey(JournalTransaction, on_delete=models.PROTECT, related_name="entries")
    account = models.CharField(max_length=20, choices=Account.choices)
    amount = models.DecimalField(**MONEY)
    # Copied from the transaction so balances are one indexed aggregate.
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["transaction", "id"]
        verbose_name_plural = "ledger entries"
        indexes = [
            models.Index(fields=["claim", "account"]),
            models.Index(fields=["patient", "account"]),
            models.Index(fields=["practice", "account"]),
        ]
        constraints = [models.CheckConstraint(condition=~models.Q(amount=0), name="ledger_entry_not_zero")]

    def __str__(self) -> str:
        side = "Dr" if self.amount > 0 else "Cr"
        return f"{side} {self.get_account_display()} {abs(self.amount)}"


class ExpectedPayment(PracticeOwned):
    """A payment a payer said on a call it made; matched when the ERA or a manual payment posts."""

    class Status(models.TextChoices):
        EXPECTED = "expected", "Expected"
        RECEIVED = "received", "Received"
        DIFFERENT = "different", "Received, different amount"
        CANCELED = "canceled", "Canceled"

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="expected_payments")
    call = models.ForeignKey(
        "telephony.Call", on_delete=models.SET_NULL, null=True, blank=True, related_name="expected_payments"
    )
    amount = models.DecimalField(**MONEY, validators=[MinValueValidator(ZERO)])
    reference = models.CharField("check / EFT number", max_length=60, blank=True)
    payment_date = models.DateField(null=True, blank=True, validators=[validate_date_in_range])
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.EXPECTED)
    received_amount = models.DecimalField(**MONEY, null=True, blank=True)
    matched_transaction = models.ForeignKey(
        JournalTransaction, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    matched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["practice", "status"])]
        constraints = [
            models.UniqueConstraint(fields=["call"], name="expected_payment_once_per_call"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} expected on {self.claim}"

    @property
    def difference(self) -> Decimal | None:
        return None if self.received_amount is None else self.received_amount - self.amount
