"""What a biller does to the books: charges, payments, adjustments, write-offs, refunds,
transfers of responsibility, applying credit and reversals.

Each operation checks what a biller could get wrong, says so in words, and hands the
ledger legs to ``billing.posting``, which writes them. Each takes an idempotency key: the
page's form token or the API's ``Idempotency-Key`` header, so a double submit posts once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.models import (
    POSTED_PAYMENT,
    WRITE_OFF_REASONS,
    Account,
    AdjustmentReason,
    ExpectedPayment,
    JournalTransaction,
    Payment,
    Responsibility,
)
from billing.posting import Kind, Leg, Posting, PostingError, Source, post, post_many, reversal_of
from billingpulse.models import Patient, Practice, User
from claims.models import Claim
from inbox import services as inbox

ZERO = Decimal("0.00")
# Where a payment from each source lands on a claim.
SOURCE_RESPONSIBILITY = {
    Payment.Source.PATIENT: Responsibility.PATIENT,
    Payment.Source.PRIMARY: Responsibility.PRIMARY,
    Payment.Source.SECONDARY: Responsibility.SECONDARY,
    Payment.Source.TERTIARY: Responsibility.TERTIARY,
}


def _positive(amount: Decimal, what: str = "The amount") -> None:
    if amount is None or amount <= 0:
        raise PostingError({"amount": f"{what} must be more than zero."})


def charge(
    claim: Claim,
    amount: Decimal,
    *,
    key: str,
    source: str = Source.MANUAL,
    memo: str = "",
    actor: User | None = None,
    responsibility: Responsibility = Responsibility.PRIMARY,
) -> JournalTransaction:
    """Post a charge to the claim (a negative amount lowers it: a corrected charge)."""
    if not amount:
        raise PostingError({"amount": "A charge of zero records nothing."})
    return post(
        claim.practice,
        Posting(
            kind=Kind.CHARGE,
            source=source,
            legs=[Leg(responsibility.account, amount), Leg(Account.CHARGES, -amount)],
            idempotency_key=key,
            claim=claim,
            memo=memo or ("Charge" if amount > 0 else "Charge lowered"),
            actor=actor,
        ),
    )


@dataclass(frozen=True)
class Allocation:
    claim: Claim
    amount: Decimal


@transaction.atomic
def record_payment(
    practice: Practice,
    *,
    key: str,
    source: str,
    method: str,
    amount: Decimal,
    payment_date: date,
    allocations: list[Allocation] = (),
    patient: Patient | None = None,
    payer=None,
    reference: str = "",
    deposit_date: date | None = None,
    copay: Decimal = ZERO,
    deductible: Decimal = ZERO,
    coinsurance: Decimal = ZERO,
    memo: str = "",
    actor: User | None = None,
    post_source: str = Source.MANUAL,
    pending: bool = False,
) -> Payment:
    """Record a payment and post it: each allocation to its claim, the rest as the patient's credit.

    An insurance payment must be allocated in full; a patient's remainder is kept as unapplied
    credit. A ``pending`` payment (a card or ACH payment not settled yet) is recorded with its
    allocations and posted by ``complete_payment`` when it settles.
    """
    asked = {
        "source": source,
        "method": method,
        "amount": amount,
        "payment_date": payment_date,
        "payer_id": payer.pk if payer else None,
        "reference": reference,
        "patient_id": patient.pk if patient else None,
        "allocations": sorted((a.claim.pk, a.amount) for a in allocations),
    }
    first = Payment.objects.filter(practice=practice, idempotency_key=key).first()
    if first is not None:
        return _replayed(first, asked)
    _positive(amount)
    allocations = list(allocations)
    for allocation in allocations:
        _positive(allocation.amount, "Each amount applied to a claim")
        if allocation.claim.practice_id != practice.pk:
            raise PostingError({"allocations": "No such claim."})
        if patient is not None and allocation.claim.patient_id != patient.pk:
            raise PostingError({"allocations": f"Claim {allocation.claim} belongs to another patient."})
    if len({a.claim.pk for a in allocations}) != len(allocations):
        raise PostingError({"allocations": "Apply the payment to each claim once."})
    allocated = sum((a.amount for a in allocations), ZERO)
    if allocated > amount:
        raise PostingError({"allocations": f"${allocated:,} is applied to claims, more than the ${amount:,} payment."})
    remainder = amount - allocated
    if remainder and source != Payment.Source.PATIENT:
        raise PostingError({"allocations": f"Apply all of an insurance payment to claims; ${remainder:,} is left."})
    if patient is None and allocations:
        patient = allocations[0].claim.patient if source == Payment.Source.PATIENT else None
    if source == Payment.Source.PATIENT and patient is None:
        raise PostingError({"patient": "Say which patient paid."})
    payment = Payment(
        practice=practice,
        patient=patient,
        payer=payer,
        method=method,
        source=source,
        amount=amount,
        reference=reference,
        payment_date=payment_date,
        deposit_date=deposit_date,
        copay=copay,
        deductible=deductible,
        coinsurance=coinsurance,
        memo=memo,
        created_by=actor,
        idempotency_key=key,
        status=Payment.Status.PENDING if pending else Payment.Status.COMPLETED,
        allocation_plan=[{"claim": a.claim.pk, "amount": str(a.amount)} for a in allocations],
    )
    payment.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            payment.save()
    except IntegrityError:
        # The same key sent at once by another request, which recorded it first.
        return _replayed(Payment.objects.get(practice=practice, idempotency_key=key), asked)
    if not pending:
        _post_payment(payment, allocations, actor=actor, post_source=post_source)
    return payment


def _post_payment(payment: Payment, allocations: list[Allocation], *, actor, post_source: str) -> None:
    key = payment.idempotency_key or f"payment:{payment.pk}"
    receivable = SOURCE_RESPONSIBILITY[payment.source].account
    common = {"source": post_source, "payment": payment, "actor": actor, "effective_date": payment.payment_date}
    postings = [
        Posting(
            kind=Kind.PAYMENT,
            legs=[Leg(Account.CASH, a.amount), Leg(receivable, -a.amount)],
            idempotency_key=f"{key}:{number}",
            claim=a.claim,
            memo=payment.memo or _payment_memo(payment),
            **common,
        )
        for number, a in enumerate(allocations, start=1)
    ]
    remainder = payment.amount - sum((a.amount for a in allocations), ZERO)
    if remainder:
        postings.append(
            Posting(
                kind=Kind.PAYMENT,
                legs=[Leg(Account.CASH, remainder), Leg(Account.UNAPPLIED, -remainder)],
                idempotency_key=f"{key}:{len(postings) + 1}",
                patient=payment.patient,
                memo=payment.memo or f"{_payment_memo(payment)}, kept as credit",
                **common,
            )
        )
    transactions = post_many(payment.practice, postings)
    if payment.source != Payment.Source.PATIENT:
        match_expected_payments(transactions)


@transaction.atomic
def complete_payment(payment: Payment, *, actor: User | None = None) -> Payment:
    """A pending payment settled: post it as it was recorded. Completing it again changes nothing."""
    if not Payment.objects.filter(pk=payment.pk, status=Payment.Status.PENDING).update(
        status=Payment.Status.COMPLETED, updated_at=timezone.now()
    ):
        payment.refresh_from_db()
        if payment.status in POSTED_PAYMENT:
            return payment
        raise PostingError(f"A {payment.get_status_display().lower()} payment cannot be completed.")
    payment.refresh_from_db()
    claims = Claim.objects.filter(practice=payment.practice, pk__in=[item["claim"] for item in payment.allocation_plan])
    by_id = {claim.pk: claim for claim in claims}
    if len(by_id) != len(payment.allocation_plan):
        raise PostingError("A claim this payment was to be applied to no longer exists; void it and record it again.")
    allocations = [Allocation(by_id[item["claim"]], Decimal(item["amount"])) for item in payment.allocation_plan]
    _post_payment(payment, allocations, actor=actor, post_source=Source.MANUAL)
    return payment


def _replayed(first: Payment, asked: dict) -> Payment:
    """The payment first recorded with this key, if it is the payment asked for again."""
    had = {name: getattr(first, name) for name in asked if name not in ("allocations", "patient_id")}
    had["allocations"] = sorted((item["claim"], Decimal(item["amount"])) for item in first.allocation_plan)
    same = all(had[name] == value for name, value in asked.items() if name != "patient_id")
    if not same or asked["patient_id"] not in (None, first.patient_id):
        raise PostingError(f"The key {first.idempotency_key!r} was already used for a different payment (#{first.pk}).")
    return first


def _payment_memo(payment: Payment) -> str:
    text = f"{payment.get_source_display()} payment by {payment.get_method_display().lower()}"
    return f"{text} {payment.reference}" if payment.reference else text


def adjust(
    claim: Claim,
    amount: Decimal,
    *,
    key: str,
    reason: str,
    responsibility: Responsibility = Responsibility.PRIMARY,
    carc_group: str = "",
    carc_code: str = "",
    memo: str = "",
    source: str = Source.MANUAL,
    actor: User | None = None,
    remittance=None,
) -> JournalTransaction:
    """Lower (or, negative, raise) what ``responsibility`` owes on the claim; a write-off when the reason is one."""
    if reason not in AdjustmentReason.values:
        raise PostingError({"reason": "Choose why the balance is adjusted."})
    if not amount:
        raise PostingError({"amount": "An adjustment of zero records nothing."})
    reason = AdjustmentReason(reason)
    kind = Kind.WRITE_OFF if reason in WRITE_OFF_REASONS else Kind.ADJUSTMENT
    return post(
        claim.practice,
        Posting(
            kind=kind,
            source=source,
            legs=[Leg(reason.account, amount), Leg(Responsibility(responsibility).account, -amount)],
            idempotency_key=key,
            claim=claim,
            reason=reason,
            carc_group=carc_group,
            carc_code=carc_code,
            memo=memo or reason.label,
            actor=actor,
            remittance=remittance,
        ),
    )


def write_off(claim: Claim, amount: Decimal, *, key: str, reason: str, **kwargs) -> JournalTransaction:
    if reason not in WRITE_OFF_REASONS:
        raise PostingError({"reason": "Write off for bad debt, a small balance or timely filing."})
    _positive(amount)
    return adjust(claim, amount, key=key, reason=reason, **kwargs)


def transfer(
    claim: Claim,
    amount: Decimal,
    *,
    key: str,
    from_responsibility: str,
    to_responsibility: str,
    memo: str = "",
    source: str = Source.MANUAL,
    actor: User | None = None,
) -> JournalTransaction:
    """Move part of the balance from one payer (or the patient) to the next."""
    _positive(amount)
    if from_responsibility == to_responsibility:
        raise PostingError({"to_responsibility": "Choose who the balance moves to."})
    origin, target = Responsibility(from_responsibility), Responsibility(to_responsibility)
    return post(
        claim.practice,
        Posting(
            kind=Kind.TRANSFER,
            source=source,
            legs=[Leg(target.account, amount), Leg(origin.account, -amount)],
            idempotency_key=key,
            claim=claim,
            memo=memo or f"Moved from {origin.label.lower()} to {target.label.lower()}",
            actor=actor,
        ),
    )


def apply_credit(claim: Claim, amount: Decimal, *, key: str, actor: User | None = None) -> JournalTransaction:
    """Use the patient's unapplied credit to pay what the patient owes on a claim."""
    _positive(amount)
    return post(
        claim.practice,
        Posting(
            kind=Kind.CREDIT_APPLIED,
            source=Source.MANUAL,
            legs=[Leg(Account.UNAPPLIED, amount), Leg(Account.PATIENT_AR, -amount)],
            idempotency_key=key,
            claim=claim,
            memo="Credit applied",
            actor=actor,
        ),
    )


def refund(
    payment: Payment,
    amount: Decimal,
    *,
    key: str,
    reason: str,
    claim: Claim | None = None,
    actor: User | None = None,
) -> JournalTransaction:
    """Pay money back: from the patient's credit, or from what the payment paid on ``claim``."""
    _positive(amount)
    if not reason.strip():
        raise PostingError({"reason": "Say why the money is paid back."})
    _not_from_era(payment)
    # A replay goes straight to ``post``, which returns the first refund (or refuses other content):
    # the checks below describe the payment after that refund, not before it.
    replayed = JournalTransaction.objects.filter(practice=payment.practice, idempotency_key=key).exists()
    if not replayed and payment.status not in (Payment.Status.COMPLETED, Payment.Status.PARTIALLY_REFUNDED):
        raise PostingError(f"A {payment.get_status_display().lower()} payment cannot be refunded.")
    if not replayed and amount > payment.amount - payment.refunded_amount:
        left = payment.amount - payment.refunded_amount
        raise PostingError({"amount": f"A refund cannot exceed what was paid: ${left:,} is left to refund."})
    if claim is None:
        if payment.source != Payment.Source.PATIENT or payment.patient is None:
            raise PostingError({"claim": "Say which claim the payer takes the money back from."})
        legs = [Leg(Account.UNAPPLIED, amount), Leg(Account.CASH, -amount)]
        patient = payment.patient
    else:
        receivable = SOURCE_RESPONSIBILITY[payment.source].account
        legs = [Leg(receivable, amount), Leg(Account.CASH, -amount)]
        patient = claim.patient
    return post(
        payment.practice,
        Posting(
            kind=Kind.REFUND,
            source=Source.MANUAL,
            legs=legs,
            idempotency_key=key,
            claim=claim,
            patient=patient,
            payment=payment,
            memo=reason.strip(),
            actor=actor,
        ),
    )


def reverse(original: JournalTransaction, *, reason: str, actor: User | None = None) -> JournalTransaction:
    """Net a transaction to zero with a reversal that names it; a transaction is reversed at most once."""
    if not reason.strip():
        raise PostingError({"reason": "Say why the transaction is reversed."})
    return post(original.practice, reversal_of(original, reason=reason.strip(), actor=actor))


def _not_from_era(payment: Payment) -> None:
    """An ERA's deposit balances against its claim postings; it is corrected by the payer's next ERA."""
    if payment.remittance_id is not None:
        raise PostingError(
            "This payment came with a remittance (835); the payer corrects it with a reversal in a later remittance."
        )


def void_payment(payment: Payment, *, reason: str, actor: User | None = None) -> Payment:
    """Take back a payment recorded in error: everything it posted is reversed (refunds first)."""
    return _take_back(payment, Payment.Status.VOIDED, reason=reason, actor=actor)


def fail_payment(payment: Payment, *, reason: str, actor: User | None = None) -> Payment:
    """A payment that did not go through (a returned check, an ACH return, a declined card)."""
    return _take_back(payment, Payment.Status.FAILED, reason=reason, actor=actor)


@transaction.atomic
def _take_back(payment: Payment, status: str, *, reason: str, actor: User | None) -> Payment:
    payment.refresh_from_db()
    label = Payment.Status(status).label.lower()
    if payment.status == status:
        raise PostingError(f"This payment is already {label}.")
    if not payment.can_become(status):
        raise PostingError(f"A {payment.get_status_display().lower()} payment cannot be marked {label}.")
    _not_from_era(payment)
    if not reason.strip():
        raise PostingError({"reason": f"Say why the payment is {label}."})
    now = timezone.now()
    if payment.status == Payment.Status.PENDING:  # on no books yet: nothing to reverse
        if not Payment.objects.filter(pk=payment.pk, status=payment.status).update(status=status, updated_at=now):
            raise PostingError("Someone changed this payment a moment ago. Reload and try again.")
    else:
        # Reversing locks the accounts, claims and then this payment, in the posting service's
        # order; a concurrent void or failure finds the postings already reversed and is refused.
        open_txns = payment.ledger.filter(reversed_by__isnull=True).exclude(kind=Kind.REVERSAL).order_by("-id")
        post_many(payment.practice, [reversal_of(txn, reason=reason.strip(), actor=actor) for txn in open_txns])
        Payment.objects.filter(pk=payment.pk).update(status=status, updated_at=now)
    payment.refresh_from_db()
    return payment


# -- expected payments ---------------------------------------------------------------------


def expect_payment(claim: Claim, *, amount: Decimal, reference: str = "", payment_date=None, call=None):
    """Record what a payer said it paid on a call; once per call."""
    values = {
        "practice_id": claim.practice_id,
        "claim": claim,
        "amount": amount,
        "reference": reference[:60],
        "payment_date": payment_date,
    }
    if call is None:
        # Without a call there is nothing to be once per: get_or_create(call=None) would return
        # any other claim's expected payment recorded without a call.
        return ExpectedPayment.objects.create(**values)
    expected, _ = ExpectedPayment.objects.get_or_create(call=call, defaults=values)
    return expected


def match_expected_payments(transactions: list[JournalTransaction]) -> None:
    """Mark expected payments received by payer money that just posted to their claims (insurance only)."""
    paid: dict[int, tuple[Decimal, JournalTransaction]] = {}
    for txn in transactions:
        if txn.claim_id and txn.kind == Kind.PAYMENT:
            amount, _ = paid.get(txn.claim_id, (ZERO, txn))
            paid[txn.claim_id] = (amount + txn.amount, txn)
    if not paid:
        return
    now = timezone.now()
    waiting = ExpectedPayment.objects.filter(claim_id__in=list(paid), status=ExpectedPayment.Status.EXPECTED)
    for expected in waiting.order_by("claim_id", "created_at"):
        amount, txn = paid[expected.claim_id]
        expected.received_amount = amount
        expected.matched_transaction = txn
        expected.matched_at = now
        same = amount == expected.amount
        expected.status = ExpectedPayment.Status.RECEIVED if same else ExpectedPayment.Status.DIFFERENT
        expected.save(update_fields=["received_amount", "matched_transaction", "matched_at", "status", "updated_at"])
    # The needs-action inbox: an overdue payment that arrived, or a claim now paid, needs nobody.
    inbox.claims_changed(sorted(paid))
