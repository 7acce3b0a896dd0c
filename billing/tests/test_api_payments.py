from __future__ import annotations

from decimal import Decimal

import pytest

from billing.models import JournalTransaction, Payment
from billing.tests.factories import PaymentFactory, posted_claim
from billingpulse.tests.factories import PatientFactory
from claims.tests.factories import PayerFactory

pytestmark = pytest.mark.django_db


def _pay(api, body: dict, idem: str | None = "k-1"):
    headers = {"Idempotency-Key": idem} if idem is not None else {}
    return api.post("/api/v1/payments", body, format="json", headers=headers)


def _patient_payment(claim, **overrides) -> dict:
    return {
        "source": "patient",
        "method": "card",
        "amount": "100.00",
        "payment_date": "2026-11-02",
        "patient": claim.patient_id,
        "allocations": [{"claim": claim.pk, "amount": "60.00"}],
        **overrides,
    }


def _books() -> tuple[int, int]:
    return Payment.objects.count(), JournalTransaction.objects.count()


# Creating


def test_it_records_a_patient_payment_with_allocation_and_credit(api, practice):
    claim = posted_claim(practice=practice)

    response = _pay(api, _patient_payment(claim))

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["amount"] == "100.00"
    assert body["status"] == "completed"
    assert body["allocations"] == [{"claim": claim.pk, "amount": "60.00"}]
    assert body["unapplied"] == "40.00"
    assert body["net_payment"] == "100.00"
    claim.patient.account.refresh_from_db()
    assert claim.patient.account.credit == Decimal("40.00")
    keys = set(JournalTransaction.objects.filter(payment_id=body["id"]).values_list("idempotency_key", flat=True))
    assert keys == {"api:k-1:1", "api:k-1:2"}


def test_it_records_an_insurance_payment_allocated_in_full(api, practice):
    payer = PayerFactory(practice=practice)
    claim = posted_claim(practice=practice, payer=payer)
    body = {
        "source": "primary",
        "method": "eft",
        "amount": "212.40",
        "payment_date": "2026-11-18",
        "payer": payer.pk,
        "reference": "EFT881277",
        "allocations": [{"claim": claim.pk, "amount": "212.40"}],
    }

    response = _pay(api, body)

    assert response.status_code == 201, response.json()
    claim.refresh_from_db()
    assert claim.paid_amount == Decimal("212.40")
    assert claim.balance == Decimal("37.60")
    assert claim.status == "partially_paid"


def test_it_replays_the_same_request_with_the_same_key(api, practice):
    claim = posted_claim(practice=practice)
    first = _pay(api, _patient_payment(claim))
    books = _books()

    again = _pay(api, _patient_payment(claim))

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert _books() == books


def test_it_refuses_a_key_reused_with_other_content(api, practice):
    claim = posted_claim(practice=practice)
    _pay(api, _patient_payment(claim))
    books = _books()

    response = _pay(api, _patient_payment(claim, amount="90.00"))

    assert response.status_code == 409
    assert "Idempotency-Key was already used" in response.json()["detail"]
    assert _books() == books


def test_it_needs_an_idempotency_key(api, practice):
    claim = posted_claim(practice=practice)

    missing = _pay(api, _patient_payment(claim), idem=None)
    spaced = _pay(api, _patient_payment(claim), idem="has space")

    assert missing.status_code == 400
    assert "Idempotency-Key header" in missing.json()["Idempotency-Key"][0]
    assert spaced.status_code == 400
    assert _books() == (0, 1)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"amount": "0.00"}, "amount", "more than zero"),
        ({"amount": "-5.00"}, "amount", "more than zero"),
        ({"amount": "10.005"}, "amount", "two decimal places"),
        ({"amount": "abc"}, "amount", "valid number"),
        ({"method": "bitcoin"}, "method", "not a valid choice"),
        ({"payment_date": "9999-01-01"}, "payment_date", "between"),
        ({"allocations": [{"claim": 0, "amount": "10.00"}]}, "allocations", "No such claim."),
        ({"allocations": [{"claim": "x", "amount": "10.00"}]}, "allocations", "No such claim."),
    ],
)
def test_it_refuses_bad_input_and_writes_nothing(api, practice, overrides, field, message):
    claim = posted_claim(practice=practice)

    response = _pay(api, _patient_payment(claim, **overrides))

    assert response.status_code == 400
    assert message in str(response.json()[field])
    assert _books() == (0, 1)


def test_it_refuses_an_allocation_beyond_the_payment(api, practice):
    claim = posted_claim(practice=practice)

    response = _pay(api, _patient_payment(claim, allocations=[{"claim": claim.pk, "amount": "100.01"}]))

    assert response.status_code == 400
    assert "more than the $100.00 payment" in response.json()["allocations"][0]
    assert _books() == (0, 1)


def test_it_refuses_an_insurance_payment_not_allocated_in_full(api, practice):
    claim = posted_claim(practice=practice)
    body = {"source": "primary", "method": "check", "amount": "50.00", "payment_date": "2026-11-02"}

    response = _pay(api, {**body, "allocations": [{"claim": claim.pk, "amount": "20.00"}]})

    assert response.status_code == 400
    assert "$30.00 is left" in response.json()["allocations"][0]


def test_it_answers_another_practices_claim_as_no_such_claim(api, practice, other_practice):
    claim = posted_claim(practice=practice)
    theirs = posted_claim(practice=other_practice)
    books = _books()

    response = _pay(api, _patient_payment(claim, allocations=[{"claim": theirs.pk, "amount": "10.00"}]))

    assert response.status_code == 400
    assert response.json()["allocations"] == {"0": {"claim": ["No such claim."]}}
    assert _books() == books


def test_it_refuses_another_practices_patient(api, practice, other_practice):
    claim = posted_claim(practice=practice)
    stranger = PatientFactory(practice=other_practice)

    response = _pay(api, _patient_payment(claim, patient=stranger.pk, allocations=[]))

    assert response.status_code == 400
    assert response.json()["patient"] == ["No such patient."]


# Reading


def test_it_lists_payments_with_filters(api, practice):
    by_check = PaymentFactory(practice=practice, amount="40.00")
    payer = PayerFactory(practice=practice)
    claim = posted_claim(practice=practice, payer=payer)
    _pay(
        api,
        {
            "source": "primary",
            "method": "eft",
            "amount": "50.00",
            "payment_date": "2026-12-01",
            "payer": payer.pk,
            "allocations": [{"claim": claim.pk, "amount": "50.00"}],
        },
    )

    def ids(query: str) -> list[int]:
        response = api.get(f"/api/v1/payments{query}")
        assert response.status_code == 200, response.json()
        return [row["amount"] for row in response.json()["results"]]

    assert ids("") == ["50.00", "40.00"]
    assert ids(f"?patient={by_check.patient_id}") == ["40.00"]
    assert ids(f"?payer={payer.pk}") == ["50.00"]
    assert ids("?source=patient") == ["40.00"]
    assert ids("?status=completed,refunded") == ["50.00", "40.00"]
    assert ids("?date_from=2026-11-15") == ["50.00"]
    assert ids("?date_to=2026-11-15") == ["40.00"]
    assert api.get("/api/v1/payments?status=lost").status_code == 400
    assert api.get("/api/v1/payments?date_from=yesterday").status_code == 400


def test_it_lists_payments_in_a_constant_number_of_queries(api, practice, django_assert_max_num_queries):
    PaymentFactory(practice=practice)
    with django_assert_max_num_queries(6) as one:
        api.get("/api/v1/payments")
    PaymentFactory.create_batch(4, practice=practice)
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = api.get("/api/v1/payments")
    assert response.json()["count"] == 5


def test_it_answers_404_for_another_practices_payment(api, other_practice):
    theirs = PaymentFactory(practice=other_practice)
    books = _books()

    assert api.get(f"/api/v1/payments/{theirs.pk}").status_code == 404
    refund = {"amount": "1.00", "reason": "Overpaid"}
    assert (
        api.post(f"/api/v1/payments/{theirs.pk}/refund", refund, format="json", headers={"Idempotency-Key": "r"})
    ).status_code == 404
    assert api.post(f"/api/v1/payments/{theirs.pk}/void", {"reason": "x"}, format="json").status_code == 404
    assert _books() == books


# Refunds


def _refund(api, payment, body: dict, idem: str = "refund-1"):
    return api.post(f"/api/v1/payments/{payment.pk}/refund", body, format="json", headers={"Idempotency-Key": idem})


def test_it_refunds_a_patients_credit_and_replays_the_refund(api, practice):
    claim = posted_claim(practice=practice)
    payment_id = _pay(api, _patient_payment(claim)).json()["id"]
    payment = Payment.objects.get(pk=payment_id)

    first = _refund(api, payment, {"amount": "40.00", "reason": "Asked for the credit back"})
    again = _refund(api, payment, {"amount": "40.00", "reason": "Asked for the credit back"})

    assert (first.status_code, again.status_code) == (201, 200), first.json()
    assert first.json() == again.json()
    assert first.json()["kind"] == "refund"
    assert first.json()["memo"] == "Asked for the credit back"
    payment.refresh_from_db()
    assert payment.status == "partially_refunded"
    assert payment.refunded_amount == Decimal("40.00")
    assert api.get(f"/api/v1/payments/{payment.pk}").json()["net_payment"] == "60.00"


def test_it_refunds_from_a_claim_the_payment_paid(api, practice):
    payment = PaymentFactory(practice=practice, amount="40.00")
    claim = payment.ledger.get().claim

    response = _refund(api, payment, {"amount": "40.00", "reason": "Paid twice", "claim": claim.pk})

    assert response.status_code == 201, response.json()
    payment.refresh_from_db()
    assert payment.status == "refunded"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"amount": "40.01", "reason": "Too much"}, "amount", "cannot exceed"),
        ({"amount": "0", "reason": "Zero"}, "amount", "more than zero"),
        ({"amount": "5.00", "reason": ""}, "reason", "may not be blank"),
        ({"amount": "5.00"}, "reason", "required"),
    ],
)
def test_it_refuses_bad_refunds(api, practice, body, field, message):
    payment = PaymentFactory(practice=practice, amount="40.00")
    claim = payment.ledger.get().claim
    books = _books()

    response = _refund(api, payment, {"claim": claim.pk, **body})

    assert response.status_code == 400
    assert message in str(response.json()[field])
    assert _books() == books


def test_it_refuses_a_refund_from_a_claim_the_payment_did_not_pay(api, practice):
    payment = PaymentFactory(practice=practice, amount="40.00")
    other_claim = posted_claim(practice=practice, patient=payment.patient)

    response = _refund(api, payment, {"amount": "5.00", "reason": "Wrong claim", "claim": other_claim.pk})

    assert response.status_code == 400
    assert response.json()["claim"] == ["This payment paid nothing on that claim."]


# Voids


def test_it_lets_an_admin_void_a_payment(api, practice):
    payment = PaymentFactory(practice=practice, amount="40.00")
    claim = payment.ledger.get().claim

    response = api.post(f"/api/v1/payments/{payment.pk}/void", {"reason": "Check bounced"}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "voided"
    assert response.json()["allocations"] == []
    claim.refresh_from_db()
    assert claim.paid_amount == Decimal("0.00")
    again = api.post(f"/api/v1/payments/{payment.pk}/void", {"reason": "Check bounced"}, format="json")
    assert again.status_code == 400
    assert "already voided" in str(again.json())


def test_it_lets_staff_record_but_not_void_payments(teammate_api, practice):
    claim = posted_claim(practice=practice)
    assert _pay(teammate_api, _patient_payment(claim)).status_code == 201
    payment = Payment.objects.get()

    response = teammate_api.post(f"/api/v1/payments/{payment.pk}/void", {"reason": "Oops"}, format="json")

    assert response.status_code == 403
    payment.refresh_from_db()
    assert payment.status == "completed"


def test_it_needs_a_reason_to_void(api, practice):
    payment = PaymentFactory(practice=practice)

    response = api.post(f"/api/v1/payments/{payment.pk}/void", {"reason": "  "}, format="json")

    assert response.status_code == 400
    payment.refresh_from_db()
    assert payment.status == "completed"


def test_it_records_a_pending_payment_and_completes_it(api, practice):
    claim = posted_claim(practice=practice)

    created = _pay(api, _patient_payment(claim, pending=True), idem="card-9")

    assert created.status_code == 201, created.json()
    assert created.json()["status"] == "pending" and created.json()["allocations"] == []
    assert _pay(api, _patient_payment(claim, pending=True), idem="card-9").status_code == 200  # replayed
    payment_id = created.json()["id"]
    completed = api.post(f"/api/v1/payments/{payment_id}/complete", format="json")
    assert completed.status_code == 200, completed.json()
    assert completed.json()["status"] == "completed"
    claim.refresh_from_db()
    assert claim.paid_amount == Decimal("60.00")


def test_it_lets_an_admin_mark_a_payment_failed(api, teammate_api, practice):
    payment = PaymentFactory(practice=practice, amount="40.00")
    claim = payment.ledger.get().claim

    assert teammate_api.post(f"/api/v1/payments/{payment.pk}/fail", {"reason": "x"}, format="json").status_code == 403
    response = api.post(f"/api/v1/payments/{payment.pk}/fail", {"reason": "ACH return R01"}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "failed"
    claim.refresh_from_db()
    assert claim.paid_amount == Decimal("0.00")
    assert api.post(f"/api/v1/payments/{payment.pk}/complete", format="json").status_code == 400
