from __future__ import annotations

import re
from decimal import Decimal

import pytest

from billing import services as billing
from billing.models import Responsibility
from claims.tests.factories import PayerFactory
from reports.queries import ar_aging
from reports.tests.helpers import days_ago, ledger_claim, pay, today_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(practice):
    today = today_of(practice)
    aetna, cigna = PayerFactory(practice=practice, name="Aetna"), PayerFactory(practice=practice, name="Cigna")
    claims = {
        "young": ledger_claim(practice, payer=aetna, served=days_ago(today, 10), charge="100.00"),
        "edge_30": ledger_claim(practice, payer=aetna, served=days_ago(today, 30), charge="30.00"),
        "edge_31": ledger_claim(practice, payer=aetna, served=days_ago(today, 31), charge="31.00"),
        "middle": ledger_claim(practice, payer=aetna, served=days_ago(today, 45), charge="200.00"),
        "paid_off": ledger_claim(practice, payer=aetna, served=days_ago(today, 200), charge="500.00"),
        "old": ledger_claim(practice, payer=cigna, served=days_ago(today, 130), charge="80.00"),
        "patient_owes": ledger_claim(practice, payer=cigna, served=days_ago(today, 95), charge="90.00"),
    }
    pay(claims["young"], "40.00", today)
    pay(claims["paid_off"], "500.00", days_ago(today, 100))
    # What the payer left to the patient is still owed on the claim (patient receivable).
    billing.transfer(
        claims["patient_owes"],
        Decimal("25.00"),
        key="to-patient",
        from_responsibility=Responsibility.PRIMARY,
        to_responsibility=Responsibility.PATIENT,
    )
    return {"today": today, "aetna": aetna, "cigna": cigna, **claims}


def test_it_sums_what_the_ledger_says_is_owed_by_payer_and_age(practice, books):
    report = ar_aging(practice, books["today"])

    by_payer = {row.payer: {key: cell["amount"] for key, cell in row.cells.items()} for row in report.rows}
    assert by_payer == {
        "Aetna": {
            "0-30": Decimal("90.00"),
            "31-60": Decimal("231.00"),
            "61-90": Decimal("0.00"),
            "91-120": Decimal("0.00"),
            "120+": Decimal("0.00"),
        },
        "Cigna": {
            "0-30": Decimal("0.00"),
            "31-60": Decimal("0.00"),
            "61-90": Decimal("0.00"),
            "91-120": Decimal("90.00"),
            "120+": Decimal("80.00"),
        },
    }
    assert [row.payer for row in report.rows] == ["Aetna", "Cigna"]  # largest balance first
    assert report.total == Decimal("491.00")
    assert report.summary() == {
        "outstanding": Decimal("491.00"),
        "claims": 6,
        "over_90": Decimal("170.00"),
        "over_90_share": Decimal("34.6"),
    }


def test_a_claim_in_credit_does_not_lower_what_others_owe(practice, books):
    overpaid = ledger_claim(practice, payer=books["aetna"], served=books["today"], charge="50.00")
    pay(overpaid, "50.00", books["today"])
    billing.charge(overpaid, Decimal("-20.00"), key="lowered")  # a corrected charge leaves a 20.00 credit

    report = ar_aging(practice, books["today"])

    assert report.rows[0].cells["0-30"]["amount"] == Decimal("90.00")


def test_it_never_counts_another_practices_balances(practice, other_practice, books):
    ledger_claim(other_practice, served=books["today"], charge="999.00")

    assert ar_aging(practice, books["today"]).total == Decimal("491.00")


def test_each_cell_opens_exactly_its_claims_in_the_worklist(practice, books, owner_client):
    report = ar_aging(
        practice, books["today"], cell_href=lambda payer, age: f"/claims/?status=all&payer={payer}&age={age}"
    )
    href = next(row for row in report.rows if row.payer == "Aetna").cells["31-60"]["href"]

    body = owner_client.get(href).content.decode()

    shown = set(re.findall(r'class="claim-link mono"[^>]*>([^<]+)<', body))
    assert shown == {books["edge_31"].claim_number, books["middle"].claim_number}


def test_an_empty_cell_has_no_link(practice, books):
    report = ar_aging(practice, books["today"], cell_href=lambda payer, age: f"/claims/?payer={payer}&age={age}")

    aetna = next(row for row in report.rows if row.payer == "Aetna")
    assert aetna.cells["61-90"]["href"] == ""
    assert aetna.cells["0-30"]["href"].endswith("age=0-30")


def test_its_query_count_does_not_grow_with_the_claims(practice, books, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        ar_aging(practice, books["today"])
    for n in range(15):
        ledger_claim(
            practice, payer=PayerFactory(practice=practice), served=days_ago(books["today"], n * 9), charge="10.00"
        )

    with django_assert_max_num_queries(2):
        report = ar_aging(practice, books["today"])
    assert report.claims == 21
