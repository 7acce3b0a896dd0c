from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from billing import services
from billing.models import Payment
from billing.tests.test_pages_support import patient_with_claims
from billingpulse.tests.factories import PatientFactory
from claims.tests.factories import InsurancePolicyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def eleanor(practice):
    patient, claims = patient_with_claims(
        practice,
        "250.00",
        "100.00",
        first_name="Eleanor",
        last_name="Whitfield",
        date_of_birth=date(1954, 3, 14),
        account_number="A-1001",
    )
    return patient, claims


def _pay(practice, patient, amount, allocations=(), key="pay-1", **kwargs):
    return services.record_payment(
        practice,
        key=key,
        source=Payment.Source.PATIENT,
        method=Payment.Method.CASH,
        amount=Decimal(amount),
        payment_date=kwargs.pop("payment_date", date(2026, 11, 2)),
        allocations=[services.Allocation(claim, Decimal(value)) for claim, value in allocations],
        patient=patient,
        **kwargs,
    )


# -- the patient list ------------------------------------------------------------------------


def test_it_lists_patients_with_their_balances(owner_client, eleanor):
    body = owner_client.get("/billing/patients/").content.decode()

    assert "Whitfield, Eleanor" in body
    assert "A-1001" in body
    assert "$350.00" in body  # insurance owes both charges


@pytest.mark.parametrize("query", ["whit", "A-1001", "03/14/1954", "1954-03-14", "eleanor whitfield"])
def test_it_finds_a_patient_by_name_account_number_or_birth_date(owner_client, practice, eleanor, query):
    PatientFactory(practice=practice, first_name="Marcus", last_name="Bell", date_of_birth=date(1960, 1, 1))

    body = owner_client.get("/billing/patients/", {"q": query}).content.decode()

    assert "Whitfield, Eleanor" in body
    assert "Bell, Marcus" not in body


def test_it_shows_only_patients_with_a_balance_when_asked(owner_client, practice, eleanor):
    PatientFactory(practice=practice, first_name="Marcus", last_name="Bell")

    body = owner_client.get("/billing/patients/", {"owing": "on"}).content.decode()

    assert "Whitfield, Eleanor" in body
    assert "Bell, Marcus" not in body


def test_it_pages_the_patient_list(owner_client, practice):
    for n in range(55):
        PatientFactory(practice=practice, last_name=f"Zed{n:02d}")

    first = owner_client.get("/billing/patients/").content.decode()
    second = owner_client.get("/billing/patients/", {"page": "2"}).content.decode()

    assert "Zed00" in first and "Zed54" not in first
    assert "Zed54" in second and "Page 2 of 2" in second


def test_it_answers_htmx_with_the_table_only(owner_client, eleanor):
    response = owner_client.get("/billing/patients/", {"q": "whit"}, headers={"HX-Request": "true"})

    body = response.content.decode()
    assert 'id="patient-table"' in body
    assert "<html" not in body


def test_it_keeps_other_practices_patients_out_of_the_list(outsider_client, eleanor):
    assert "Whitfield" not in outsider_client.get("/billing/patients/").content.decode()


def test_it_sends_anonymous_visitors_to_sign_in(client, eleanor):
    response = client.get("/billing/patients/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# -- the patient account page ---------------------------------------------------------------


def test_it_shows_the_account_with_claims_policies_and_ledger(owner_client, practice, eleanor):
    patient, (first, second) = eleanor
    InsurancePolicyFactory(practice=practice, patient=patient, payer=first.payer, member_id="W123456789")
    _pay(practice, patient, "80.00", [(first, "50.00")])

    response = owner_client.get(f"/billing/patients/{patient.pk}/")

    body = response.content.decode()
    assert response.status_code == 200
    assert "Eleanor Whitfield" in body
    assert "W123456789" in body
    assert first.claim_number in body and second.claim_number in body
    assert "$30.00" in body  # unapplied credit: 80 paid, 50 applied
    assert "$270.00" in body  # balance: 350 owed less 50 paid less 30 credit
    ledger = response.context["ledger"]
    assert [t.account_balance_after for t in ledger] == [
        Decimal("250.00"),
        Decimal("350.00"),
        Decimal("300.00"),
        Decimal("270.00"),
    ]
    assert [t.change for t in ledger] == [Decimal("250"), Decimal("100"), Decimal("-50"), Decimal("-30")]
    assert response.context["ledger_totals"]["change"] == Decimal("270.00")


def test_it_filters_the_ledger_by_type_and_date(owner_client, practice, eleanor):
    patient, (first, _) = eleanor
    today = timezone.localdate(timezone=ZoneInfo(practice.time_zone))
    _pay(practice, patient, "50.00", [(first, "50.00")], payment_date=today - timedelta(days=30))
    before_today = {"date_from": str(today - timedelta(days=40)), "date_to": str(today - timedelta(days=1))}

    payments = owner_client.get(f"/billing/patients/{patient.pk}/", {"kind": "payment"}).context["ledger"]
    earlier = owner_client.get(f"/billing/patients/{patient.pk}/", before_today).context["ledger"]

    assert [t.kind for t in payments] == ["payment"]
    assert [t.kind for t in earlier] == ["payment"]  # the charges are dated today


def test_it_says_when_the_date_range_is_backwards(owner_client, eleanor):
    patient, _ = eleanor

    response = owner_client.get(
        f"/billing/patients/{patient.pk}/", {"date_from": "2026-11-05", "date_to": "2026-11-01"}
    )

    assert response.status_code == 200
    assert "The end date is before the start date." in response.content.decode()


def test_it_answers_a_ledger_filter_from_htmx_with_the_ledger_only(owner_client, eleanor):
    patient, _ = eleanor

    response = owner_client.get(f"/billing/patients/{patient.pk}/", {"kind": "charge"}, headers={"HX-Request": "true"})

    body = response.content.decode()
    assert 'id="patient-ledger"' in body
    assert "<html" not in body


def test_it_shows_reverse_buttons_to_admins_only(owner_client, teammate_client, eleanor):
    patient, _ = eleanor

    assert "/reverse/" in owner_client.get(f"/billing/patients/{patient.pk}/").content.decode()
    assert "/reverse/" not in teammate_client.get(f"/billing/patients/{patient.pk}/").content.decode()


def test_it_shows_a_patient_with_nothing_posted(owner_client, practice):
    patient = PatientFactory(practice=practice)

    response = owner_client.get(f"/billing/patients/{patient.pk}/")

    assert response.status_code == 200
    assert "Nothing posted to this account yet." in response.content.decode()


def test_it_hides_another_practices_patient(outsider_client, eleanor):
    patient, _ = eleanor

    assert outsider_client.get(f"/billing/patients/{patient.pk}/").status_code == 404
    assert outsider_client.get(f"/billing/patients/{patient.pk}/statement/").status_code == 404


def test_it_answers_404_for_an_unknown_patient(owner_client, db):
    assert owner_client.get("/billing/patients/999999/").status_code == 404


def test_it_refuses_to_post_to_the_account_page(owner_client, eleanor):
    patient, _ = eleanor

    assert owner_client.post(f"/billing/patients/{patient.pk}/").status_code == 405


# -- the statement ----------------------------------------------------------------------------


def test_it_prints_what_the_patient_owes_by_claim(owner_client, practice, eleanor):
    practice.address_line1, practice.city, practice.state, practice.zip_code = "12 Main St", "Austin", "TX", "78701"
    practice.save()
    patient, (first, second) = eleanor
    services.transfer(first, Decimal("40.00"), key="t1", from_responsibility="primary", to_responsibility="patient")
    _pay(practice, patient, "15.00")  # kept as credit

    response = owner_client.get(f"/billing/patients/{patient.pk}/statement/")

    body = response.content.decode()
    assert response.status_code == 200
    assert "Alpha Family Clinic" in body and "12 Main St" in body
    assert first.claim_number in body
    assert second.claim_number not in body  # the patient owes nothing on it
    assert response.context["owed"] == Decimal("40.00")
    assert response.context["amount_due"] == Decimal("25.00")
    assert "@media print" not in body  # the print rules live in the stylesheet
    assert "data-print" in body


def test_it_says_when_the_patient_owes_nothing(owner_client, eleanor):
    patient, _ = eleanor

    assert (
        "You owe nothing at this time."
        in owner_client.get(f"/billing/patients/{patient.pk}/statement/").content.decode()
    )
