from __future__ import annotations

from decimal import Decimal

import pytest

from billingpulse.tests.factories import ProviderFactory
from claims.tests.factories import ClaimFactory, ClaimLineFactory, PayerFactory
from reports.period import Period
from reports.queries import denial_trends
from reports.tests.helpers import days_ago, today_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def served(practice):
    """Claims served in the last 90 days (two denied CO-16, one PR-1, one clean), and others outside."""
    today = today_of(practice)
    aetna, cigna = PayerFactory(practice=practice, name="Aetna"), PayerFactory(practice=practice, name="Cigna")
    doctor = ProviderFactory(practice=practice, first_name="Maya", last_name="Ortiz", credentials="MD")
    first = ClaimFactory(
        practice=practice,
        payer=aetna,
        provider=doctor,
        service_date_from=days_ago(today, 3),
        denial_code="CO-16",
        total_charge=Decimal("100.00"),
    )
    ClaimLineFactory(claim=first, line_number=1, procedure_code="99213", charge=Decimal("60.00"))
    ClaimLineFactory(claim=first, line_number=2, procedure_code="99214", charge=Decimal("40.00"))
    oldest = ClaimFactory(
        practice=practice,
        payer=cigna,
        service_date_from=days_ago(today, 89),
        denial_code="CO-16",
        total_charge=Decimal("200.00"),
    )
    ClaimLineFactory(claim=oldest, line_number=1, procedure_code="99213", charge=Decimal("200.00"))
    ClaimFactory(
        practice=practice,
        payer=aetna,
        provider=doctor,
        service_date_from=days_ago(today, 40),
        denial_code="PR-1",
        total_charge=Decimal("50.00"),
        status="paid",
    )
    ClaimFactory(practice=practice, payer=aetna, service_date_from=days_ago(today, 10), total_charge=Decimal("300.00"))
    # One day too old for 90 days, and a claim served tomorrow (counted from its date, not before).
    ClaimFactory(
        practice=practice,
        payer=aetna,
        service_date_from=days_ago(today, 90),
        denial_code="CO-97",
        total_charge=Decimal("999.00"),
    )
    return {"aetna": aetna, "cigna": cigna, "doctor": doctor, "today": today}


def test_it_counts_denials_and_billed_amounts_by_code(practice, served):
    report = denial_trends(practice, Period.ending_today(practice, 90))

    assert [(row["code"], row["count"], row["amount"]) for row in report.by_code] == [
        ("CO-16", 2, Decimal("300.00")),
        ("PR-1", 1, Decimal("50.00")),
    ]
    assert report.summary() == {
        "claims": 4,
        "denied": 3,
        "denied_amount": Decimal("350.00"),
        "denial_rate": Decimal("75.0"),
    }


def test_it_breaks_denials_down_by_payer_cpt_and_provider(practice, served):
    report = denial_trends(practice, Period.ending_today(practice, 90))

    assert [(row["payer"], row["claims"], row["count"], row["rate"], row["amount"]) for row in report.by_payer] == [
        ("Aetna", 3, 2, Decimal("66.7"), Decimal("150.00")),
        ("Cigna", 1, 1, Decimal("100.0"), Decimal("200.00")),
    ]
    assert [(row["code"], row["lines"], row["amount"]) for row in report.by_cpt] == [
        ("99213", 2, Decimal("260.00")),
        ("99214", 1, Decimal("40.00")),
    ]
    assert [(row["provider"], row["count"], row["amount"]) for row in report.by_provider] == [
        ("Maya Ortiz, MD", 2, Decimal("150.00")),
        ("No provider on the claim", 1, Decimal("200.00")),
    ]


def test_it_counts_each_week_of_service_including_empty_weeks(practice, served):
    report = denial_trends(practice, Period.ending_today(practice, 90))

    assert report.by_week[0]["week"].weekday() == 0
    assert report.by_week[0]["week"] <= days_ago(served["today"], 89) < report.by_week[1]["week"]
    assert sum(row["count"] for row in report.by_week) == 3
    assert any(row["claims"] == 0 and row["rate"] is None for row in report.by_week)
    assert report.by_week[0]["count"] == 1 and report.by_week[0]["amount"] == Decimal("200.00")


def test_it_takes_in_the_day_before_the_period_only_with_a_longer_period(practice, served):
    assert denial_trends(practice, Period.ending_today(practice, 90)).denied == 3
    assert denial_trends(practice, Period.ending_today(practice, 91)).denied == 4
    assert denial_trends(practice, Period.ending_today(practice, 30)).denied == 1


def test_it_never_counts_another_practices_claims(practice, other_practice, served):
    ClaimFactory(practice=other_practice, service_date_from=served["today"], denial_code="CO-16")

    report = denial_trends(practice, Period.ending_today(practice, 90))

    assert report.denied == 3
    assert {row["payer"] for row in report.by_payer} == {"Aetna", "Cigna"}


def test_its_query_count_does_not_grow_with_the_claims(practice, served, django_assert_max_num_queries):
    period = Period.ending_today(practice, 90)
    with django_assert_max_num_queries(5):
        denial_trends(practice, period)
    for n in range(20):
        claim = ClaimFactory(practice=practice, service_date_from=served["today"], denial_code=f"CO-{n + 1}")
        ClaimLineFactory(claim=claim, line_number=1, procedure_code=f"9920{n % 10}")

    with django_assert_max_num_queries(5):
        report = denial_trends(practice, period)
    assert report.denied == 23
