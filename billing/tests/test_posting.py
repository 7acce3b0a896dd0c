"""The posting service: what it refuses (with a reason, changing nothing), idempotency keys,
the append-only ledger, running balances and the number of queries a batch takes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from billing.models import Account, AppendOnlyError, JournalTransaction, LedgerEntry
from billing.posting import Kind, Leg, Posting, PostingError, Source, post, post_many, reversal_of
from billing.tests.factories import key, posted_claim, snapshot
from billing.verify import verify
from billingpulse.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="The trigger is PostgreSQL's.")


@pytest.fixture
def claim(practice):
    return posted_claim("250.00", practice=practice)


def _payment_posting(claim, amount: str = "100.00", **kwargs) -> Posting:
    kwargs.setdefault("idempotency_key", key())
    return Posting(
        kind=Kind.PAYMENT,
        source=Source.MANUAL,
        legs=[Leg(Account.CASH, Decimal(amount)), Leg(Account.PRIMARY_AR, -Decimal(amount))],
        claim=claim,
        **kwargs,
    )


def _refused(practice, posting: Posting, reason: str) -> None:
    before = snapshot()
    with pytest.raises(PostingError) as refused:
        post(practice, posting)
    assert reason in " ".join(refused.value.messages)
    assert snapshot() == before


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("legs", "reason"),
    [
        ([("cash", "100.00"), ("primary_ar", "-99.99")], "The entries of a posting must sum to zero."),
        ([("cash", "100.00")], "The entries of a posting must sum to zero."),
        ([], "A posting needs at least two entries."),
        ([("cash", "10.005"), ("primary_ar", "-10.005")], "10.005 has more than two decimal places."),
        ([("cash", "0.00"), ("primary_ar", "0.00")], "An entry of zero records nothing."),
        (
            [("cash", "10000000000.00"), ("primary_ar", "-10000000000.00")],
            "10,000,000,000.00 is more than an amount can be.",
        ),
        ([("cash", "NaN"), ("primary_ar", "NaN")], "Amounts are exact decimal numbers."),
        ([("petty_cash", "1.00"), ("primary_ar", "-1.00")], "'petty_cash' is not a ledger account."),
    ],
)
def test_it_refuses_bad_legs(practice, claim, legs, reason) -> None:
    posting = _payment_posting(claim)
    posting.legs = [Leg(account, Decimal(amount)) for account, amount in legs]
    _refused(practice, posting, reason)


def test_it_refuses_a_float(practice, claim) -> None:
    posting = _payment_posting(claim)
    posting.legs = [Leg(Account.CASH, 0.1), Leg(Account.PRIMARY_AR, -0.1)]
    _refused(practice, posting, "Amounts are exact decimal numbers.")


def test_it_refuses_a_balance_beyond_twelve_digits(practice) -> None:
    claim = posted_claim("9999999999.99", practice=practice)
    posting = Posting(
        kind=Kind.CHARGE,
        source=Source.MANUAL,
        legs=[Leg(Account.PRIMARY_AR, Decimal("0.01")), Leg(Account.CHARGES, Decimal("-0.01"))],
        idempotency_key=key(),
        claim=claim,
    )
    _refused(practice, posting, "The posting would make a balance larger than an amount can be.")


def test_it_refuses_another_practices_claim(practice, other_practice) -> None:
    theirs = posted_claim(practice=other_practice)
    _refused(practice, _payment_posting(theirs), "No such claim.")
    assert theirs.ledger.count() == 1


def test_it_refuses_another_practices_patient(practice, other_practice) -> None:
    posting = Posting(
        kind=Kind.PAYMENT,
        source=Source.MANUAL,
        legs=[Leg(Account.CASH, Decimal("5.00")), Leg(Account.UNAPPLIED, Decimal("-5.00"))],
        idempotency_key=key(),
        patient=PatientFactory(practice=other_practice),
    )
    _refused(practice, posting, "No such patient.")


def test_it_refuses_a_claim_of_another_patient(practice, claim) -> None:
    posting = _payment_posting(claim, patient=PatientFactory(practice=practice))
    _refused(practice, posting, "The claim belongs to another patient.")


def test_it_refuses_a_receivable_without_a_claim(practice) -> None:
    posting = _payment_posting(None, patient=PatientFactory(practice=practice))
    _refused(practice, posting, "A receivable entry belongs to a claim.")


def test_it_refuses_credit_without_a_patient(practice) -> None:
    posting = Posting(
        kind=Kind.PAYMENT,
        source=Source.MANUAL,
        legs=[Leg(Account.CASH, Decimal("5.00")), Leg(Account.UNAPPLIED, Decimal("-5.00"))],
        idempotency_key=key(),
    )
    _refused(practice, posting, "Unapplied credit belongs to a patient.")


def test_it_refuses_spending_more_credit_than_the_patient_has(practice, claim) -> None:
    posting = Posting(
        kind=Kind.CREDIT_APPLIED,
        source=Source.MANUAL,
        legs=[Leg(Account.UNAPPLIED, Decimal("5.00")), Leg(Account.PATIENT_AR, Decimal("-5.00"))],
        idempotency_key=key(),
        claim=claim,
    )
    _refused(practice, posting, "has only $0.00 of credit")


@pytest.mark.parametrize("bad_key", ["", "k" * 121])
def test_it_refuses_a_missing_or_overlong_key(practice, claim, bad_key) -> None:
    _refused(practice, _payment_posting(claim, idempotency_key=bad_key), "idempotency key of at most 120 characters")


def test_it_refuses_a_reversal_naming_nothing(practice, claim) -> None:
    posting = _payment_posting(claim)
    posting.kind = Kind.REVERSAL
    _refused(practice, posting, "A reversal names the transaction it reverses, and only a reversal does.")


def test_it_refuses_reversing_a_reversal(practice, claim) -> None:
    payment = post(practice, _payment_posting(claim))
    reversal = post(practice, reversal_of(payment, reason="Wrong claim", actor=None))
    _refused(
        practice,
        reversal_of(reversal, reason="Undo", actor=None),
        "A reversal cannot itself be reversed; post the correction instead.",
    )


def test_it_refuses_reversing_twice(practice, claim) -> None:
    payment = post(practice, _payment_posting(claim))
    post(practice, reversal_of(payment, reason="Wrong claim", actor=None))
    again = reversal_of(payment, reason="Wrong claim again", actor=None)
    _refused(practice, again, f"Transaction #{payment.pk} has already been reversed")
    again.idempotency_key = key()  # under a new key the reversal is still refused
    _refused(practice, again, f"Transaction #{payment.pk} has already been reversed")


def test_it_refuses_reversing_twice_in_one_batch(practice, claim) -> None:
    payment = post(practice, _payment_posting(claim))
    first, second = (reversal_of(payment, reason="Twice", actor=None) for _ in range(2))
    second.idempotency_key = key()
    before = snapshot()
    with pytest.raises(PostingError, match="already been reversed"):
        post_many(practice, [first, second])
    assert snapshot() == before


def test_it_posts_a_batch_entirely_or_not_at_all(practice, claim) -> None:
    good = _payment_posting(claim, "10.00")
    bad = _payment_posting(claim, "20.00")
    bad.legs = [Leg(Account.CASH, Decimal("20.00")), Leg(Account.PRIMARY_AR, Decimal("-19.00"))]
    before = snapshot()
    with pytest.raises(PostingError):
        post_many(practice, [good, bad])
    assert snapshot() == before


def test_it_refuses_one_key_twice_in_a_batch(practice, claim) -> None:
    postings = [_payment_posting(claim, "1.00", idempotency_key="same") for _ in range(2)]
    before = snapshot()
    with pytest.raises(PostingError, match="Two postings in one batch share an idempotency key."):
        post_many(practice, postings)
    assert snapshot() == before


# -- idempotency ------------------------------------------------------------------------------


def test_it_replays_a_key_with_the_same_content(practice, claim) -> None:
    first = post(practice, _payment_posting(claim, idempotency_key="pay-1"))
    before = snapshot()
    again = post(practice, _payment_posting(claim, idempotency_key="pay-1", memo=""))
    assert again.pk == first.pk
    assert snapshot() == before
    claim.refresh_from_db()
    assert claim.paid_amount == Decimal("100.00")


def test_it_refuses_a_key_reused_for_other_content(practice, claim) -> None:
    first = post(practice, _payment_posting(claim, idempotency_key="pay-1"))
    _refused(
        practice,
        _payment_posting(claim, "100.01", idempotency_key="pay-1"),
        f"The key 'pay-1' was already used for a different posting (#{first.pk}).",
    )


def test_it_keeps_keys_per_practice(practice, other_practice, claim) -> None:
    theirs = posted_claim(practice=other_practice)
    mine = post(practice, _payment_posting(claim, idempotency_key="pay-1"))
    their_txn = post(other_practice, _payment_posting(theirs, idempotency_key="pay-1"))
    assert mine.pk != their_txn.pk


# -- append-only ------------------------------------------------------------------------------


def test_it_refuses_changing_or_deleting_ledger_rows(practice, claim) -> None:
    txn = claim.ledger.get()
    entry = txn.entries.first()
    before = snapshot()
    for queryset, change in ((JournalTransaction.objects, {"memo": "x"}), (LedgerEntry.objects, {"amount": 1})):
        with pytest.raises(AppendOnlyError, match="cannot be changed; post a reversal"):
            queryset.filter(practice=practice).update(**change)
        with pytest.raises(AppendOnlyError, match="cannot be deleted; post a reversal"):
            queryset.filter(practice=practice).delete()
    for row in (txn, entry):
        with pytest.raises(AppendOnlyError, match="cannot be changed; post a reversal"):
            row.save()
        with pytest.raises(AppendOnlyError, match="cannot be deleted; post a reversal"):
            row.delete()
    assert snapshot() == before


@on_postgresql
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE billing_ledgerentry SET amount = amount * 2",
        "DELETE FROM billing_ledgerentry",
        "UPDATE billing_journaltransaction SET memo = 'edited'",
        "DELETE FROM billing_journaltransaction",
    ],
)
def test_it_refuses_raw_sql_changes_in_postgresql(claim, statement) -> None:
    before = snapshot()
    with (
        pytest.raises(DatabaseError, match="ledger rows are append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert snapshot() == before


# -- running balances and projections ---------------------------------------------------------


def test_it_stores_each_transactions_running_balances(practice, claim) -> None:
    credit = Posting(
        kind=Kind.PAYMENT,
        source=Source.MANUAL,
        legs=[Leg(Account.CASH, Decimal("30.00")), Leg(Account.UNAPPLIED, Decimal("-30.00"))],
        idempotency_key=key(),
        patient=claim.patient,
    )
    post_many(practice, [_payment_posting(claim, "100.00"), _payment_posting(claim, "50.00"), credit])
    rows = claim.patient.ledger.order_by("id").values_list("kind", "claim_balance_after", "account_balance_after")
    assert [(kind, str(c) if c is not None else None, str(a)) for kind, c, a in rows] == [
        ("charge", "250.00", "250.00"),
        ("payment", "150.00", "150.00"),
        ("payment", "100.00", "100.00"),
        ("payment", None, "70.00"),
    ]
    claim.refresh_from_db()
    account = claim.patient.account
    assert (claim.paid_amount, claim.balance) == (Decimal("150.00"), Decimal("100.00"))
    assert (account.insurance_balance, account.credit, account.balance) == (
        Decimal("100.00"),
        Decimal("30.00"),
        Decimal("70.00"),
    )
    assert verify() == []


def test_it_writes_fifty_postings_in_no_more_queries_than_five(practice, django_assert_max_num_queries) -> None:
    claims = [posted_claim("100.00", practice=practice) for _ in range(55)]
    postings = [_payment_posting(c, "40.00") for c in claims]  # each loads its claim's patient
    with CaptureQueriesContext(connection) as five:
        post_many(practice, postings[:5])
    # Open and lock the accounts, lock the claims, look up the keys, insert the transactions and
    # entries, update claims and accounts, move claim statuses (with their events); savepoints.
    assert len(five) <= 14
    # SQLite takes at most 999 parameters a statement, so a 50-row INSERT of transactions is split in two.
    split = 0 if connection.vendor == "postgresql" else 1
    with django_assert_max_num_queries(len(five) + split):
        post_many(practice, postings[5:])
    assert verify() == []
