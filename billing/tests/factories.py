"""Billing test data, made through the posting service so the books always agree.

Every factory accepts ``practice=`` (the cross-practice test relies on it). Ledger rows
cannot be built directly — they are append-only and their amounts are a projection — so
those factories post through ``billing.services`` and return what it wrote.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import factory

from billing import services
from billing.models import (
    ExpectedPayment,
    JournalTransaction,
    LedgerEntry,
    PatientAccount,
    Payment,
    Remittance,
    RemittanceClaim,
)
from billingpulse.tests.factories import PatientFactory, PracticeFactory
from claims.models import Claim
from claims.tests.factories import ClaimFactory


def posted_claim(charge: Decimal | str = "250.00", **kwargs) -> Claim:
    """A claim whose charge is on the books (the money columns start at zero, as a new claim's do)."""
    claim = ClaimFactory(total_charge=Decimal("0.00"), **kwargs)
    services.charge(claim, Decimal(charge), key=f"test-charge:{claim.pk}")
    claim.refresh_from_db()
    return claim


def key() -> str:
    return uuid.uuid4().hex


def snapshot() -> tuple:
    """Everything a posting can change, to show that a refused one changed nothing."""
    from billing.posting import ACCOUNT_AMOUNTS, CLAIM_AMOUNTS

    return (
        JournalTransaction.objects.count(),
        LedgerEntry.objects.count(),
        list(Claim.objects.order_by("pk").values_list("pk", *CLAIM_AMOUNTS, "status")),
        list(PatientAccount.objects.order_by("pk").values_list("pk", *ACCOUNT_AMOUNTS)),
        list(Payment.objects.order_by("pk").values_list("pk", "amount", "refunded_amount", "status")),
        list(ExpectedPayment.objects.order_by("pk").values_list("pk", "status", "received_amount")),
    )


def insurance_payment(claim: Claim, amount: Decimal | str = "100.00", **kwargs) -> Payment:
    """The primary payer's check, all of it applied to ``claim``."""
    kwargs.setdefault("method", Payment.Method.CHECK)
    kwargs.setdefault("payment_date", date(2026, 11, 2))
    return services.record_payment(
        claim.practice,
        key=kwargs.pop("key", None) or key(),
        source=kwargs.pop("source", Payment.Source.PRIMARY),
        amount=Decimal(amount),
        allocations=[services.Allocation(claim, Decimal(amount))],
        payer=claim.payer,
        **kwargs,
    )


def patient_payment(
    patient, amount: Decimal | str = "50.00", allocations: list[tuple[Claim, Decimal | str]] = (), **kwargs
) -> Payment:
    """A patient's payment, applied to ``allocations`` (claim, amount); the rest kept as credit."""
    kwargs.setdefault("method", Payment.Method.CARD)
    kwargs.setdefault("payment_date", date(2026, 11, 2))
    return services.record_payment(
        patient.practice,
        key=kwargs.pop("key", None) or key(),
        source=Payment.Source.PATIENT,
        amount=Decimal(amount),
        patient=patient,
        allocations=[services.Allocation(claim, Decimal(part)) for claim, part in allocations],
        **kwargs,
    )


def busy_ledger(practice) -> dict:
    """A practice's books with one of everything: charges, payments, adjustments, a write-off, a
    transfer to the patient, a patient payment with credit, credit applied, refunds, reversals and
    a voided payment. Returns the rows made, by name."""
    paid = posted_claim("300.00", practice=practice)
    partial = posted_claim("200.00", practice=practice, patient=paid.patient)
    other = posted_claim("150.00", practice=practice)
    check = insurance_payment(paid, "180.00")
    services.adjust(paid, Decimal("70.00"), key=key(), reason="contractual", carc_group="CO", carc_code="45")
    services.transfer(paid, Decimal("50.00"), key=key(), from_responsibility="primary", to_responsibility="patient")
    insurance_payment(partial, "60.00")
    card = patient_payment(paid.patient, "80.00", allocations=[(paid, "30.00")])
    services.apply_credit(paid, Decimal("20.00"), key=key())
    services.refund(card, Decimal("10.00"), key=key(), reason="Overpaid")
    services.refund(check, Decimal("15.00"), key=key(), reason="Payer recoupment", claim=paid)
    wrong = services.adjust(partial, Decimal("25.00"), key=key(), reason="hardship")
    services.reverse(wrong, reason="Posted to the wrong claim")
    services.write_off(other, Decimal("5.00"), key=key(), reason="small_balance")
    voided = insurance_payment(other, "40.00")
    services.void_payment(voided, reason="Check bounced")
    for row in (paid, partial, other):
        row.refresh_from_db()
    return {"paid": paid, "partial": partial, "other": other, "check": check, "card": card, "voided": voided}


class _Posted(factory.django.DjangoModelFactory):
    """Base for factories whose rows come from a posting."""

    class Meta:
        abstract = True

    practice = factory.SubFactory(PracticeFactory)

    @classmethod
    def _create(cls, model_class, practice, **kwargs):
        return cls._post(practice, **kwargs)


class JournalTransactionFactory(_Posted):
    class Meta:
        model = JournalTransaction

    @classmethod
    def _post(cls, practice, charge: str = "250.00", **kwargs):
        claim = posted_claim(charge, practice=practice, **kwargs)
        return claim.ledger.get()


class LedgerEntryFactory(_Posted):
    class Meta:
        model = LedgerEntry

    @classmethod
    def _post(cls, practice, **kwargs):
        return JournalTransactionFactory(practice=practice, **kwargs).entries.first()


class PatientAccountFactory(_Posted):
    class Meta:
        model = PatientAccount

    @classmethod
    def _post(cls, practice, **kwargs):
        return posted_claim(practice=practice, **kwargs).patient.account


class PaymentFactory(_Posted):
    """A completed patient payment, applied to a new claim of the patient."""

    class Meta:
        model = Payment

    @classmethod
    def _post(cls, practice, amount: str = "40.00", reference: str = "CHK-1001", **kwargs):
        claim = posted_claim(practice=practice, **kwargs)
        services.transfer(claim, Decimal(amount), key=key(), from_responsibility="primary", to_responsibility="patient")
        return services.record_payment(
            practice,
            key=key(),
            source=Payment.Source.PATIENT,
            method=Payment.Method.CHECK,
            amount=Decimal(amount),
            payment_date=date(2026, 11, 2),
            reference=reference,
            allocations=[services.Allocation(claim, Decimal(amount))],
        )


class ExpectedPaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExpectedPayment

    practice = factory.SubFactory(PracticeFactory)
    claim = factory.LazyAttribute(lambda o: posted_claim(practice=o.practice))
    amount = Decimal("112.40")
    reference = factory.Sequence(lambda n: f"EFT{881000 + n}")
    payment_date = date(2026, 11, 20)


class RemittanceFactory(factory.django.DjangoModelFactory):
    """A remittance waiting in preview (posting one goes through billing.era)."""

    class Meta:
        model = Remittance

    practice = factory.SubFactory(PracticeFactory)
    file_name = factory.Sequence(lambda n: f"remit-{n}.835")
    content = b"ISA*00*"
    content_sha256 = factory.Sequence(lambda n: f"{n:064x}")
    payer_name = "Orchard Health Plan"
    trace_number = factory.Sequence(lambda n: f"TRC{70000 + n}")
    payment_amount = Decimal("212.40")
    payment_date = date(2026, 11, 18)


class RemittanceClaimFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RemittanceClaim

    class Params:
        practice = factory.SubFactory(PracticeFactory)

    remittance = factory.SubFactory(RemittanceFactory, practice=factory.SelfAttribute("..practice"))
    position = factory.Sequence(lambda n: n + 1)
    status = RemittanceClaim.Status.UNMATCHED
    claim_number = factory.Sequence(lambda n: f"ERA-{n:05d}")
    patient_name = "Quill Marisol"
    claim_status_code = "1"
    charge = Decimal("300.00")
    paid = Decimal("212.40")


__all__ = ["PatientFactory", "busy_ledger", "insurance_payment", "patient_payment", "posted_claim", "snapshot"]
