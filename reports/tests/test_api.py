from __future__ import annotations

import pytest

from claims.tests.factories import ClaimFactory, PayerFactory
from reports.tests.helpers import days_ago, ledger_claim, today_of

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    "/api/v1/reports/denial-trends",
    "/api/v1/reports/payer-performance",
    "/api/v1/reports/ar-aging",
    "/api/v1/reports/calling-operations",
]


@pytest.fixture
def data(practice):
    today = today_of(practice)
    aetna = PayerFactory(practice=practice, name="Aetna")
    ClaimFactory(
        practice=practice, payer=aetna, service_date_from=days_ago(today, 5), denial_code="CO-16", total_charge="125.50"
    )
    ledger_claim(practice, payer=aetna, served=days_ago(today, 45), charge="1250.00")
    return {"today": today}


@pytest.mark.parametrize("url", ENDPOINTS)
def test_a_member_reads_each_report(teammate_api, data, url):
    response = teammate_api.get(url)

    assert response.status_code == 200
    assert response.json()["tables"]


def test_denial_trends_gives_money_as_decimal_strings(api, data):
    body = api.get("/api/v1/reports/denial-trends?days=30").json()

    assert body["period"]["days"] == 30
    assert body["period"]["to"] == data["today"].isoformat()
    assert body["summary"] == {"claims": 1, "denied": 1, "denied_amount": "125.50", "denial_rate": "100.0"}
    by_code = next(table for table in body["tables"] if table["key"] == "by_code")
    assert by_code["rows"] == [{"code": "CO-16", "count": 1, "amount": "125.50"}]
    assert [column["key"] for column in by_code["columns"]] == ["code", "count", "amount"]


def test_ar_aging_gives_the_buckets_and_totals(api, data):
    body = api.get("/api/v1/reports/ar-aging").json()

    assert body["totals"]["31-60"] == "1250.00"
    assert body["summary"]["outstanding"] == "1250.00"
    assert body["tables"][0]["rows"][0]["payer"] == "Aetna"


def test_payer_performance_says_hold_time_is_not_recorded(api, data):
    body = api.get("/api/v1/reports/payer-performance").json()

    assert body["hold_time"]["recorded"] is False


@pytest.mark.parametrize("days", ["0", "366", "abc", "-5", "9" * 30])
@pytest.mark.parametrize("url", [ENDPOINTS[0], ENDPOINTS[1], ENDPOINTS[3]])
def test_a_bad_period_is_a_400_naming_the_field(api, url, days):
    response = api.get(url, {"days": days})

    assert response.status_code == 400
    assert "days" in response.json()


def test_another_practices_data_is_never_counted(api_for, outsider, data):
    body = api_for(outsider).get("/api/v1/reports/ar-aging").json()

    assert body["summary"]["outstanding"] == "0.00"
    assert body["tables"][0]["rows"] == []


@pytest.mark.parametrize("url", ENDPOINTS)
def test_it_refuses_anonymous_callers(client, url):
    assert client.get(url).status_code in (401, 403)
