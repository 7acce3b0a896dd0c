from __future__ import annotations

from decimal import Decimal

import pytest

from billing import services
from billing.models import ExpectedPayment, JournalTransaction
from billing.tests.factories import ExpectedPaymentFactory, PaymentFactory, key, posted_claim
from billingpulse.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _txns() -> int:
    return JournalTransaction.objects.count()


def _post(api, claim, what: str, body: dict, idem: str | None = "p-1"):
    headers = {"Idempotency-Key": idem} if idem is not None else {}
    return api.post(f"/api/v1/claims/{claim.pk}/{what}", body, format="json", headers=headers)


# Transactions


def test_it_lists_transactions_with_their_entries(api, practice):
    claim = posted_claim("250.00", practice=practice)

    [row] = api.get("/api/v1/transactions").json()["results"]

    assert row["kind"] == "charge"
    assert row["claim"] == claim.pk
    assert row["claim_number"] == claim.claim_number
    assert row["amount"] == "250.00"
    assert row["claim_balance_after"] == "250.00"
    assert row["reversed_by"] is None
    assert row["entries"] == [
        {"account": "primary_ar", "account_label": "Primary insurance receivable", "amount": "250.00", "side": "debit"},
        {"account": "charges", "account_label": "Gross charges", "amount": "250.00", "side": "credit"},
    ]


def test_it_filters_transactions(api, practice):
    claim = posted_claim(practice=practice)
    other = posted_claim(practice=practice)
    payment = PaymentFactory(practice=practice)
    services.adjust(claim, Decimal("10.00"), key=key(), reason="contractual")

    def kinds(query: str) -> list[str]:
        response = api.get(f"/api/v1/transactions{query}")
        assert response.status_code == 200, response.json()
        return [row["kind"] for row in response.json()["results"]]

    assert kinds(f"?claim={claim.pk}") == ["charge", "adjustment"]
    assert kinds(f"?patient={other.patient_id}") == ["charge"]
    assert kinds(f"?payment={payment.pk}") == ["payment"]
    assert kinds("?kind=adjustment,payment") == ["payment", "adjustment"]
    assert kinds("?source=era") == []
    assert kinds("?date_from=2026-11-02&date_to=2026-11-02") == ["payment"]
    assert api.get("/api/v1/transactions?kind=gift").status_code == 400
    assert api.get("/api/v1/transactions?claim=abc").status_code == 400


def test_it_lists_transactions_in_a_constant_number_of_queries(api, practice, django_assert_max_num_queries):
    posted_claim(practice=practice)
    with django_assert_max_num_queries(6) as one:
        api.get("/api/v1/transactions")
    for _ in range(3):
        PaymentFactory(practice=practice)
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = api.get("/api/v1/transactions")
    assert response.json()["count"] == 10


def test_it_has_no_way_to_change_a_transaction(api, practice):
    txn = posted_claim(practice=practice).ledger.get()

    assert api.patch(f"/api/v1/transactions/{txn.pk}", {"memo": "x"}, format="json").status_code == 405
    assert api.delete(f"/api/v1/transactions/{txn.pk}").status_code == 405
    assert api.post("/api/v1/transactions", {}, format="json").status_code == 405


def test_it_lets_an_admin_reverse_a_transaction_once(api, practice):
    claim = posted_claim(practice=practice)
    txn = services.adjust(claim, Decimal("25.00"), key=key(), reason="hardship")

    response = api.post(f"/api/v1/transactions/{txn.pk}/reverse", {"reason": "Posted to the wrong claim"})

    assert response.status_code == 201, response.json()
    reversal = response.json()
    assert reversal["kind"] == "reversal"
    assert reversal["reverses"] == txn.pk
    assert reversal["memo"] == "Posted to the wrong claim"
    assert api.get(f"/api/v1/transactions/{txn.pk}").json()["reversed_by"] == reversal["id"]
    claim.refresh_from_db()
    assert claim.balance == Decimal("250.00")

    twice = api.post(f"/api/v1/transactions/{txn.pk}/reverse", {"reason": "Posted to the wrong claim"})
    of_reversal = api.post(f"/api/v1/transactions/{reversal['id']}/reverse", {"reason": "Undo"})

    assert twice.status_code == 400
    assert twice.json()["non_field_errors"] == [f"Transaction #{txn.pk} has already been reversed (#{reversal['id']})."]
    assert of_reversal.status_code == 400
    assert "cannot itself be reversed" in of_reversal.json()["non_field_errors"][0]
    assert _txns() == 3


def test_it_needs_a_reason_to_reverse(api, practice):
    txn = posted_claim(practice=practice).ledger.get()

    response = api.post(f"/api/v1/transactions/{txn.pk}/reverse", {}, format="json")

    assert response.status_code == 400
    assert "reason" in response.json()
    assert _txns() == 1


def test_it_lets_only_admins_reverse(teammate_api, practice):
    txn = posted_claim(practice=practice).ledger.get()

    assert teammate_api.get(f"/api/v1/transactions/{txn.pk}").status_code == 200
    response = teammate_api.post(f"/api/v1/transactions/{txn.pk}/reverse", {"reason": "Mine"}, format="json")

    assert response.status_code == 403
    assert _txns() == 1


def test_it_answers_404_for_another_practices_transaction(api, other_practice):
    txn = posted_claim(practice=other_practice).ledger.get()

    assert api.get(f"/api/v1/transactions/{txn.pk}").status_code == 404
    assert api.post(f"/api/v1/transactions/{txn.pk}/reverse", {"reason": "x"}, format="json").status_code == 404
    assert _txns() == 1


# Postings on a claim


def test_it_adjusts_a_claim_and_replays_the_adjustment(api, practice):
    claim = posted_claim("250.00", practice=practice)
    body = {"amount": "50.00", "reason": "contractual", "carc_group": "CO", "carc_code": "45"}

    first = _post(api, claim, "adjustments", body)
    again = _post(api, claim, "adjustments", body)

    assert (first.status_code, again.status_code) == (201, 200), first.json()
    assert first.json() == again.json()
    assert first.json()["kind"] == "adjustment"
    assert first.json()["carc_code"] == "45"
    assert first.json()["claim_balance_after"] == "200.00"
    claim.refresh_from_db()
    assert (claim.adjustment_amount, claim.balance) == (Decimal("50.00"), Decimal("200.00"))


def test_it_refuses_a_key_reused_for_another_posting(api, practice):
    claim = posted_claim(practice=practice)
    _post(api, claim, "adjustments", {"amount": "50.00", "reason": "contractual"})

    response = _post(api, claim, "write-offs", {"amount": "5.00", "reason": "small_balance"})

    assert response.status_code == 409
    assert _txns() == 2


@pytest.mark.parametrize(
    ("what", "body", "field", "message"),
    [
        ("adjustments", {"amount": "-5.00", "reason": "contractual"}, "amount", "more than zero"),
        ("adjustments", {"amount": "0", "reason": "contractual"}, "amount", "more than zero"),
        ("adjustments", {"amount": "5.00", "reason": "because"}, "reason", "not a valid choice"),
        ("adjustments", {"amount": "5.00", "reason": "other", "carc_group": "XX"}, "carc_group", "does not match"),
        ("adjustments", {"amount": "250.01", "reason": "contractual"}, "amount", "$250.00"),
        ("adjustments", {"amount": "5.00", "reason": "other", "responsibility": "patient"}, "amount", "$0"),
        ("write-offs", {"amount": "5.00", "reason": "hardship"}, "reason", "not a valid choice"),
        ("write-offs", {"amount": "300.00", "reason": "bad_debt"}, "amount", "at most"),
        ("transfers", {"from": "primary", "to": "primary", "amount": "5.00"}, "to", "someone else"),
        ("transfers", {"from": "primary", "to": "insurer", "amount": "5.00"}, "to", "not a valid choice"),
        ("transfers", {"from": "secondary", "to": "patient", "amount": "5.00"}, "amount", "at most"),
        ("transfers", {"to": "patient", "amount": "5.00"}, "from", "required"),
        ("apply-credit", {"amount": "5.00"}, "amount", "at most"),
        ("apply-credit", {"amount": "1e3"}, "amount", ""),
    ],
)
def test_it_refuses_bad_postings_and_writes_nothing(api, practice, what, body, field, message):
    claim = posted_claim("250.00", practice=practice)

    response = _post(api, claim, what, body)

    assert response.status_code == 400, response.json()
    assert message in str(response.json()[field])
    assert _txns() == 1


def test_it_writes_off_transfers_and_applies_credit(api, practice):
    claim = posted_claim("250.00", practice=practice)
    services.record_payment(
        practice,
        key=key(),
        source="patient",
        method="cash",
        amount=Decimal("30.00"),
        payment_date=claim.service_date_from,
        patient=claim.patient,
    )

    moved = _post(api, claim, "transfers", {"from": "primary", "to": "patient", "amount": "100.00"}, idem="t")
    applied = _post(api, claim, "apply-credit", {"amount": "30.00"}, idem="c")
    written = _post(
        api, claim, "write-offs", {"amount": "20.00", "reason": "small_balance", "responsibility": "patient"}, idem="w"
    )

    assert [r.status_code for r in (moved, applied, written)] == [201, 201, 201], applied.json()
    assert [r.json()["kind"] for r in (moved, applied, written)] == ["transfer", "credit_applied", "write_off"]
    claim.refresh_from_db()
    assert claim.patient_responsibility == Decimal("50.00")
    assert claim.balance == Decimal("200.00")
    claim.patient.account.refresh_from_db()
    assert claim.patient.account.credit == Decimal("0.00")


def test_it_refuses_credit_the_patient_does_not_have(api, practice):
    claim = posted_claim("250.00", practice=practice)
    services.transfer(claim, Decimal("100.00"), key=key(), from_responsibility="primary", to_responsibility="patient")

    response = _post(api, claim, "apply-credit", {"amount": "10.00"})

    assert response.status_code == 400
    assert "credit" in str(response.json())
    assert _txns() == 2


def test_it_needs_an_idempotency_key_to_post_on_a_claim(api, practice):
    claim = posted_claim(practice=practice)

    response = _post(api, claim, "adjustments", {"amount": "5.00", "reason": "other"}, idem=None)

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert _txns() == 1


def test_it_lets_staff_post_on_claims(teammate_api, practice):
    claim = posted_claim(practice=practice)

    assert _post(teammate_api, claim, "adjustments", {"amount": "5.00", "reason": "other"}).status_code == 201


def test_it_answers_404_for_another_practices_claim(api, other_practice):
    claim = posted_claim(practice=other_practice)

    for what in ("adjustments", "write-offs", "transfers", "apply-credit"):
        assert _post(api, claim, what, {"amount": "5.00", "reason": "other"}).status_code == 404
    assert _txns() == 1


def test_it_leaves_the_claims_own_routes_alone(api, practice):
    claim = posted_claim(practice=practice)

    assert api.get(f"/api/v1/claims/{claim.pk}").status_code == 200
    assert api.get(f"/api/v1/claims/{claim.pk}/events").status_code == 200
    assert api.get(f"/api/v1/claims/{claim.pk}/adjustments").status_code == 405


# Patients' balances


def test_it_lists_patients_with_their_balances(api, practice):
    owing = posted_claim("250.00", practice=practice).patient
    quiet = PatientFactory(practice=practice, last_name="Zimmer")

    rows = {row["patient"]: row for row in api.get("/api/v1/patient-accounts").json()["results"]}

    assert rows[owing.pk]["insurance_balance"] == "250.00"
    assert rows[owing.pk]["balance"] == "250.00"
    assert rows[quiet.pk]["balance"] == "0.00"
    assert rows[quiet.pk]["credit"] == "0.00"

    def patients(query: str) -> list[int]:
        response = api.get(f"/api/v1/patient-accounts{query}")
        assert response.status_code == 200, response.json()
        return [row["patient"] for row in response.json()["results"]]

    assert patients("?balance=open") == [owing.pk]
    assert patients("?balance=credit") == []
    assert patients("?search=Zimmer") == [quiet.pk]
    assert patients("?ordering=-balance")[0] == owing.pk
    assert api.get("/api/v1/patient-accounts?balance=huge").status_code == 400
    assert api.get("/api/v1/patient-accounts?ordering=age").status_code == 400


def test_it_shows_a_patients_account_with_claims_and_credit(api, practice):
    claim = posted_claim("250.00", practice=practice)
    services.record_payment(
        practice,
        key=key(),
        source="patient",
        method="cash",
        amount=Decimal("15.00"),
        payment_date=claim.service_date_from,
        patient=claim.patient,
    )

    body = api.get(f"/api/v1/patient-accounts/{claim.patient_id}").json()

    assert body["credit"] == "15.00"
    assert body["balance"] == "235.00"
    assert body["claims"] == [
        {
            "id": claim.pk,
            "claim_number": claim.claim_number,
            "service_date_from": "2026-09-14",
            "status": claim.status,
            "payer": claim.payer_id,
            "total_charge": "250.00",
            "paid_amount": "0.00",
            "adjustment_amount": "0.00",
            "patient_responsibility": "0.00",
            "balance": "250.00",
        }
    ]


def test_it_lists_patient_accounts_in_a_constant_number_of_queries(api, practice, django_assert_max_num_queries):
    posted_claim(practice=practice)
    with django_assert_max_num_queries(5) as one:
        api.get("/api/v1/patient-accounts")
    for _ in range(4):
        posted_claim(practice=practice)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert api.get("/api/v1/patient-accounts").json()["count"] == 5


def test_it_answers_404_for_another_practices_patient_account(api, other_practice):
    claim = posted_claim(practice=other_practice)

    assert api.get(f"/api/v1/patient-accounts/{claim.patient_id}").status_code == 404


# Expected payments


def test_it_lists_expected_payments_with_filters(api, practice, django_assert_max_num_queries):
    waiting = ExpectedPaymentFactory(practice=practice, amount=Decimal("112.40"))
    ExpectedPaymentFactory(practice=practice, status=ExpectedPayment.Status.RECEIVED)
    ExpectedPaymentFactory()  # another practice's

    with django_assert_max_num_queries(5):
        rows = api.get("/api/v1/expected-payments").json()["results"]
    assert len(rows) == 2
    [row] = api.get("/api/v1/expected-payments?status=expected").json()["results"]
    assert row["id"] == waiting.pk
    assert row["amount"] == "112.40"
    assert row["claim_number"] == waiting.claim.claim_number
    assert row["difference"] is None
    assert [r["id"] for r in api.get(f"/api/v1/expected-payments?claim={waiting.claim_id}").json()["results"]] == [
        waiting.pk
    ]
    assert api.get("/api/v1/expected-payments?status=maybe").status_code == 400


def test_it_answers_404_for_another_practices_expected_payment(api, other_practice):
    theirs = ExpectedPaymentFactory(practice=other_practice)

    assert api.get(f"/api/v1/expected-payments/{theirs.pk}").status_code == 404


# The schema


def test_it_documents_every_billing_route_without_schema_warnings(api):
    from io import StringIO

    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", stdout=StringIO())
    paths = api.get("/api/schema/?format=json").json()["paths"]

    for money_post in ("/api/v1/payments", "/api/v1/claims/{id}/adjustments", "/api/v1/payments/{id}/refund"):
        [header] = [p for p in paths[money_post]["post"]["parameters"] if p["in"] == "header"]
        assert (header["name"], header["required"]) == ("Idempotency-Key", True)
    assert {"/api/v1/transactions/{id}/reverse", "/api/v1/patient-accounts/{id}", "/api/v1/expected-payments"} <= set(
        paths
    )
