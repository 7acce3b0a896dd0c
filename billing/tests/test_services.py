"""What a biller does to the books: each operation's effect on claims, accounts and payments,
and each mistake refused with a reason and nothing changed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billing import services
from billing.models import ExpectedPayment, JournalTransaction, Payment
from billing.posting import Kind, PostingError
from billing.tests.factories import insurance_payment, key, patient_payment, posted_claim, snapshot
from billing.verify import verify
from claims.models import Claim, ClaimEvent

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def claim(practice) -> Claim:
    return posted_claim("250.00", practice=practice)


def _refused(call, field: str | None, reason: str) -> None:
    """``call()`` raises a PostingError with ``reason`` (on ``field``) and changes nothing."""
    before = snapshot()
    with pytest.raises(PostingError) as refused:
        call()
    error = refused.value
    if field is None:
        assert reason in " ".join(error.messages)
    else:
        assert reason in " ".join(error.message_dict[field])
    assert snapshot() == before


def _pay(practice, amount, allocations=(), **kwargs):
    kwargs.setdefault("source", Payment.Source.PRIMARY)
    kwargs.setdefault("method", Payment.Method.CHECK)
    return services.record_payment(
        practice,
        key=kwargs.pop("key", None) or key(),
        amount=D(amount),
        payment_date=date(2026, 11, 2),
        allocations=[services.Allocation(c, D(a)) for c, a in allocations],
        **kwargs,
    )


def _amounts(claim: Claim) -> tuple:
    claim.refresh_from_db()
    return (claim.total_charge, claim.paid_amount, claim.adjustment_amount, claim.patient_responsibility, claim.balance)


# -- refused ----------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["0.00", "-10.00"])
def test_it_refuses_a_zero_or_negative_payment(practice, claim, amount) -> None:
    _refused(lambda: _pay(practice, amount, [(claim, "10.00")]), "amount", "The amount must be more than zero.")


def test_it_refuses_a_zero_or_negative_allocation(practice, claim) -> None:
    _refused(
        lambda: _pay(practice, "10.00", [(claim, "-5.00")], source=Payment.Source.PATIENT),
        "amount",
        "Each amount applied to a claim must be more than zero.",
    )


def test_it_refuses_allocating_more_than_the_payment(practice, claim) -> None:
    second = posted_claim("100.00", practice=practice, patient=claim.patient)
    _refused(
        lambda: _pay(practice, "100.00", [(claim, "60.00"), (second, "40.01")]),
        "allocations",
        "$100.01 is applied to claims, more than the $100.00 payment.",
    )


def test_it_refuses_an_insurance_payment_not_applied_in_full(practice, claim) -> None:
    _refused(
        lambda: _pay(practice, "100.00", [(claim, "60.00")]),
        "allocations",
        "Apply all of an insurance payment to claims; $40.00 is left.",
    )


def test_it_refuses_a_payment_to_another_practices_claim(practice, other_practice, claim) -> None:
    theirs = posted_claim(practice=other_practice)
    _refused(lambda: _pay(practice, "50.00", [(theirs, "50.00")]), "allocations", "No such claim.")
    assert theirs.ledger.count() == 1


def test_it_refuses_a_refund_to_another_practices_claim(practice, other_practice, claim) -> None:
    payment = insurance_payment(claim, "100.00")
    theirs = posted_claim(practice=other_practice)
    _refused(lambda: services.refund(payment, D("10.00"), key=key(), reason="x", claim=theirs), None, "No such claim.")


def test_it_refuses_a_payment_to_another_patients_claim(practice, claim) -> None:
    stranger = posted_claim(practice=practice)
    _refused(
        lambda: _pay(practice, "50.00", [(stranger, "50.00")], source=Payment.Source.PATIENT, patient=claim.patient),
        "allocations",
        "belongs to another patient",
    )


def test_it_refuses_a_refund_above_what_was_paid(practice, claim) -> None:
    payment = insurance_payment(claim, "100.00")
    services.refund(payment, D("60.00"), key=key(), reason="Overpaid", claim=claim)
    payment.refresh_from_db()
    _refused(
        lambda: services.refund(payment, D("40.01"), key=key(), reason="Overpaid", claim=claim),
        "amount",
        "A refund cannot exceed what was paid: $40.00 is left to refund.",
    )
    services.refund(payment, D("40.00"), key=key(), reason="Overpaid", claim=claim)
    payment.refresh_from_db()
    assert (payment.refunded_amount, payment.status, payment.is_fully_refunded) == (D("100.00"), "refunded", True)
    _refused(
        lambda: services.refund(payment, D("0.01"), key=key(), reason="Again", claim=claim),
        None,
        "A refunded payment cannot be refunded.",
    )


def test_it_refuses_a_refund_from_a_stale_copy_of_the_payment(practice, claim) -> None:
    # The service checks the copy it was given; the posting checks the locked row.
    payment = insurance_payment(claim, "100.00")
    stale = Payment.objects.get(pk=payment.pk)
    services.refund(payment, D("80.00"), key=key(), reason="Overpaid", claim=claim)
    _refused(
        lambda: services.refund(stale, D("30.00"), key=key(), reason="Overpaid", claim=claim),
        None,
        "A refund cannot exceed what was paid: $20.00 of this payment is left to refund.",
    )


def test_it_refuses_a_refund_without_a_reason(practice, claim) -> None:
    payment = insurance_payment(claim, "100.00")
    _refused(lambda: services.refund(payment, D("1.00"), key=key(), reason="  ", claim=claim), "reason", "Say why")


def test_it_refuses_reversing_a_reversal_and_reversing_twice(practice, claim) -> None:
    adjustment = services.adjust(claim, D("20.00"), key=key(), reason="contractual")
    reversal = services.reverse(adjustment, reason="Wrong amount")
    _refused(
        lambda: services.reverse(reversal, reason="Undo the undo"),
        None,
        "A reversal cannot itself be reversed; post the correction instead.",
    )
    _refused(
        lambda: services.reverse(adjustment, reason="Again"),
        None,
        f"Transaction #{adjustment.pk} has already been reversed (#{reversal.pk}).",
    )
    _refused(
        lambda: services.reverse(claim.ledger.first(), reason=""), "reason", "Say why the transaction is reversed."
    )


def test_it_refuses_reversing_a_payment_that_has_refunds(practice, claim) -> None:
    payment = insurance_payment(claim, "100.00")
    services.refund(payment, D("30.00"), key=key(), reason="Overpaid", claim=claim)
    _refused(
        lambda: services.reverse(payment.ledger.get(kind=Kind.PAYMENT), reason="Bounced"),
        None,
        "Reverse this payment's refunds first",
    )


def test_it_refuses_a_key_reused_with_other_content_and_replays_the_same(practice, claim) -> None:
    first = services.adjust(claim, D("20.00"), key="adj-1", reason="contractual")
    before = snapshot()
    assert services.adjust(claim, D("20.00"), key="adj-1", reason="contractual").pk == first.pk
    assert snapshot() == before
    _refused(
        lambda: services.adjust(claim, D("25.00"), key="adj-1", reason="contractual"),
        None,
        f"The key 'adj-1' was already used for a different posting (#{first.pk}).",
    )


def test_it_replays_a_payment_key(practice, claim) -> None:
    payment = _pay(practice, "100.00", [(claim, "100.00")], key="pay-1")
    before = snapshot()
    assert _pay(practice, "100.00", [(claim, "100.00")], key="pay-1").pk == payment.pk
    assert snapshot() == before


def test_it_refuses_applying_more_credit_than_the_patient_has(practice, claim) -> None:
    services.transfer(claim, D("50.00"), key=key(), from_responsibility="primary", to_responsibility="patient")
    patient_payment(claim.patient, "20.00")
    _refused(lambda: services.apply_credit(claim, D("20.01"), key=key()), None, "has only $20.00 of credit")


@pytest.mark.parametrize(
    ("call", "field", "reason"),
    [
        (lambda c: services.charge(c, D("0"), key=key()), "amount", "A charge of zero records nothing."),
        (lambda c: services.adjust(c, D("5"), key=key(), reason="whim"), "reason", "Choose why"),
        (lambda c: services.adjust(c, D("0"), key=key(), reason="other"), "amount", "An adjustment of zero"),
        (lambda c: services.write_off(c, D("5"), key=key(), reason="contractual"), "reason", "Write off for bad debt"),
        (lambda c: services.write_off(c, D("-5"), key=key(), reason="bad_debt"), "amount", "The amount must be"),
        (
            lambda c: services.transfer(
                c, D("5"), key=key(), from_responsibility="patient", to_responsibility="patient"
            ),
            "to_responsibility",
            "Choose who the balance moves to.",
        ),
        (lambda c: services.apply_credit(c, D("0"), key=key()), "amount", "more than zero"),
        (lambda c: services.charge(c, D("1.001"), key=key()), None, "1.001 has more than two decimal places."),
        (
            lambda c: services.charge(c, D("10000000000.00"), key=key()),
            None,
            "10,000,000,000.00 is more than an amount can be.",
        ),
    ],
)
def test_it_refuses_a_mistaken_operation(claim, call, field, reason) -> None:
    _refused(lambda: call(claim), field, reason)


# -- what each operation does -----------------------------------------------------------------


def test_it_moves_a_claim_to_partially_paid_then_paid(practice, claim) -> None:
    insurance_payment(claim, "100.00")
    assert _amounts(claim) == (D("250.00"), D("100.00"), D("0.00"), D("0.00"), D("150.00"))
    assert claim.status == Claim.Status.PARTIALLY_PAID
    services.adjust(claim, D("110.00"), key=key(), reason="contractual", carc_group="CO", carc_code="45")
    services.transfer(claim, D("40.00"), key=key(), from_responsibility="primary", to_responsibility="patient")
    assert _amounts(claim) == (D("250.00"), D("100.00"), D("110.00"), D("40.00"), D("40.00"))
    assert claim.status == Claim.Status.PAID  # the payer owes nothing; the patient's 40.00 is left
    moves = ClaimEvent.objects.filter(claim=claim, kind=ClaimEvent.Kind.STATUS_CHANGED).order_by("id")
    assert list(moves.values_list("from_status", "to_status")) == [
        ("submitted", "partially_paid"),
        ("partially_paid", "paid"),
    ]
    assert moves.last().message == "Paid: $100.00 received; $40.00 left, owed by the patient."
    assert verify() == []


def test_it_transfers_responsibility_to_the_patient_and_the_account_follows(practice, claim) -> None:
    services.transfer(claim, D("250.00"), key=key(), from_responsibility="primary", to_responsibility="secondary")
    services.transfer(claim, D("30.00"), key=key(), from_responsibility="secondary", to_responsibility="patient")
    account = claim.patient.account
    account.refresh_from_db()
    assert (account.insurance_balance, account.patient_balance, account.balance) == (
        D("220.00"),
        D("30.00"),
        D("250.00"),
    )
    assert _amounts(claim)[3:] == (D("30.00"), D("250.00"))
    rows = claim.ledger.order_by("id").values_list("kind", "claim_balance_after", "account_balance_after")
    # A transfer moves who owes, not how much.
    assert list(rows) == [("charge", D("250.00"), D("250.00")), *[("transfer", D("250.00"), D("250.00"))] * 2]
    assert verify() == []


def test_it_keeps_a_patients_remainder_as_credit_and_applies_it(practice, claim) -> None:
    services.transfer(claim, D("50.00"), key=key(), from_responsibility="primary", to_responsibility="patient")
    payment = patient_payment(claim.patient, "80.00", allocations=[(claim, "30.00")])
    account = claim.patient.account
    account.refresh_from_db()
    assert (account.patient_balance, account.credit, account.balance) == (D("20.00"), D("50.00"), D("170.00"))
    assert list(payment.ledger.values_list("claim_id", "amount")) == [(claim.pk, D("30.00")), (None, D("50.00"))]
    services.apply_credit(claim, D("20.00"), key=key())
    account.refresh_from_db()
    assert (account.patient_balance, account.credit, account.balance) == (D("0.00"), D("30.00"), D("170.00"))
    assert _amounts(claim) == (D("250.00"), D("50.00"), D("0.00"), D("0.00"), D("200.00"))
    # The rest of the credit goes back to the patient.
    services.refund(payment, D("30.00"), key=key(), reason="Patient asked")
    account.refresh_from_db()
    payment.refresh_from_db()
    assert (account.credit, payment.refunded_amount, payment.status) == (D("0.00"), D("30.00"), "partially_refunded")
    assert payment.net_payment == D("50.00")
    assert verify() == []


def test_it_voids_a_payment_by_reversing_everything_it_posted(practice, claim) -> None:
    second = posted_claim("100.00", practice=practice, patient=claim.patient)
    payment = _pay(practice, "150.00", [(claim, "100.00"), (second, "50.00")])
    services.refund(payment, D("10.00"), key=key(), reason="Overpaid", claim=second)
    assert Claim.objects.get(pk=claim.pk).status == Claim.Status.PARTIALLY_PAID
    voided = services.void_payment(payment, reason="Check bounced")
    assert (voided.status, voided.refunded_amount) == (Payment.Status.VOIDED, D("0.00"))
    assert _amounts(claim) == (D("250.00"), D("0.00"), D("0.00"), D("0.00"), D("250.00"))
    assert _amounts(second) == (D("100.00"), D("0.00"), D("0.00"), D("0.00"), D("100.00"))
    assert claim.status == Claim.Status.REPROCESSING
    reversals = JournalTransaction.objects.filter(kind=Kind.REVERSAL, payment=payment)
    assert reversals.count() == 3  # the refund's first, then the two allocations
    _refused(lambda: services.void_payment(voided, reason="Again"), None, "This payment is already voided.")
    _refused(
        lambda: services.refund(voided, D("1.00"), key=key(), reason="x", claim=claim),
        None,
        "A voided payment cannot be refunded.",
    )
    assert verify() == []


def test_it_writes_a_claim_off(practice, claim) -> None:
    insurance_payment(claim, "200.00")
    services.write_off(claim, D("50.00"), key=key(), reason="small_balance")
    claim.refresh_from_db()
    assert (claim.balance, claim.adjustment_amount, claim.status) == (D("0.00"), D("50.00"), Claim.Status.PAID)
    unpaid = posted_claim("80.00", practice=practice)
    txn = services.write_off(unpaid, D("80.00"), key=key(), reason="timely_filing")
    unpaid.refresh_from_db()
    assert (txn.kind, txn.reason, unpaid.status) == (Kind.WRITE_OFF, "timely_filing", Claim.Status.WRITTEN_OFF)


def test_it_lowers_a_charge_with_a_negative_one(practice, claim) -> None:
    services.charge(claim, D("-50.00"), key=key(), memo="Corrected charge")
    assert _amounts(claim) == (D("200.00"), D("0.00"), D("0.00"), D("0.00"), D("200.00"))
    assert verify() == []


def test_it_matches_an_expected_payment_and_flags_a_different_amount(practice, claim) -> None:
    same = services.expect_payment(claim, amount=D("120.00"), reference="EFT1")
    other = posted_claim("300.00", practice=practice)
    different = services.expect_payment(other, amount=D("312.40"), reference="81277")
    insurance_payment(claim, "120.00")
    insurance_payment(other, "212.40")
    same.refresh_from_db()
    different.refresh_from_db()
    assert (same.status, same.received_amount, same.difference) == (ExpectedPayment.Status.RECEIVED, D("120.00"), 0)
    assert (different.status, different.received_amount, different.difference) == (
        ExpectedPayment.Status.DIFFERENT,
        D("212.40"),
        D("-100.00"),
    )
    assert same.matched_transaction.claim_id == claim.pk


def test_it_leaves_an_expected_payment_alone_when_the_patient_pays(practice, claim) -> None:
    expected = services.expect_payment(claim, amount=D("120.00"))
    services.transfer(claim, D("20.00"), key=key(), from_responsibility="primary", to_responsibility="patient")
    patient_payment(claim.patient, "20.00", allocations=[(claim, "20.00")])
    expected.refresh_from_db()
    assert expected.status == ExpectedPayment.Status.EXPECTED


# -- the payment status machine ---------------------------------------------------------------


def test_a_pending_payment_posts_nothing_until_it_settles(practice, claim) -> None:
    payment = _pay(practice, "120.00", [(claim, "120.00")], pending=True, key="card-1")
    assert payment.status == Payment.Status.PENDING and not payment.ledger.exists()
    assert _amounts(claim) == (D("250.00"), D("0.00"), D("0.00"), D("0.00"), D("250.00"))
    # The same request again is the same pending payment.
    assert _pay(practice, "120.00", [(claim, "120.00")], pending=True, key="card-1").pk == payment.pk

    completed = services.complete_payment(payment)

    assert completed.status == Payment.Status.COMPLETED
    assert _amounts(claim) == (D("250.00"), D("120.00"), D("0.00"), D("0.00"), D("130.00"))
    assert services.complete_payment(payment).ledger.count() == 1  # settling twice posts once
    assert verify() == []


def test_a_pending_payment_that_fails_never_reaches_the_books(practice, claim) -> None:
    payment = _pay(practice, "120.00", [(claim, "120.00")], pending=True)

    failed = services.fail_payment(payment, reason="Card declined")

    assert failed.status == Payment.Status.FAILED and not failed.ledger.exists()
    _refused(lambda: services.complete_payment(failed), None, "A failed payment cannot be completed.")
    _refused(lambda: services.void_payment(failed, reason="x"), None, "A failed payment cannot be marked voided.")


def test_a_returned_check_reverses_what_it_posted(practice, claim) -> None:
    payment = _pay(practice, "200.00", [(claim, "200.00")])
    assert Claim.objects.get(pk=claim.pk).status == Claim.Status.PARTIALLY_PAID

    failed = services.fail_payment(payment, reason="Returned: insufficient funds")

    assert failed.status == Payment.Status.FAILED
    assert _amounts(claim) == (D("250.00"), D("0.00"), D("0.00"), D("0.00"), D("250.00"))
    assert payment.ledger.filter(kind=Kind.REVERSAL).count() == 1
    _refused(lambda: services.fail_payment(failed, reason="again"), None, "This payment is already failed.")
    assert verify() == []


def test_a_refunded_payment_cannot_fail_and_a_reversed_refund_completes_it_again(practice, claim) -> None:
    payment = _pay(practice, "50.00", [(claim, "50.00")])
    refund = services.refund(payment, D("50.00"), key=key(), reason="Paid twice", claim=claim)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED
    _refused(lambda: services.fail_payment(payment, reason="x"), None, "A refunded payment cannot be marked failed.")

    services.reverse(refund, reason="Refund check never sent")

    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == (Payment.Status.COMPLETED, D("0.00"))
    assert verify() == []
