"""verify_ledger: a clean ledger passes; each kind of corruption is named, with its row.

Corrupt rows are written around the append-only guards: projections with a queryset
``update()`` (claims, accounts and payments are ordinary rows), new ledger rows with a plain
``save()`` (creating is allowed, only changing is not), and changes to ledger rows with raw
SQL — on PostgreSQL with triggers switched off for this transaction only, as only a
superuser could.
"""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from billing import services
from billing.models import (
    Account,
    JournalTransaction,
    LedgerEntry,
    PatientAccount,
    Payment,
    Remittance,
)
from billing.posting import Kind, Leg, Posting, Source, post
from billing.tests.factories import RemittanceFactory, busy_ledger, insurance_payment, key, posted_claim
from billing.verify import Rule, Violation, checked, verify
from claims.models import Claim
from claims.tests.factories import ClaimFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(practice) -> dict:
    return busy_ledger(practice)


def _tamper(sql: str, params: list) -> None:
    """Change ledger rows behind the service's back (the trigger refuses it on PostgreSQL)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")


def _entry(txn: JournalTransaction, account: Account) -> LedgerEntry:
    return txn.entries.get(account=account)


def _run(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_ledger", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return exit_.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def _named(violations: list[Violation], kind: str, row_type: str, row_id: int) -> Violation:
    matches = [v for v in violations if (v.kind, v.row_type, v.row_id) == (kind, row_type, row_id)]
    assert matches, f"no {kind} violation for {row_type} #{row_id} in {violations}"
    return matches[0]


def test_it_finds_nothing_wrong_with_books_the_service_wrote(books, practice) -> None:
    assert verify() == []
    assert verify(practice) == []
    assert checked(practice).transactions == JournalTransaction.objects.filter(practice=practice).count() > 15
    code, out, err = _run()
    assert code == 0
    assert out.strip() == f"Ledger OK: {checked().transactions} transactions, 3 claims, 2 accounts checked"
    assert err == ""


def test_it_passes_an_empty_ledger(db) -> None:
    assert _run() == (0, "Ledger OK: 0 transactions, 0 claims, 0 accounts checked\n", "")


def test_it_names_a_transaction_whose_entries_do_not_sum_to_zero(books) -> None:
    txn = books["paid"].ledger.filter(kind=Kind.ADJUSTMENT).get()
    _tamper(
        f"UPDATE {LedgerEntry._meta.db_table} SET amount = %s WHERE id = %s", ["69.00", _entry(txn, "contractual").pk]
    )
    found = _named(verify(), Rule.UNBALANCED, "transaction", txn.pk)
    assert found.message == ("its entries sum to -1.00, not zero; its amount 70.00 is not the sum of its debits 69.00.")
    code, out, err = _run()
    assert code == 1
    assert f"{Rule.UNBALANCED}: transaction #{txn.pk}: its entries sum to -1.00" in out
    assert "Ledger NOT OK" in err


def test_it_names_a_transaction_with_a_single_entry(books, practice) -> None:
    lonely = JournalTransaction(
        practice=practice,
        kind=Kind.PROVIDER_ADJUSTMENT,
        source=Source.MANUAL,
        amount=Decimal("0.00"),
        effective_date=books["check"].payment_date,
        idempotency_key="lonely",
        content_hash="-",
    )
    lonely.save()
    found = _named(verify(), Rule.UNBALANCED, "transaction", lonely.pk)
    assert found.message == "has 0 entries, fewer than two."


def test_it_names_an_entry_on_another_patient_than_its_transaction(books) -> None:
    txn = books["other"].ledger.filter(kind=Kind.WRITE_OFF).get()
    entry = _entry(txn, "write_off")
    _tamper(
        f"UPDATE {LedgerEntry._meta.db_table} SET patient_id = %s WHERE id = %s", [books["paid"].patient_id, entry.pk]
    )
    found = _named(verify(), Rule.ENTRY_MISMATCH, "entry", entry.pk)
    assert f"transaction #{txn.pk}" in found.message
    assert f"patient {books['paid'].patient_id} differs" in found.message


def test_it_names_a_transaction_on_another_practices_claim(books, other_practice) -> None:
    stranger = posted_claim(practice=other_practice)
    txn = books["other"].ledger.filter(kind=Kind.WRITE_OFF).get()
    _tamper(f"UPDATE {JournalTransaction._meta.db_table} SET claim_id = %s WHERE id = %s", [stranger.pk, txn.pk])
    found = _named(verify(), Rule.FOREIGN_ROW, "transaction", txn.pk)
    assert f"its claim belongs to practice #{other_practice.pk}" in found.message
    assert "its claim is patient" in found.message


def test_it_names_a_claim_whose_paid_amount_was_edited(books) -> None:
    claim = books["partial"]
    Claim.objects.filter(pk=claim.pk).update(paid_amount=Decimal("75.00"))
    found = _named(verify(), Rule.CLAIM_AMOUNTS, "claim", claim.pk)
    assert found.message == f"claim {claim.claim_number}: paid_amount is 75.00, its entries say 60.00."


def test_it_names_each_wrong_claim_column(books) -> None:
    claim = books["paid"]
    Claim.objects.filter(pk=claim.pk).update(
        total_charge=Decimal("301.00"), adjustment_amount=Decimal("1.00"), patient_responsibility=Decimal("9.00")
    )
    message = _named(verify(), Rule.CLAIM_AMOUNTS, "claim", claim.pk).message
    assert "total_charge is 301.00, its entries say 300.00" in message
    assert "adjustment_amount is 1.00, its entries say 70.00" in message
    assert "patient_responsibility is 9.00, its entries say 0.00" in message


def test_it_names_a_claim_with_money_and_no_ledger_rows(practice) -> None:
    claim = ClaimFactory(practice=practice, total_charge=Decimal("250.00"))
    ClaimFactory(practice=practice, total_charge=Decimal("0.00"))  # no money, no rows: nothing to explain
    (found,) = verify()
    assert (found.kind, found.row_id) == (Rule.CLAIM_AMOUNTS, claim.pk)
    assert found.message == (
        f"claim {claim.claim_number} has money but no ledger rows: total_charge is 250.00, its entries say 0.00; "
        "balance is 250.00, its entries say 0.00."
    )


def test_it_names_a_patient_account_whose_credit_was_edited(books) -> None:
    account = books["paid"].patient.account
    PatientAccount.objects.filter(pk=account.pk).update(credit=Decimal("99.00"))
    message = _named(verify(), Rule.ACCOUNT_AMOUNTS, "account", account.pk).message
    assert "credit is 99.00, its entries say 20.00" in message
    assert "balance is" in message and "its parts say" in message


def test_it_names_a_patient_with_entries_and_no_account(books) -> None:
    patient = books["other"].patient
    PatientAccount.objects.filter(patient=patient).delete()
    found = _named(verify(), Rule.ACCOUNT_AMOUNTS, "patient", patient.pk)
    assert "ledger entries but no account" in found.message


def test_it_names_the_broken_link_of_a_claims_balance_chain(books) -> None:
    claim = books["partial"]
    first, second = claim.ledger.order_by("id")[:2]
    _tamper(
        f"UPDATE {JournalTransaction._meta.db_table} SET claim_balance_after = %s WHERE id = %s", ["1.00", first.pk]
    )
    violations = [v for v in verify() if v.kind == Rule.CLAIM_CHAIN]
    # The wrong figure breaks its own link and the next one's, and no other.
    assert [v.row_id for v in violations] == [first.pk, second.pk]
    assert violations[0].message == (
        f"claim #{claim.pk}: balance after is 1.00, but the balance before it was 0.00 "
        "and it moved the balance by 200.00."
    )


def test_it_names_a_broken_link_of_an_accounts_balance_chain(books) -> None:
    last = JournalTransaction.objects.filter(patient=books["paid"].patient).latest("id")
    _tamper(
        f"UPDATE {JournalTransaction._meta.db_table} SET account_balance_after = account_balance_after + 1 "
        "WHERE id = %s",
        [last.pk],
    )
    violations = [v for v in verify() if v.kind == Rule.ACCOUNT_CHAIN]
    assert [v.row_id for v in violations] == [last.pk]
    assert [v.kind for v in verify()] == [Rule.ACCOUNT_CHAIN]


def test_it_names_a_reversal_that_does_not_net_its_original(books) -> None:
    reversal = JournalTransaction.objects.get(kind=Kind.REVERSAL, reverses__kind=Kind.ADJUSTMENT)
    for entry in reversal.entries.all():
        _tamper(
            f"UPDATE {LedgerEntry._meta.db_table} SET amount = %s WHERE id = %s",
            ["20.00" if entry.amount > 0 else "-20.00", entry.pk],
        )
    found = [v for v in verify() if v.kind == Rule.REVERSAL]
    assert {v.row_id for v in found} == {reversal.pk}
    assert f"does not net #{reversal.reverses_id} to zero: 5.00 is left on adjustment." in {v.message for v in found}


def test_it_names_a_reversal_of_a_reversal(books, practice) -> None:
    reversal = JournalTransaction.objects.get(kind=Kind.REVERSAL, reverses__kind=Kind.ADJUSTMENT)
    again = JournalTransaction(
        practice=practice,
        kind=Kind.REVERSAL,
        source=Source.MANUAL,
        claim=reversal.claim,
        patient=reversal.patient,
        reverses=reversal,
        amount=Decimal("25.00"),
        effective_date=reversal.effective_date,
        idempotency_key="again",
        content_hash="-",
    )
    again.save()
    for entry in reversal.entries.all():
        LedgerEntry(
            practice=practice,
            transaction=again,
            account=entry.account,
            amount=-entry.amount,
            claim=entry.claim,
            patient=entry.patient,
        ).save()
    found = [v for v in verify() if v.kind == Rule.REVERSAL]
    assert [(v.row_id, v.message) for v in found] == [(again.pk, f"reverses #{reversal.pk}, itself a reversal.")]


def test_it_names_a_payment_whose_refunded_amount_was_edited(books) -> None:
    check = books["check"]
    Payment.objects.filter(pk=check.pk).update(refunded_amount=Decimal("40.00"))
    found = _named(verify(), Rule.REFUND, "payment", check.pk)
    assert found.message == "refunded amount is 40.00, its refunds paid back 15.00."


def test_it_names_a_refund_beyond_what_the_payment_still_pays(books, practice) -> None:
    # The payment's posting reversed behind the service's back, its refund left standing.
    check = books["check"]
    original = check.ledger.get(kind=Kind.PAYMENT)
    reversal = JournalTransaction(
        practice=practice,
        kind=Kind.REVERSAL,
        source=Source.MANUAL,
        claim=original.claim,
        patient=original.patient,
        payment=check,
        reverses=original,
        amount=original.amount,
        effective_date=original.effective_date,
        idempotency_key="sneaky",
        content_hash="-",
    )
    reversal.save()
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            practice=practice,
            transaction=reversal,
            account=e.account,
            amount=-e.amount,
            claim=e.claim,
            patient=e.patient,
        )
        for e in original.entries.all()
    )
    found = _named(verify(), Rule.REFUND, "payment", check.pk)
    assert found.message == "15.00 was refunded, more than the 0.00 it posted."


def test_it_names_a_payment_posted_beyond_its_amount(books, practice) -> None:
    check = books["check"]
    extra = post(
        practice,
        Posting(
            kind=Kind.PAYMENT,
            source=Source.MANUAL,
            legs=[Leg(Account.CASH, Decimal("5.00")), Leg(Account.PRIMARY_AR, Decimal("-5.00"))],
            idempotency_key=key(),
            claim=books["paid"],
            payment=check,
        ),
    )
    assert extra.pk
    found = _named(verify(), Rule.OVER_ALLOCATED, "payment", check.pk)
    assert found.message == "185.00 was posted to the ledger, more than its amount 180.00."


def test_it_names_a_posted_remittance_whose_clearing_account_is_not_zero(practice, books) -> None:
    remittance = RemittanceFactory(practice=practice, status=Remittance.Status.POSTED)
    post(
        practice,
        Posting(
            kind=Kind.PAYMENT,
            source=Source.ERA,
            legs=[Leg(Account.CASH, Decimal("212.40")), Leg(Account.ERA_CLEARING, Decimal("-212.40"))],
            idempotency_key=key(),
            remittance=remittance,
        ),
    )
    (found,) = verify()
    assert (found.kind, found.row_type, found.row_id) == (Rule.CLEARING, "remittance", remittance.pk)
    assert found.message == "its era_clearing entries sum to -212.40, not zero."
    insurance_payment(books["other"], "0.01")  # other money does not matter
    services.charge(books["other"], Decimal("1.00"), key=key())
    claim = books["partial"]
    post(
        practice,
        Posting(
            kind=Kind.PAYMENT,
            source=Source.ERA,
            legs=[Leg(Account.ERA_CLEARING, Decimal("140.00")), Leg(Account.PRIMARY_AR, Decimal("-140.00"))],
            idempotency_key=key(),
            claim=claim,
            remittance=remittance,
        ),
    )
    post(
        practice,
        Posting(
            kind=Kind.PAYMENT,
            source=Source.ERA,
            legs=[Leg(Account.ERA_CLEARING, Decimal("72.40")), Leg(Account.PRIMARY_AR, Decimal("-72.40"))],
            idempotency_key=key(),
            claim=books["other"],
            remittance=remittance,
        ),
    )
    assert verify() == []


def test_it_names_ledger_rows_of_a_remittance_that_was_never_posted(practice) -> None:
    remittance = RemittanceFactory(practice=practice)
    claim = posted_claim(practice=practice)
    for legs in (
        [("cash", "10.00"), ("era_clearing", "-10.00")],
        [("era_clearing", "10.00"), ("primary_ar", "-10.00")],
    ):
        post(
            practice,
            Posting(
                kind=Kind.PAYMENT,
                source=Source.ERA,
                legs=[Leg(Account(name), Decimal(amount)) for name, amount in legs],
                idempotency_key=key(),
                claim=claim if legs[1][0] == "primary_ar" else None,
                remittance=remittance,
            ),
        )
    (found,) = verify()
    assert (found.kind, found.row_id, found.message) == (
        Rule.CLEARING,
        remittance.pk,
        "has ledger rows but is preview, not posted.",
    )


def test_it_names_a_clearing_entry_outside_any_remittance(practice) -> None:
    txn = post(
        practice,
        Posting(
            kind=Kind.PAYMENT,
            source=Source.MANUAL,
            legs=[Leg(Account.CASH, Decimal("10.00")), Leg(Account.ERA_CLEARING, Decimal("-10.00"))],
            idempotency_key=key(),
        ),
    )
    (found,) = verify()
    assert (found.kind, found.row_type) == (Rule.CLEARING, "entry")
    assert found.row_id == _entry(txn, "era_clearing").pk


def test_it_sorts_violations_by_practice_then_kind(practice, other_practice) -> None:
    books_a, books_b = busy_ledger(other_practice), busy_ledger(practice)
    for books in (books_a, books_b):
        Claim.objects.filter(pk=books["paid"].pk).update(balance=Decimal("1.00"))
        PatientAccount.objects.filter(patient=books["other"].patient).update(credit=Decimal("1.00"))
    found = verify()
    assert [(v.practice_id, v.kind) for v in found] == sorted(
        [(p.pk, kind) for p in (practice, other_practice) for kind in (Rule.ACCOUNT_AMOUNTS, Rule.CLAIM_AMOUNTS)]
    )


def test_it_checks_one_practice_when_asked(books, practice, other_practice) -> None:
    theirs = busy_ledger(other_practice)
    Claim.objects.filter(pk=theirs["paid"].pk).update(balance=Decimal("1.00"))
    assert verify(practice) == []
    assert [v.row_id for v in verify(other_practice)] == [theirs["paid"].pk]
    assert _run("--practice", practice.name)[:2] == (
        0,
        f"Ledger OK in {practice.name}: {checked(practice).transactions} transactions, 3 claims, 2 accounts checked\n",
    )
    code, out, err = _run("--practice", str(other_practice.pk))
    assert code == 1
    assert out == f"{verify(other_practice)[0]}\n"
    assert f"practice #{other_practice.pk} claim_amounts: claim #{theirs['paid'].pk}: " in out
    transactions = checked(other_practice).transactions
    assert (
        err
        == f"Ledger NOT OK in {other_practice.name}: 1 violation in {transactions} transactions, 3 claims, 2 accounts\n"
    )
    assert _run()[0] == 1


def test_it_refuses_an_unknown_practice(db) -> None:
    with pytest.raises(CommandError, match="No practice with id or name 'Nowhere Clinic'"):
        call_command("verify_ledger", "--practice", "Nowhere Clinic")
