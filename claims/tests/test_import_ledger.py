"""The claim import puts money on the books through the ledger, never over a claim's amounts.

These run on SQLite (the ORM path) and on PostgreSQL (the COPY path).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext

from billing.models import JournalTransaction, LedgerEntry, Payment
from billing.verify import verify
from claims.importing import engine
from claims.models import Claim, ClaimImport
from claims.tests.db_faults import fail_database
from claims.tests.factories import PayerFactory
from claims.tests.ledger_checks import assert_books_agree, ledger_amounts
from claims.tests.test_import_engine import csv_file, run

HEADER = "Claim No,Patient,DOB,DOS,Amount,Paid,Payer ID\n"
ROWS = (
    "A-1,Maria Lopez,03/14/1980,09/01/2026,250.00,,60054\n"
    "A-2,Bo Chan,01/01/1990,09/02/2026,100.00,40.00,60054\n"
    "A-3,Ann Lee,02/02/1970,09/03/2026,80.00,80.00,60054\n"
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def aetna(practice):
    return PayerFactory(practice=practice, name="Aetna", payer_id="60054")


def _import(practice, owner, body: str, name: str = "claims.csv") -> ClaimImport:
    return run(practice, owner, csv_file(body, header=HEADER, name=name))


def _claim(number: str) -> Claim:
    return Claim.objects.get(claim_number=number)


def test_it_posts_each_new_claims_charge_and_the_paid_amount_the_file_states(practice, owner):
    claim_import = _import(practice, owner, ROWS)

    assert (claim_import.imported_count, claim_import.rejected_count) == (3, 0)
    for number in ("A-1", "A-2", "A-3"):
        assert_books_agree(_claim(number))
    amounts = {c.claim_number: (c.total_charge, c.paid_amount, c.balance) for c in Claim.objects.all()}
    assert amounts == {
        "A-1": (Decimal("250.00"), Decimal("0.00"), Decimal("250.00")),
        "A-2": (Decimal("100.00"), Decimal("40.00"), Decimal("60.00")),
        "A-3": (Decimal("80.00"), Decimal("80.00"), Decimal("0.00")),
    }
    partial = _claim("A-2")
    charge, payment = partial.ledger.order_by("pk")
    assert (charge.kind, charge.source, charge.created_by) == ("charge", "import", owner)
    assert charge.idempotency_key == f"import:{claim_import.pk}:{partial.pk}:charge"
    assert charge.effective_date == partial.service_date_from
    assert {(e.account, e.amount) for e in payment.entries.all()} == {
        ("cash", Decimal("40.00")),
        ("primary_ar", Decimal("-40.00")),
    }
    assert (payment.kind, payment.source, payment.payment) == ("payment", "import", None)
    assert "claims.csv, row 3" in payment.memo
    assert not Payment.objects.exists()
    # The payments move the claims through the status machine, as a posted payment does.
    assert (partial.status, _claim("A-3").status, _claim("A-1").status) == ("partially_paid", "paid", "submitted")


def test_a_reimport_posts_only_the_differences_with_a_memo(practice, owner):
    _import(practice, owner, ROWS)

    second = _import(
        practice,
        owner,
        ROWS.replace("250.00,,", "275.00,100.00,")
        .replace("100.00,40.00", "90.00,40.00")
        .replace("80.00,80.00", "80.00,"),
        name="claims-again.csv",
    )

    assert (second.imported_count, second.updated_count) == (0, 3)
    raised, lowered, same = _claim("A-1"), _claim("A-2"), _claim("A-3")
    for claim in (raised, lowered, same):
        assert_books_agree(claim)
    assert (raised.total_charge, raised.paid_amount, raised.balance) == (
        Decimal("275.00"),
        Decimal("100.00"),
        Decimal("175.00"),
    )
    correction, paid = raised.ledger.filter(source="import").order_by("pk")[1:]
    assert correction.memo == "Re-import changed the charge from $250.00 to $275.00."
    assert correction.idempotency_key == f"import:{second.pk}:{raised.pk}:charge:275.00"
    assert paid.memo == "Re-import changed the paid amount from $0.00 to $100.00."
    lowered_correction = lowered.ledger.order_by("pk").last()
    assert lowered_correction.memo == "Re-import changed the charge from $100.00 to $90.00."
    assert {(e.account, e.amount) for e in lowered_correction.entries.all()} == {
        ("primary_ar", Decimal("-10.00")),
        ("charges", Decimal("10.00")),
    }
    # A file that leaves the paid amount empty, or states what is on the books, posts nothing.
    assert same.ledger.count() == 2
    assert (same.total_charge, same.paid_amount) == (Decimal("80.00"), Decimal("80.00"))


def test_a_reimport_of_the_same_file_posts_nothing(practice, owner):
    _import(practice, owner, ROWS)
    before = JournalTransaction.objects.count()

    again = _import(practice, owner, ROWS)

    assert again.updated_count == 3
    assert JournalTransaction.objects.count() == before == 5


def test_a_lower_paid_amount_on_reimport_takes_the_difference_back(practice, owner):
    _import(practice, owner, ROWS)

    _import(practice, owner, ROWS.replace("100.00,40.00", "100.00,25.00"))

    claim = _claim("A-2")
    assert_books_agree(claim)
    assert (claim.paid_amount, claim.balance) == (Decimal("25.00"), Decimal("75.00"))
    taken_back = claim.ledger.order_by("pk").last()
    assert {(e.account, e.amount) for e in taken_back.entries.all()} == {
        ("cash", Decimal("-15.00")),
        ("primary_ar", Decimal("15.00")),
    }


def test_a_retried_batch_posts_each_difference_once(practice, owner, monkeypatch):
    _import(practice, owner, ROWS)
    monkeypatch.setattr(engine, "BATCH_SIZE", 2)
    # The re-import's first batch fails while its postings are written (a busy database), then is retried.
    fail_database("billing_ledgerentry", "1 = 1", times=1)
    upload = csv_file(ROWS.replace("250.00,,", "300.00,,").replace("80.00,80.00", "85.00,80.00"), header=HEADER)
    claim_import = engine.inspect_upload(practice=practice, user=owner, upload=upload)
    engine.start(claim_import)

    with pytest.raises(OperationalError):
        engine.run_import(claim_import.pk, can_retry=True)
    # The memo is encrypted, so the database cannot filter on it: compare in Python.
    assert not [txn for txn in JournalTransaction.objects.all() if txn.memo.startswith("Re-import")]
    done = engine.run_import(claim_import.pk, can_retry=True)

    assert (done.status, done.updated_count) == ("done", 3)
    corrections = JournalTransaction.objects.select_related("claim")
    assert sorted((t.claim.claim_number, t.amount) for t in corrections if t.memo.startswith("Re-import")) == [
        ("A-1", Decimal("50.00")),
        ("A-3", Decimal("5.00")),
    ]
    for number in ("A-1", "A-2", "A-3"):
        assert_books_agree(_claim(number))


def test_it_posts_a_batch_in_one_call_to_the_ledger(practice, owner, monkeypatch):
    calls = []
    post_many = engine.post_many
    monkeypatch.setattr(
        engine, "post_many", lambda practice, postings: calls.append(len(postings)) or post_many(practice, postings)
    )

    _import(practice, owner, ROWS)

    assert calls == [5]  # three charges and two payments, one call


def test_the_ledger_sums_equal_the_claims_amounts_for_the_whole_import(practice, owner):
    _import(practice, owner, ROWS)

    totals = {c.claim_number: ledger_amounts(c)["total_charge"] for c in Claim.objects.all()}
    assert sum(totals.values()) == -sum(LedgerEntry.objects.filter(account="charges").values_list("amount", flat=True))
    assert sum(Claim.objects.values_list("total_charge", flat=True)) == Decimal("430.00")


# --- A balance column beside the charge: the claim's opening balance ----------------------

BALANCE_HEADER = "Claim No,Patient,DOB,DOS,Charge,Paid,Balance,Payer ID\n"
BALANCE_ROWS = (
    "B-1,Maria Lopez,03/14/1980,09/01/2026,250.00,,100.00,60054\n"  # 150.00 paid or adjusted before
    "B-2,Bo Chan,01/01/1990,09/02/2026,100.00,40.00,50.00,60054\n"  # 40.00 paid, 10.00 adjusted before
    "B-3,Ann Lee,02/02/1970,09/03/2026,80.00,,80.00,60054\n"  # nothing happened yet
    "B-4,Wei Kim,01/28/1975,09/04/2026,120.00,,0.00,60054\n"  # settled before
    "B-5,Ida Ruiz,07/07/1966,09/05/2026,60.00,,,60054\n"  # no balance given
)


def _import_balances(practice, owner, body: str = BALANCE_ROWS, name: str = "ar.csv") -> ClaimImport:
    return run(practice, owner, csv_file(body, header=BALANCE_HEADER, name=name))


def _openings() -> list[JournalTransaction]:
    return list(JournalTransaction.objects.filter(source="opening").select_related("claim").order_by("pk"))


def test_the_balance_column_becomes_each_new_claims_opening_balance_through_the_ledger(practice, owner):
    claim_import = _import_balances(practice, owner)

    assert (claim_import.imported_count, claim_import.rejected_count) == (5, 0)
    amounts = {
        c.claim_number: (c.total_charge, c.paid_amount, c.adjustment_amount, c.balance) for c in Claim.objects.all()
    }
    assert amounts == {
        "B-1": (Decimal("250.00"), Decimal("0.00"), Decimal("150.00"), Decimal("100.00")),
        "B-2": (Decimal("100.00"), Decimal("40.00"), Decimal("10.00"), Decimal("50.00")),
        "B-3": (Decimal("80.00"), Decimal("0.00"), Decimal("0.00"), Decimal("80.00")),
        "B-4": (Decimal("120.00"), Decimal("0.00"), Decimal("120.00"), Decimal("0.00")),
        "B-5": (Decimal("60.00"), Decimal("0.00"), Decimal("0.00"), Decimal("60.00")),
    }
    # One opening entry per claim whose balance is less than its charge (and paid amount) explain.
    openings = _openings()
    assert [(t.claim.claim_number, t.amount) for t in openings] == [
        ("B-1", Decimal("150.00")),
        ("B-2", Decimal("10.00")),
        ("B-4", Decimal("120.00")),
    ]
    first = openings[0]
    assert (first.kind, first.reason, first.created_by) == ("adjustment", "other", owner)
    assert {(e.account, e.amount) for e in first.entries.all()} == {
        ("adjustment", Decimal("150.00")),
        ("primary_ar", Decimal("-150.00")),
    }
    assert first.memo == (
        "Opening balance from import: $150.00 of the $250.00 charge was paid or adjusted before the import "
        "(ar.csv, row 2)."
    )
    assert first.idempotency_key == f"import:{claim_import.pk}:{first.claim.pk}:opening"
    assert first.effective_date == first.claim.service_date_from
    assert first.claim_balance_after == Decimal("100.00")
    # An adjustment alone does not say the payer paid: the settled claim keeps its status; a paid amount moves it.
    assert _claim("B-4").status == "submitted"
    assert _claim("B-2").status == "partially_paid"
    for claim in Claim.objects.all():
        assert_books_agree(claim)
    assert verify(practice) == []


def test_a_balance_the_charge_cannot_leave_rejects_that_row_only(practice, owner):
    body = BALANCE_ROWS + (
        "B-6,Al Ford,03/03/1963,09/06/2026,50.00,,70.00,60054\n"
        "B-7,Jo Park,04/04/1964,09/07/2026,50.00,,-5.00,60054\n"
        "B-8,Lu Tran,05/05/1965,09/08/2026,50.00,30.00,25.00,60054\n"
    )

    claim_import = _import_balances(practice, owner, body)

    assert (claim_import.imported_count, claim_import.rejected_count) == (5, 3)
    errors = claim_import.row_errors.order_by("row_number")
    assert list(errors.values_list("row_number", "column", "value", "message")) == [
        (7, "Balance", "70.00", "The balance ($70.00) is more than the charge ($50.00)."),
        (8, "Balance", "-5.00", "Balance cannot be negative."),
        (9, "Balance", "25.00", "The balance ($25.00) is more than the charge less the paid amount ($20.00)."),
    ]
    assert not Claim.objects.filter(claim_number__in=["B-6", "B-7", "B-8"]).exists()
    assert verify(practice) == []


def test_a_reimport_never_posts_an_opening_balance_again(practice, owner):
    _import_balances(practice, owner)
    before = JournalTransaction.objects.count()

    again = _import_balances(practice, owner)
    # Once the claim is on file the ledger keeps its balance: a later export's balance changes nothing.
    later = _import_balances(practice, owner, BALANCE_ROWS.replace("250.00,,100.00", "250.00,,90.00"))

    assert (again.updated_count, later.updated_count) == (5, 5)
    assert JournalTransaction.objects.count() == before
    assert len(_openings()) == 3
    assert _claim("B-1").balance == Decimal("100.00")
    assert verify(practice) == []


def test_a_retried_batch_posts_each_opening_balance_once(practice, owner, monkeypatch):
    monkeypatch.setattr(engine, "BATCH_SIZE", 2)
    fail_database("billing_ledgerentry", "1 = 1", times=1)
    upload = csv_file(BALANCE_ROWS, header=BALANCE_HEADER)
    claim_import = engine.inspect_upload(practice=practice, user=owner, upload=upload)
    engine.start(claim_import)

    with pytest.raises(OperationalError):
        engine.run_import(claim_import.pk, can_retry=True)
    done = engine.run_import(claim_import.pk, can_retry=True)

    assert (done.status, done.imported_count) == ("done", 5)
    assert sorted(t.claim.claim_number for t in _openings()) == ["B-1", "B-2", "B-4"]
    assert verify(practice) == []


def _balance_rows(count: int, start: int = 0) -> str:
    return "".join(
        f"C-{n},Patient{n} Test,01/01/1980,09/01/2026,100.00,20.00,30.00,60054\n" for n in range(start, start + count)
    )


def _queries_to_import(practice, owner, body: str) -> tuple[list[str], int]:
    """The import's statements by what they do (``INSERT INTO "table"``), a run of the same counted once:
    the database's limit on parameters (999 on SQLite) splits a bulk statement in several, not per row."""
    claim_import = engine.inspect_upload(
        practice=practice, user=owner, upload=csv_file(body, header=BALANCE_HEADER, name="ar.csv")
    )
    engine.start(claim_import)
    with CaptureQueriesContext(connection) as queries:
        done = engine.run_import(claim_import.pk)
    assert done.imported_count == body.count("\n")
    statements: list[str] = []
    for query in queries.captured_queries:
        statement = " ".join(query["sql"].split(" ", 3)[:3])
        if "SAVEPOINT" not in statement and (not statements or statements[-1] != statement):
            statements.append(statement)
    return statements, len(queries)


def test_opening_balances_are_posted_in_bulk_whatever_the_number_of_rows(practice, owner):
    # Both big enough for the ledger's bulk path (billing.posting.COPY_FROM postings on PostgreSQL).
    few, few_count = _queries_to_import(practice, owner, _balance_rows(35))
    many, many_count = _queries_to_import(practice, owner, _balance_rows(100, start=100))

    assert many == few
    assert many_count - few_count < 30  # more insert statements for 65 more rows, but not one per row
    assert len(_openings()) == 135
    assert verify(practice) == []


def test_it_posts_a_batch_with_opening_balances_in_one_call_to_the_ledger(practice, owner, monkeypatch):
    calls = []
    post_many = engine.post_many
    monkeypatch.setattr(
        engine, "post_many", lambda practice, postings: calls.append(len(postings)) or post_many(practice, postings)
    )

    _import_balances(practice, owner)

    assert calls == [9]  # five charges, one payment and three opening balances
