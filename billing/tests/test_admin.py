"""The billing models in the operators' admin: viewable, never changed there."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from billing import services
from billing.models import JournalTransaction
from billing.tests.test_pages_support import patient_with_claims
from billingpulse.models import User

pytestmark = pytest.mark.django_db
MODELS = [
    "journaltransaction",
    "ledgerentry",
    "patientaccount",
    "payment",
    "remittance",
    "remittanceclaim",
    "expectedpayment",
]


@pytest.fixture
def superuser_client(db):
    client = Client()
    client.force_login(User.objects.create_superuser("ops@billingpulse.example", "an-operator-password"))
    return client


@pytest.fixture
def books(practice):
    patient, (claim,) = patient_with_claims(practice, "250.00")
    payment = services.record_payment(
        practice,
        key="p",
        source="patient",
        method="cash",
        amount=Decimal("40.00"),
        payment_date=date(2026, 11, 2),
        patient=patient,
        allocations=[services.Allocation(claim, Decimal("25.00"))],
    )
    services.expect_payment(claim, amount=Decimal("100.00"))
    return claim, payment


def test_it_lists_every_billing_model(superuser_client, books):
    for model in MODELS:
        url = f"/admin/billing/{model}/"
        assert superuser_client.get(url).status_code == 200, url
        assert superuser_client.get(url + "?q=a").status_code == 200, url


def test_it_shows_a_transaction_with_its_entries_read_only(superuser_client, books):
    claim, _ = books
    charge = claim.ledger.get(kind="charge")

    response = superuser_client.get(f"/admin/billing/journaltransaction/{charge.pk}/change/")

    body = response.content.decode()
    assert response.status_code == 200
    assert "Gross charges" in body and "Primary insurance receivable" in body
    assert 'name="amount"' not in body
    assert 'name="_save"' not in body


@pytest.mark.parametrize("model", MODELS)
def test_it_offers_no_add_change_or_delete(superuser_client, books, model):
    assert superuser_client.get(f"/admin/billing/{model}/add/").status_code == 403


def test_it_refuses_to_change_or_delete_a_transaction(superuser_client, books):
    claim, payment = books
    charge = claim.ledger.get(kind="charge")

    change = superuser_client.post(
        f"/admin/billing/journaltransaction/{charge.pk}/change/", {"amount": "1.00", "memo": "edited"}
    )
    delete = superuser_client.post(f"/admin/billing/journaltransaction/{charge.pk}/delete/", {"post": "yes"})
    void = superuser_client.post(f"/admin/billing/payment/{payment.pk}/change/", {"status": "voided"})

    assert change.status_code == 403 and delete.status_code == 403 and void.status_code == 403
    charge = JournalTransaction.objects.get(pk=charge.pk)
    assert charge.amount == Decimal("250.00") and charge.memo == "Charge"
    payment.refresh_from_db()
    assert payment.status == "completed"


def test_it_keeps_practice_admins_out(owner, books):
    owner.is_staff = True
    owner.save()
    client = Client()
    client.force_login(owner)

    assert client.get("/admin/billing/journaltransaction/").status_code == 302
