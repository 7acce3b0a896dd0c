"""The billing home: postings today and this month, credit, unmatched ERA payments, expected payments."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from billing import services
from billing.models import Remittance, RemittanceClaim
from billing.tests.test_pages_support import patient_with_claims

pytestmark = pytest.mark.django_db


def test_it_sums_todays_and_this_months_postings_by_kind(owner_client, practice):
    patient, (claim,) = patient_with_claims(practice, "250.00")
    services.record_payment(
        practice,
        key="p",
        source="patient",
        method="cash",
        amount=Decimal("40.00"),
        payment_date=timezone.localdate(timezone=ZoneInfo(practice.time_zone)),
        patient=patient,
    )

    response = owner_client.get("/billing/")

    today = response.context["today_totals"]
    assert today["count"] == 2
    assert {row["kind"]: row["total"] for row in today["rows"]} == {
        "charge": Decimal("250.00"),
        "payment": Decimal("40.00"),
    }
    assert response.context["unapplied_credit"] == Decimal("40.00")
    chart = {row["kind"]: row["percent"] for row in response.context["month_chart"]}
    assert chart == {"charge": 100, "payment": 16}
    body = response.content.decode()
    assert "$40.00" in body and "unapplied patient credit" in body
    assert response.context["payment_days"][-1]["total"] == Decimal("40.00")


def test_it_counts_unmatched_era_payments_of_its_practice_only(owner_client, practice, other_practice):
    for owner_practice in (practice, other_practice):
        remittance = Remittance.objects.create(practice=owner_practice, content=b"", content_sha256="0" * 64)
        for position, status in enumerate(["unmatched", "ambiguous", "posted"]):
            RemittanceClaim.objects.create(
                remittance=remittance,
                position=position,
                status=status,
                claim_number=f"X{position}",
                claim_status_code="1",
                charge=Decimal("10"),
                paid=Decimal("5"),
            )

    assert owner_client.get("/billing/").context["unmatched_era"] == 2


def test_it_lists_expected_payments_not_yet_received(owner_client, practice):
    patient, (claim,) = patient_with_claims(practice, "250.00", first_name="Eleanor", last_name="Whitfield")
    services.expect_payment(claim, amount=Decimal("312.40"), reference="81277", payment_date=date(2026, 11, 20))

    body = owner_client.get("/billing/").content.decode()

    assert "$312.40" in body and "81277" in body and "Eleanor Whitfield" in body
    assert claim.claim_number in body


def test_it_shows_an_empty_practice_without_errors(owner_client, practice):
    response = owner_client.get("/billing/")

    assert response.status_code == 200
    assert "Nothing posted yet today." in response.content.decode()


def test_it_keeps_other_practices_money_out(outsider_client, practice):
    patient, _ = patient_with_claims(practice, "250.00", first_name="Eleanor", last_name="Whitfield")

    response = outsider_client.get("/billing/")

    assert response.context["today_totals"]["count"] == 0
    assert "Whitfield" not in response.content.decode()


def test_it_lets_staff_see_the_billing_home(teammate_client):
    assert teammate_client.get("/billing/").status_code == 200


def test_it_sends_anonymous_visitors_to_sign_in(client, db):
    assert client.get("/billing/").status_code == 302


def test_it_refuses_posts(owner_client):
    assert owner_client.post("/billing/").status_code == 405


def test_it_counts_an_eras_money_once(owner_client, practice):
    from billing.era.demo import ClaimPaid, build_835
    from billing.era.posting import post_remittance, preview

    _patient, (first, second) = patient_with_claims(practice, "200.00", "100.00")
    paid = [
        ClaimPaid(first.claim_number, Decimal("200.00"), Decimal("150.00"), adjustments=[("CO", "45", Decimal("50"))]),
        ClaimPaid(second.claim_number, Decimal("100.00"), Decimal("80.00"), adjustments=[("CO", "45", Decimal("20"))]),
    ]
    today = timezone.localdate(timezone=ZoneInfo(practice.time_zone))
    remittance = preview(practice, build_835(paid, trace="T1", payment_date=today), file_name="t.835", actor=None)
    post_remittance(remittance, actor=None)

    response = owner_client.get("/billing/")

    rows = {row["kind"]: row for row in response.context["today_totals"]["rows"]}
    # The deposit is the payment; its postings to the two claims are shown apart, not added again.
    assert rows["payment"]["total"] == Decimal("230.00")
    assert rows["era_applied"]["total"] == Decimal("230.00") and rows["era_applied"]["count"] == 2
    assert response.context["today_totals"]["received"] == Decimal("230.00")
    assert response.context["payment_days"][-1]["total"] == Decimal("230.00")
