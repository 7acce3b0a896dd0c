"""seed_demo puts the demo claims' money on the books through billing, so balances show everywhere."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from billing.models import ExpectedPayment, JournalTransaction, LedgerEntry, PatientAccount, Payment, Remittance
from billing.verify import verify
from claims.models import Claim
from claims.tests.ledger_checks import column_amounts, ledger_amounts

pytestmark = pytest.mark.django_db


def _seed() -> None:
    call_command("seed_demo", stdout=StringIO())


def test_every_demo_claims_amounts_equal_the_sums_of_its_ledger_entries():
    _seed()

    # A draft claim (from a signed note) has no charge on the books until it is submitted.
    draft = Claim.objects.get(status="draft")
    assert draft.total_charge == 0 and not draft.ledger.exists()
    claims = list(Claim.objects.exclude(pk=draft.pk))
    assert len(claims) == 40
    for claim in claims:
        assert column_amounts(claim) == ledger_amounts(claim), claim.claim_number
        assert claim.total_charge > 0
    # Every transaction balances, and every patient account is the sum of its claims' receivables.
    for txn in JournalTransaction.objects.prefetch_related("entries"):
        assert sum(entry.amount for entry in txn.entries.all()) == 0
    for account in PatientAccount.objects.all():
        claims_of = [c for c in claims if c.patient_id == account.patient_id]
        assert account.balance == sum((c.balance for c in claims_of), Decimal("0.00")) - account.credit


def test_the_demo_shows_paid_partly_paid_adjusted_and_patient_balances():
    _seed()

    statuses = set(Claim.objects.values_list("status", flat=True))
    assert {"paid", "partially_paid", "denied", "submitted", "in_process"} <= statuses
    paid = Claim.objects.filter(status="paid")
    assert paid.count() >= 4
    assert all(claim.paid_amount > 0 and claim.adjustment_amount > 0 for claim in paid)
    assert all(claim.balance == claim.patient_responsibility for claim in paid)
    kinds = set(JournalTransaction.objects.values_list("kind", flat=True))
    assert kinds == {"charge", "payment", "adjustment", "transfer"}
    checks = Payment.objects.filter(source=Payment.Source.PRIMARY, remittance=None)
    assert checks.exists() and any(payment.ledger.count() > 1 for payment in checks)  # allocated across claims
    # One remittance posted (its claims paid through the ERA), one waiting in preview.
    posted, waiting = Remittance.objects.order_by("status")
    assert (posted.status, waiting.status) == ("posted", "preview")
    assert Claim.objects.filter(ledger__remittance=posted, status="paid").distinct().count() == posted.claim_count
    assert verify() == []
    assert Payment.objects.filter(source=Payment.Source.PATIENT).count() == 1
    assert PatientAccount.objects.filter(patient_balance__gt=0).exists()
    expected = ExpectedPayment.objects.get()
    assert (expected.status, expected.reference, expected.claim.status) == ("expected", "81277", "in_process")
    assert expected.call is not None and expected.call.claim == expected.claim


def test_running_it_twice_posts_nothing_twice():
    _seed()
    before = (
        JournalTransaction.objects.count(),
        LedgerEntry.objects.count(),
        Payment.objects.count(),
        ExpectedPayment.objects.count(),
        list(Claim.objects.order_by("pk").values_list("total_charge", "paid_amount", "balance", "status")),
    )

    _seed()

    after = (
        JournalTransaction.objects.count(),
        LedgerEntry.objects.count(),
        Payment.objects.count(),
        ExpectedPayment.objects.count(),
        list(Claim.objects.order_by("pk").values_list("total_charge", "paid_amount", "balance", "status")),
    )
    assert after == before
