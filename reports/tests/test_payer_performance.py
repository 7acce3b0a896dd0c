from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from billing import services as billing
from billing.models import Payment
from claims.tests.factories import PayerFactory
from reports.period import Period
from reports.queries import payer_performance
from reports.tests.helpers import call, days_ago, ledger_claim, local, pay, today_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def activity(practice):
    today = today_of(practice)
    aetna, cigna = PayerFactory(practice=practice, name="Aetna"), PayerFactory(practice=practice, name="Cigna")
    period = Period.ending_today(practice, 30)
    first = ledger_claim(
        practice, payer=aetna, served=days_ago(today, 20), charge="100.00", lines={"99213": "60.00", "99214": "40.00"}
    )
    second = ledger_claim(practice, payer=aetna, served=days_ago(today, 40), charge="80.00", lines={"99213": "80.00"})
    pay(first, "50.00", days_ago(today, 5))  # 15 days after service
    pay(second, "80.00", days_ago(today, 10))  # 30 days after service
    pay(second, "5.00", days_ago(today, 30), source=Payment.Source.PATIENT)  # not the payer's
    old = ledger_claim(practice, payer=aetna, served=days_ago(today, 60), charge="10.00")
    pay(old, "10.00", days_ago(today, 30))  # the day before the period
    reversed_claim = ledger_claim(practice, payer=cigna, served=days_ago(today, 25), charge="70.00")
    taken_back = pay(reversed_claim, "70.00", days_ago(today, 2))
    billing.void_payment(taken_back, reason="Check returned")

    call(
        first,
        created=local(practice, today, 9),
        status="ended",
        duration_seconds=300,
        cost=Decimal("0.5000"),
        outcome={"call_outcome": "resolved"},
    )
    call(
        second,
        created=local(practice, days_ago(today, 3)),
        status="ended",
        failure_category="no_answer",
        duration_seconds=60,
        cost=Decimal("0.1000"),
    )
    call(old, created=period.start, status="failed", failure_category="our_error")
    call(
        old,
        created=period.start - timedelta(seconds=1),
        status="ended",
        outcome={"call_outcome": "resolved"},
        duration_seconds=900,
        cost=Decimal("9.0000"),
    )
    call(reversed_claim, created=local(practice, today), status="queued")
    return {"today": today, "period": period}


def test_it_reports_calls_by_payer(practice, activity):
    report = payer_performance(practice, activity["period"])

    aetna = next(row for row in report.rows if row["payer"] == "Aetna")
    assert {key: aetna[key] for key in ("calls", "finished", "completed", "resolved")} == {
        "calls": 3,
        "finished": 3,
        "completed": 1,
        "resolved": 1,
    }
    assert aetna["completion_rate"] == Decimal("33.3")
    assert aetna["resolution_rate"] == Decimal("33.3")
    assert aetna["average_duration"] == 180
    assert aetna["call_cost"] == Decimal("0.60")
    assert aetna["average_call_cost"] == Decimal("0.30")
    assert aetna["average_hold"] is None
    assert "Hold time is not recorded" in report.hold_time_note
    cigna = next(row for row in report.rows if row["payer"] == "Cigna")
    assert (cigna["calls"], cigna["finished"], cigna["resolution_rate"]) == (1, 0, None)


def test_it_reports_insurance_payments_and_days_to_pay_from_the_ledger(practice, activity):
    report = payer_performance(practice, activity["period"])

    aetna = next(row for row in report.rows if row["payer"] == "Aetna")
    assert aetna["payments"] == 2
    assert aetna["paid"] == Decimal("130.00")
    assert aetna["average_days_to_pay"] == Decimal("22.5")
    cigna = next(row for row in report.rows if row["payer"] == "Cigna")
    assert (cigna["payments"], cigna["paid"], cigna["average_days_to_pay"]) == (0, Decimal("0.00"), None)
    assert report.totals()["paid"] == Decimal("130.00")


def test_it_shares_a_claims_payment_out_to_its_lines_by_charge(practice, activity):
    report = payer_performance(practice, Period.ending_today(practice, 30))

    assert [
        (row["payer"], row["code"], row["lines"], row["billed"], row["paid"], row["paid_rate"]) for row in report.by_cpt
    ] == [
        ("Aetna", "99213", 1, Decimal("60.00"), Decimal("30.00"), Decimal("50.0")),
        ("Aetna", "99214", 1, Decimal("40.00"), Decimal("20.00"), Decimal("50.0")),
    ]
    wider = payer_performance(practice, Period.ending_today(practice, 90))
    assert ("99213", Decimal("140.00"), Decimal("110.00")) in [
        (row["code"], row["billed"], row["paid"]) for row in wider.by_cpt
    ]


def test_it_never_counts_another_practices_calls_or_payments(practice, other_practice, activity):
    stranger = ledger_claim(other_practice, served=activity["today"], charge="500.00")
    pay(stranger, "500.00", activity["today"])
    call(stranger, created=local(other_practice, activity["today"]), status="ended")

    report = payer_performance(practice, activity["period"])

    assert {row["payer"] for row in report.rows} == {"Aetna", "Cigna"}
    assert report.totals()["calls"] == 4


def test_its_query_count_does_not_grow_with_the_data(practice, activity, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        payer_performance(practice, activity["period"])
    for _n in range(10):
        claim = ledger_claim(
            practice,
            payer=PayerFactory(practice=practice),
            served=activity["today"],
            charge="20.00",
            lines={"99213": "20.00"},
        )
        pay(claim, "20.00", activity["today"])
        call(claim, created=local(practice, activity["today"]), status="ended")

    with django_assert_max_num_queries(4):
        report = payer_performance(practice, activity["period"])
    assert report.totals()["calls"] == 14
