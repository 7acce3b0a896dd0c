"""Many billers posting to the same patients and claims at once, on PostgreSQL.

Each thread has its own database connection and real transactions. The posting service locks
patient accounts, then claims, then payments, each in id order, so no two postings deadlock:
a deadlock would surface as an exception in a thread and fail ``at_once``. A posting may be
refused (a refund beyond what is left, a transaction already reversed), never half-written.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from billing import services
from billing.models import RECEIVABLES, JournalTransaction, LedgerEntry, Payment
from billing.posting import Kind, PostingError
from billing.tests.factories import insurance_payment, key, patient_payment, posted_claim
from billing.verify import verify
from billingpulse.tests.concurrency import at_once
from billingpulse.tests.factories import PatientFactory, PracticeFactory
from claims.models import Claim

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="Concurrent writers need PostgreSQL."),
    pytest.mark.django_db(transaction=True),
]

N = 8
D = Decimal


@pytest.fixture
def books():
    practice = PracticeFactory()
    patients = [PatientFactory(practice=practice) for _ in range(2)]
    claims = [posted_claim("5000.00", practice=practice, patient=patients[i % 2]) for i in range(4)]
    for claim in claims:
        services.transfer(claim, D("1000.00"), key=key(), from_responsibility="primary", to_responsibility="patient")
    payments = [insurance_payment(claim, "300.00") for claim in claims]
    adjustments = [services.adjust(claim, D("5.00"), key=key(), reason="other") for claim in claims]
    return practice, patients, claims, payments, adjustments


def _busy_biller(number: int, practice, patients, claims, payments, adjustments):
    """One biller's run of postings, touching every claim in a different order; the refusals it met."""
    rng = random.Random(number)

    def run() -> Counter:
        refused: Counter = Counter()

        def attempt(name, operation, *args, **kwargs):
            try:
                operation(*args, **kwargs)
            except PostingError:
                refused[name] += 1

        for round_ in range(4):
            order = rng.sample(range(4), 4)
            # An insurance payment across two claims (allocations in either order).
            first, second = (Claim.objects.get(pk=claims[i].pk) for i in order[:2])
            attempt(
                "payment",
                services.record_payment,
                practice,
                key=key(),
                source=Payment.Source.PRIMARY,
                method=Payment.Method.EFT,
                amount=D("30.00"),
                payment_date=date(2026, 11, 2),
                allocations=[services.Allocation(first, D("20.00")), services.Allocation(second, D("10.00"))],
            )
            # A patient's payment across both of the patient's claims, the rest as credit.
            patient = patients[(number + round_) % 2]
            mine = [Claim.objects.get(pk=c.pk) for c in claims if c.patient_id == patient.pk]
            attempt(
                "patient payment",
                patient_payment,
                patient,
                "25.00",
                allocations=[(mine[round_ % 2], "10.00"), (mine[(round_ + 1) % 2], "5.00")],
            )
            claim = Claim.objects.get(pk=claims[order[2]].pk)
            attempt("adjustment", services.adjust, claim, D("1.50"), key=key(), reason="contractual")
            attempt("credit", services.apply_credit, claim, D("2.00"), key=key())
            attempt(
                "transfer",
                services.transfer,
                claim,
                D("3.00"),
                key=key(),
                from_responsibility="primary",
                to_responsibility="secondary",
            )
            # Refunds of the shared payments: together they ask for more than was paid.
            payment = Payment.objects.get(pk=payments[order[3]].pk)
            attempt("refund", services.refund, payment, D("45.00"), key=key(), reason="Overpaid", claim=claim)
            # Every biller reverses the same adjustments: one reversal of each wins.
            original = JournalTransaction.objects.get(pk=adjustments[(number + round_) % 4].pk)
            attempt("reversal", services.reverse, original, reason=f"Mistake seen by biller {number}")
        return refused

    return run


def test_it_keeps_the_books_under_many_concurrent_postings(books) -> None:
    practice, patients, claims, payments, adjustments = books
    refusals = at_once([_busy_biller(n, *books) for n in range(N)])
    assert verify() == []
    assert (LedgerEntry.objects.aggregate(total=Sum("amount"))["total"]) == 0
    # Nothing was lost: every biller's insurance and patient payments are there.
    assert Payment.objects.filter(practice=practice).count() == len(payments) + 2 * N * 4
    total = Counter()
    for refused in refusals:
        total.update(refused)
    assert total["payment"] == total["patient payment"] == total["adjustment"] == total["transfer"] == 0
    # Each shared payment of 300.00 took at most six 45.00 refunds; the rest were refused.
    for payment in Payment.objects.filter(pk__in=[p.pk for p in payments]):
        assert payment.refunded_amount <= payment.amount
        assert payment.refunded_amount == D("45.00") * payment.ledger.filter(kind=Kind.REFUND).count()
    assert total["refund"] == N * 4 - sum(p.ledger.filter(kind=Kind.REFUND).count() for p in payments)
    # Each adjustment was reversed exactly once, whoever got there first.
    for adjustment in adjustments:
        assert JournalTransaction.objects.filter(reverses=adjustment).count() == 1
    assert total["reversal"] == N * 4 - len(adjustments)
    # The balances are the sums of their entries.
    for claim in Claim.objects.filter(pk__in=[c.pk for c in claims]):
        owed = LedgerEntry.objects.filter(claim=claim, account__in=RECEIVABLES).aggregate(total=Sum("amount"))
        assert claim.balance == owed["total"]
    for patient in patients:
        patient.account.refresh_from_db()
        entries = LedgerEntry.objects.filter(patient=patient, account__in=[*RECEIVABLES, "unapplied"])
        assert patient.account.balance == entries.aggregate(total=Sum("amount"))["total"]


def test_it_reverses_a_transaction_once_when_two_billers_reverse_it_at_once(books) -> None:
    _practice, _patients, _claims, _payments, adjustments = books
    original = adjustments[0]
    outcomes = at_once(
        [
            lambda n=n: _outcome(
                lambda: services.reverse(JournalTransaction.objects.get(pk=original.pk), reason=f"r{n}")
            )
            for n in range(N)
        ]
    )
    assert JournalTransaction.objects.filter(reverses=original).count() == 1
    reversal = JournalTransaction.objects.get(reverses=original)
    assert sorted(outcomes, key=str) == sorted([reversal.pk] + ["refused"] * (N - 1), key=str)
    assert verify() == []


def test_it_replays_one_reversal_when_billers_send_the_same_one_at_once(books) -> None:
    original = books[4][1]
    outcomes = at_once(
        [lambda: _outcome(lambda: services.reverse(JournalTransaction.objects.get(pk=original.pk), reason="Same"))] * N
    )
    reversal = JournalTransaction.objects.get(reverses=original)
    # Each is the reversal itself, or (racing the insert) told it was made a moment ago.
    assert set(outcomes) <= {reversal.pk, "refused"} and reversal.pk in outcomes
    assert verify() == []


def test_it_posts_one_transaction_for_one_key_sent_at_once(books) -> None:
    practice, _patients, claims, _payments, _adjustments = books
    charged = at_once([lambda: _outcome(lambda: services.charge(claims[0], D("75.00"), key="charge-once"))] * N)
    (charge,) = JournalTransaction.objects.filter(practice=practice, idempotency_key="charge-once")
    # Every sender gets the one charge back, as a replay would.
    assert charged == [charge.pk] * N

    def pay():
        return services.record_payment(
            practice,
            key="pay-once",
            source=Payment.Source.PRIMARY,
            method=Payment.Method.EFT,
            amount=D("40.00"),
            payment_date=date(2026, 11, 2),
            allocations=[services.Allocation(claims[1], D("40.00"))],
        )

    paid = at_once([lambda: _outcome(pay)] * N)
    (txn,) = JournalTransaction.objects.filter(practice=practice, idempotency_key="pay-once:1")
    assert Payment.objects.filter(ledger__idempotency_key="pay-once:1").count() == 1
    assert paid == [txn.payment_id] * N
    # The losers' payments were rolled back with their postings.
    assert Payment.objects.filter(practice=practice, amount=D("40.00")).count() == 1
    assert verify() == []


def _outcome(call):
    try:
        return call().pk
    except PostingError:
        return "refused"
