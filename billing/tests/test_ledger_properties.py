"""Random sequences of everything a biller can do keep every ledger invariant (PostgreSQL).

A hypothesis state machine posts charges, insurance and patient payments (with allocations,
some beyond the payment), adjustments and write-offs, refunds (some too large), transfers of
responsibility, applied credit, reversals of any transaction (reversals and already reversed
ones included), voids and idempotent replays. After every step ``verify()`` finds nothing and
all entries sum to zero; a refused step changed nothing.

Set-up: the test is ``django_db(transaction=True)`` and runs the machine with
``run_state_machine_as_test`` inside it, so each posting commits for real (the append-only
triggers and ``select_for_update`` run as in production); every example makes its own
practice, so the rows examples leave behind are just more books that must add up, and the
tables are flushed once at the end. ``LEDGER_PROFILE=deep`` runs many more, longer examples.
"""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from billing import services
from billing.models import AdjustmentReason, JournalTransaction, LedgerEntry, Payment
from billing.posting import Kind, PostingError
from billing.tests.factories import key, posted_claim, snapshot
from billing.verify import verify
from billingpulse.tests.factories import PatientFactory, PracticeFactory

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="The ledger's property test runs on PostgreSQL."),
    pytest.mark.django_db(transaction=True),
]

PROFILES = {
    # CI runs the same examples every time (a failure there is reproducible, never a lucky draw);
    # the deep profile draws new ones on every run.
    "quick": settings(max_examples=25, stateful_step_count=30, derandomize=True),
    "deep": settings(max_examples=300, stateful_step_count=60),
}
PROFILE = os.environ.get("LEDGER_PROFILE", "quick")
if PROFILE not in PROFILES:
    raise pytest.UsageError(f"LEDGER_PROFILE is one of {', '.join(PROFILES)}, not {PROFILE!r}")

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("400.00"), places=2)
RESPONSIBILITIES = ["primary", "secondary", "tertiary", "patient"]
INSURANCE = [Payment.Source.PRIMARY, Payment.Source.SECONDARY, Payment.Source.TERTIARY]


class Ledger(RuleBasedStateMachine):
    transactions = Bundle("transactions")
    payments = Bundle("payments")

    def __init__(self) -> None:
        super().__init__()
        self.replays: list[tuple] = []  # (operation, arguments, result) to send again
        self.refused = 0

    @initialize()
    def books(self) -> None:
        self.practice = PracticeFactory()
        patients = [PatientFactory(practice=self.practice) for _ in range(2)]
        self.claims = [
            posted_claim(charge, practice=self.practice, patient=patient)
            for patient, charge in zip(patients * 2, ["300.00", "120.00", "80.00", "950.00"], strict=True)
        ]
        # Every kind of step must be reachable from the start, not only after a lucky sequence: the
        # first patient owes part of the first claim and has a payment on account to apply to it.
        services.transfer(
            self.claims[0], Decimal("150.00"), key=key(), from_responsibility="primary", to_responsibility="patient"
        )
        services.record_payment(
            self.practice,
            key=key(),
            source=Payment.Source.PATIENT,
            method=Payment.Method.CARD,
            amount=Decimal("200.00"),
            payment_date=date(2026, 11, 1),
            allocations=[],
            patient=patients[0],
        )

    # -- helpers ------------------------------------------------------------------------------

    def _do(self, operation, *args, **kwargs):
        """Run an operation; a refusal must change nothing. Remember it for a replay."""
        before = snapshot()
        try:
            result = operation(*args, **kwargs)
        except PostingError as error:
            assert error.messages and all(message.strip() for message in error.messages)
            assert snapshot() == before
            self.refused += 1
            return None
        if "key" in kwargs:
            self.replays.append((operation, args, kwargs, result))
        return result

    def _fresh(self, row):
        return type(row).objects.get(pk=row.pk)

    # -- rules --------------------------------------------------------------------------------

    @rule(target=transactions, claim=st.integers(0, 3), amount=amounts, lower=st.booleans())
    def charge(self, claim, amount, lower):
        return self._do(services.charge, self._fresh(self.claims[claim]), -amount if lower else amount, key=key())

    @rule(
        target=payments,
        claims=st.lists(st.integers(0, 3), min_size=1, max_size=2, unique=True),
        parts=st.lists(amounts, min_size=2, max_size=2),
        source=st.sampled_from(INSURANCE),
    )
    def insurance_payment(self, claims, parts, source):
        allocations = [
            services.Allocation(self._fresh(self.claims[c]), part) for c, part in zip(claims, parts, strict=False)
        ]
        return self._do(
            services.record_payment,
            self.practice,
            key=key(),
            source=source,
            method=Payment.Method.EFT,
            amount=sum(a.amount for a in allocations),
            payment_date=date(2026, 11, 2),
            allocations=allocations,
        )

    @rule(target=payments, patient=st.integers(0, 1), amount=amounts, applied=st.lists(amounts, max_size=2))
    def patient_payment(self, patient, amount, applied):
        claims = [self._fresh(c) for c in self.claims[patient::2]]
        allocations = [services.Allocation(c, part) for c, part in zip(claims, applied, strict=False)]
        return self._do(
            services.record_payment,
            self.practice,
            key=key(),
            source=Payment.Source.PATIENT,
            method=Payment.Method.CARD,
            amount=amount,  # allocations beyond it are refused
            payment_date=date(2026, 11, 2),
            allocations=allocations,
            patient=claims[0].patient,
        )

    @rule(
        target=transactions,
        claim=st.integers(0, 3),
        amount=amounts,
        reason=st.sampled_from(AdjustmentReason.values),
        who=st.sampled_from(RESPONSIBILITIES),
    )
    def adjust(self, claim, amount, reason, who):
        return self._do(
            services.adjust, self._fresh(self.claims[claim]), amount, key=key(), reason=reason, responsibility=who
        )

    @rule(
        target=transactions,
        claim=st.integers(0, 3),
        amount=amounts,
        origin=st.sampled_from(RESPONSIBILITIES),
        to=st.sampled_from(RESPONSIBILITIES),
    )
    def transfer(self, claim, amount, origin, to):
        return self._do(
            services.transfer,
            self._fresh(self.claims[claim]),
            amount,
            key=key(),
            from_responsibility=origin,
            to_responsibility=to,
        )

    @rule(target=transactions, claim=st.integers(0, 3), amount=amounts)
    def apply_credit(self, claim, amount):
        return self._do(services.apply_credit, self._fresh(self.claims[claim]), amount, key=key())

    @rule(target=transactions, payment=payments, share=st.decimals("0.01", "1.50", places=2), claim=st.integers(0, 4))
    def refund(self, payment, share, claim):
        if payment is None:
            return None
        payment = self._fresh(payment)
        # A share above 1 asks for more than the payment has left: refused.
        amount = max((payment.amount - payment.refunded_amount) * share, Decimal("0.01")).quantize(Decimal("0.01"))
        on_claim = None
        if payment.source != Payment.Source.PATIENT or claim == 4:
            allocated = payment.ledger.filter(kind=Kind.PAYMENT, claim__isnull=False).first()
            on_claim = allocated.claim if allocated else self._fresh(self.claims[claim % 4])
        return self._do(services.refund, payment, amount, key=key(), reason="Refund", claim=on_claim)

    @rule(target=transactions, txn=transactions)
    def reverse(self, txn):
        if txn is None:
            return None
        # Any transaction: a reversal, or one already reversed, is refused.
        return self._do(services.reverse, JournalTransaction.objects.get(pk=txn.pk), reason="Mistake")

    @rule(payment=payments)
    def void(self, payment):
        if payment is not None:
            self._do(services.void_payment, self._fresh(payment), reason="Bounced")

    @rule(data=st.data())
    def replay(self, data):
        if not self.replays:
            return
        operation, args, kwargs, result = data.draw(st.sampled_from(self.replays))
        before = snapshot()
        again = operation(*args, **kwargs)
        assert again.pk == result.pk
        assert snapshot() == before

    @rule(data=st.data())
    def reuse_a_key_for_something_else(self, data):
        charges = [r for r in self.replays if r[0] is services.charge]
        if not charges:
            return
        _operation, (claim, amount), kwargs, _result = data.draw(st.sampled_from(charges))
        before = snapshot()
        with pytest.raises(PostingError, match="already used for a different posting"):
            services.charge(claim, amount + Decimal("0.01"), **kwargs)
        assert snapshot() == before

    # -- invariants ---------------------------------------------------------------------------

    @invariant()
    def books_add_up(self):
        assert verify(self.practice) == []

    @invariant()
    def entries_sum_to_zero(self):
        entries = LedgerEntry.objects.filter(practice=self.practice)
        assert (entries.aggregate(total=Sum("amount"))["total"] or 0) == 0


def test_it_keeps_every_invariant_under_any_sequence_of_postings() -> None:
    with connection.cursor() as cursor:
        # Thousands of small commits: don't wait for each to reach the disk (this session only).
        cursor.execute("SET synchronous_commit TO off")
    run_state_machine_as_test(
        Ledger,
        settings=settings(
            PROFILES[PROFILE],
            deadline=None,
            database=None,  # no example database left in the checkout
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        ),
    )
    # Every example's books, side by side, still add up; and every kind of step was taken.
    assert verify() == []
    assert LedgerEntry.objects.aggregate(total=Sum("amount"))["total"] == 0
    kinds = set(JournalTransaction.objects.values_list("kind", flat=True))
    assert {Kind.CHARGE, Kind.PAYMENT, Kind.REFUND, Kind.TRANSFER, Kind.REVERSAL, Kind.CREDIT_APPLIED} <= kinds
