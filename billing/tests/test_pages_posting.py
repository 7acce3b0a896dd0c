"""The posting forms: each posts once through billing.services, or says what is wrong and posts nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billing import services
from billing.models import JournalTransaction, Payment
from billing.tests.test_pages_support import fresh, patient_with_claims

pytestmark = pytest.mark.django_db
KEY = "0f8fad5bd9cb469fa16570867728950e"


@pytest.fixture
def account(practice):
    """Two claims, 250 and 100; the patient owes 100 and 40 of them, insurance the rest."""
    patient, (first, second) = patient_with_claims(
        practice, "250.00", "100.00", first_name="Eleanor", last_name="Whitfield"
    )
    for claim, share in ((first, "100.00"), (second, "40.00")):
        services.transfer(
            claim, Decimal(share), key=f"share:{claim.pk}", from_responsibility="primary", to_responsibility="patient"
        )
    return patient, [fresh(first), fresh(second)]


def _payment_data(claims, amount="100.00", allocations=(), **overrides):
    data = {
        "key": KEY,
        "source": "patient",
        "method": "card",
        "amount": amount,
        "payment_date": "2026-11-02",
        "reference": "",
    }
    for claim, value in zip(claims, allocations, strict=False):
        data[f"alloc_{claim.pk}"] = value
    return data | overrides


def _errors(response) -> str:
    return response.content.decode()


# -- payments -----------------------------------------------------------------------------------


def test_it_shows_the_payment_form_with_a_fresh_token_and_a_row_per_open_claim(owner_client, account):
    patient, (first, second) = account

    response = owner_client.get(f"/billing/patients/{patient.pk}/payments/new/")

    form = response.context["form"]
    assert len(form.initial["key"]) == 32
    assert {row["claim"].pk for row in form.allocation_rows} == {first.pk, second.pk}
    assert f'name="alloc_{first.pk}"' in response.content.decode()


def test_it_posts_a_payment_across_claims_and_keeps_the_rest_as_credit(owner_client, owner, account):
    patient, (first, second) = account

    response = owner_client.post(
        f"/billing/patients/{patient.pk}/payments/new/", _payment_data([first, second], "100.00", ["60.00", "25.00"])
    )

    assert response.status_code == 302
    assert response["Location"] == f"/billing/patients/{patient.pk}/"
    payment = Payment.objects.get()
    assert payment.amount == Decimal("100.00") and payment.created_by == owner
    assert fresh(first).balance == Decimal("190.00")
    assert fresh(second).balance == Decimal("75.00")
    patient.account.refresh_from_db()
    assert patient.account.credit == Decimal("15.00")


def test_it_posts_a_double_submitted_payment_once(owner_client, account):
    patient, (first, second) = account
    data = _payment_data([first, second], "100.00", ["60.00", ""])

    owner_client.post(f"/billing/patients/{patient.pk}/payments/new/", data)
    owner_client.post(f"/billing/patients/{patient.pk}/payments/new/", data)

    assert Payment.objects.count() == 1
    assert fresh(first).balance == Decimal("190.00")


def test_it_goes_back_to_the_claim_page_it_came_from(owner_client, account):
    patient, (first, _) = account
    data = _payment_data([first], "60.00", ["60.00"], next=f"/claims/{first.pk}/")

    response = owner_client.post(f"/billing/patients/{patient.pk}/payments/new/", data)

    assert response["Location"] == f"/claims/{first.pk}/"


def test_it_never_follows_a_next_to_another_site(owner_client, account):
    patient, (first, _) = account
    data = _payment_data([first], "60.00", ["60.00"], next="https://evil.example/")

    response = owner_client.post(f"/billing/patients/{patient.pk}/payments/new/", data)

    assert response["Location"] == f"/billing/patients/{patient.pk}/"


def test_it_answers_htmx_with_a_redirect_to_the_refreshed_page(owner_client, account):
    patient, (first, _) = account

    response = owner_client.post(
        f"/billing/patients/{patient.pk}/payments/new/",
        _payment_data([first], "60.00", ["60.00"]),
        headers={"HX-Request": "true"},
    )

    assert response["HX-Redirect"] == f"/billing/patients/{patient.pk}/"


@pytest.mark.parametrize(
    ("amount", "allocations", "message"),
    [
        ("0", [], "Enter an amount more than zero."),
        ("-5.00", [], "Enter an amount more than zero."),
        ("12.345", [], "at most two decimal places"),
        ("abc", [], "Enter a number."),
        ("50.00", ["40.00", "20.00"], "$60.00 is applied to claims, more than the $50.00 payment."),
        ("50.00", ["-10.00", ""], "Enter an amount of zero or more."),
    ],
)
def test_it_refuses_a_bad_payment_and_posts_nothing(owner_client, account, amount, allocations, message):
    patient, claims = account

    response = owner_client.post(
        f"/billing/patients/{patient.pk}/payments/new/", _payment_data(claims, amount, allocations)
    )

    assert response.status_code == 400
    assert message in _errors(response)
    assert not Payment.objects.exists()
    assert JournalTransaction.objects.filter(kind="payment").count() == 0


@pytest.mark.parametrize(
    ("source", "allocation", "message"),
    [
        ("patient", "100.01", "The patient owes $100.00 on claim"),
        ("primary", "150.01", "Insurance owes $150.00 on claim"),
    ],
)
def test_it_refuses_to_apply_more_than_the_payer_owes_on_a_claim(owner_client, account, source, allocation, message):
    patient, (first, _) = account

    response = owner_client.post(
        f"/billing/patients/{patient.pk}/payments/new/",
        _payment_data([first], allocation, [allocation], source=source),
    )

    assert response.status_code == 400
    assert message in _errors(response)
    assert not Payment.objects.exists()


def test_it_refuses_an_insurance_payment_not_applied_in_full(owner_client, account):
    patient, (first, second) = account

    response = owner_client.post(
        f"/billing/patients/{patient.pk}/payments/new/",
        _payment_data([first, second], "100.00", ["60.00", ""], source="primary", method="eft"),
    )

    assert response.status_code == 400
    assert "$40.00 is not applied yet" in _errors(response)
    assert not Payment.objects.exists()


def test_it_posts_an_insurance_payment_against_the_claims_payer(owner_client, account):
    patient, (first, second) = account

    owner_client.post(
        f"/billing/patients/{patient.pk}/payments/new/",
        _payment_data([first, second], "100.00", ["100.00", ""], source="primary", method="eft", reference="EFT9"),
    )

    payment = Payment.objects.get()
    assert payment.payer == first.payer and payment.reference == "EFT9"
    assert fresh(first).paid_amount == Decimal("100.00")


def test_it_answers_a_bad_htmx_payment_with_the_form_in_place(owner_client, account):
    patient, claims = account

    response = owner_client.post(
        f"/billing/patients/{patient.pk}/payments/new/", _payment_data(claims, "0"), headers={"HX-Request": "true"}
    )

    body = response.content.decode()
    assert response.status_code == 200  # htmx swaps only successful responses
    assert "Enter an amount more than zero." in body
    assert not Payment.objects.exists()
    assert 'id="payment-form"' in body and "<html" not in body
    assert response["HX-Retarget"] == "#payment-form"


def test_it_offers_no_allocation_to_another_patients_claim(owner_client, practice, account):
    patient, (first, _) = account
    _, (other,) = patient_with_claims(practice, "80.00")

    owner_client.post(
        f"/billing/patients/{patient.pk}/payments/new/",
        _payment_data([first], "60.00", ["60.00"]) | {f"alloc_{other.pk}": "20.00"},
    )

    assert fresh(other).balance == Decimal("80.00")  # not a field of this patient's form: ignored


def test_it_hides_another_practices_patient_from_the_payment_form(outsider_client, account):
    patient, claims = account

    assert outsider_client.get(f"/billing/patients/{patient.pk}/payments/new/").status_code == 404
    response = outsider_client.post(f"/billing/patients/{patient.pk}/payments/new/", _payment_data(claims, "10.00"))
    assert response.status_code == 404
    assert not Payment.objects.exists()


def test_it_lets_staff_post_payments(teammate_client, account):
    patient, (first, _) = account

    response = teammate_client.post(
        f"/billing/patients/{patient.pk}/payments/new/", _payment_data([first], "10.00", ["10.00"])
    )

    assert response.status_code == 302
    assert Payment.objects.count() == 1


# -- adjustments, write-offs, transfers, credit ----------------------------------------------


def test_it_posts_an_adjustment_to_the_chosen_claim(owner_client, account):
    patient, (first, _) = account

    page = owner_client.get(f"/billing/patients/{patient.pk}/adjust/?claim={first.pk}")
    response = owner_client.post(
        f"/billing/patients/{patient.pk}/adjust/",
        {"key": KEY, "claim": first.pk, "reason": "contractual", "amount": "30.00", "responsibility": "primary"},
    )

    assert page.context["form"].initial["claim"] == str(first.pk)
    assert response.status_code == 302
    assert fresh(first).adjustment_amount == Decimal("30.00")
    assert fresh(first).balance == Decimal("220.00")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"amount": "0"}, "Enter an amount more than zero."),
        ({"amount": "-10"}, "Enter an amount more than zero."),
        ({"reason": ""}, "This field is required."),
        ({"claim": "999999"}, "Select a valid choice."),
    ],
)
def test_it_refuses_a_bad_adjustment_and_posts_nothing(owner_client, account, data, message):
    patient, (first, _) = account
    fields = {"key": KEY, "claim": first.pk, "reason": "contractual", "amount": "30.00", "responsibility": "primary"}

    response = owner_client.post(f"/billing/patients/{patient.pk}/adjust/", fields | data)

    assert response.status_code == 400
    assert message in _errors(response)
    assert not JournalTransaction.objects.filter(kind__in=["adjustment", "write_off"]).exists()


def test_it_refuses_another_practices_claim_in_an_adjustment(owner_client, other_practice, account):
    patient, _ = account
    _, (foreign,) = patient_with_claims(other_practice, "80.00")

    response = owner_client.post(
        f"/billing/patients/{patient.pk}/adjust/",
        {"key": KEY, "claim": foreign.pk, "reason": "contractual", "amount": "30.00", "responsibility": "primary"},
    )

    assert response.status_code == 400
    assert fresh(foreign).adjustment_amount == Decimal("0.00")


def test_it_writes_off_a_patient_balance(owner_client, account):
    patient, (first, _) = account
    services.transfer(first, Decimal("40.00"), key="t", from_responsibility="primary", to_responsibility="patient")

    response = owner_client.post(
        f"/billing/patients/{patient.pk}/write-off/",
        {"key": KEY, "claim": first.pk, "reason": "small_balance", "amount": "40.00", "responsibility": "patient"},
    )

    assert response.status_code == 302
    assert JournalTransaction.objects.filter(kind="write_off").count() == 1
    assert fresh(first).patient_responsibility == Decimal("100.00")  # 100 + 40 moved, 40 written off


def test_it_offers_only_write_off_reasons(owner_client, account):
    patient, (first, _) = account

    response = owner_client.post(
        f"/billing/patients/{patient.pk}/write-off/",
        {"key": KEY, "claim": first.pk, "reason": "contractual", "amount": "40.00", "responsibility": "patient"},
    )

    assert response.status_code == 400
    assert not JournalTransaction.objects.filter(kind="write_off").exists()


def test_it_transfers_responsibility_to_the_patient(owner_client, account):
    patient, (first, _) = account

    response = owner_client.post(
        f"/billing/patients/{patient.pk}/transfer/",
        {
            "key": KEY,
            "claim": first.pk,
            "from_responsibility": "primary",
            "to_responsibility": "patient",
            "amount": "50.00",
        },
    )

    assert response.status_code == 302
    assert fresh(first).patient_responsibility == Decimal("150.00")


def test_it_refuses_a_transfer_to_the_same_responsibility(owner_client, account):
    patient, (first, _) = account

    response = owner_client.post(
        f"/billing/patients/{patient.pk}/transfer/",
        {
            "key": KEY,
            "claim": first.pk,
            "from_responsibility": "patient",
            "to_responsibility": "patient",
            "amount": "5",
        },
    )

    assert response.status_code == 400
    assert "not the same as where it is" in _errors(response)
    assert JournalTransaction.objects.filter(kind="transfer").count() == 2  # the fixture's two


def _with_credit(practice, patient, first):
    services.transfer(first, Decimal("40.00"), key="t", from_responsibility="primary", to_responsibility="patient")
    services.record_payment(
        practice,
        key="credit",
        source="patient",
        method="cash",
        amount=Decimal("25.00"),
        payment_date=date(2026, 11, 2),
        patient=patient,
    )


def test_it_applies_credit_to_a_claim(owner_client, practice, account):
    patient, (first, _) = account
    _with_credit(practice, patient, first)

    response = owner_client.post(
        f"/billing/patients/{patient.pk}/apply-credit/", {"key": KEY, "claim": first.pk, "amount": "25.00"}
    )

    assert response.status_code == 302
    patient.account.refresh_from_db()
    assert patient.account.credit == Decimal("0.00")
    assert fresh(first).patient_responsibility == Decimal("115.00")


@pytest.mark.parametrize(
    ("amount", "message"),
    [("30.00", "The patient has only $25.00 of credit."), ("0", "Enter an amount more than zero.")],
)
def test_it_refuses_to_apply_more_credit_than_there_is(owner_client, practice, account, amount, message):
    patient, (first, _) = account
    _with_credit(practice, patient, first)

    response = owner_client.post(
        f"/billing/patients/{patient.pk}/apply-credit/", {"key": KEY, "claim": first.pk, "amount": amount}
    )

    assert response.status_code == 400
    assert message in _errors(response)
    assert not JournalTransaction.objects.filter(kind="credit_applied").exists()


def test_it_refuses_a_form_without_its_token(owner_client, account):
    patient, (first, _) = account

    response = owner_client.post(
        f"/billing/patients/{patient.pk}/transfer/",
        {
            "key": "x",
            "claim": first.pk,
            "from_responsibility": "primary",
            "to_responsibility": "patient",
            "amount": "5",
        },
    )

    assert response.status_code == 400
    assert "reload the page" in _errors(response)


# -- refunds ------------------------------------------------------------------------------------


@pytest.fixture
def patient_payment(practice, account):
    patient, (first, _) = account
    payment = services.record_payment(
        practice,
        key="pp",
        source="patient",
        method="card",
        amount=Decimal("100.00"),
        payment_date=date(2026, 11, 2),
        patient=patient,
        allocations=[services.Allocation(first, Decimal("60.00"))],
    )
    return payment


def test_it_shows_a_payment_with_what_it_posted(owner_client, patient_payment):
    response = owner_client.get(f"/billing/payments/{patient_payment.pk}/")

    assert response.status_code == 200
    assert len(response.context["transactions"]) == 2
    assert "Refund" in response.content.decode()


def test_it_refunds_from_credit(owner_client, patient_payment):
    response = owner_client.post(
        f"/billing/payments/{patient_payment.pk}/refund/", {"key": KEY, "amount": "40.00", "reason": "Overpaid"}
    )

    assert response.status_code == 302
    patient_payment.refresh_from_db()
    assert patient_payment.refunded_amount == Decimal("40.00")
    assert patient_payment.status == Payment.Status.PARTIALLY_REFUNDED


def test_it_refunds_from_a_claim_the_payment_paid(owner_client, patient_payment):
    claim = patient_payment.ledger.exclude(claim=None).get().claim

    response = owner_client.post(
        f"/billing/payments/{patient_payment.pk}/refund/",
        {"key": KEY, "amount": "10.00", "reason": "Overpaid", "claim": claim.pk},
    )

    assert response.status_code == 302
    assert fresh(claim).paid_amount == Decimal("50.00")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"amount": "100.01"}, "A refund cannot exceed what was paid: $100.00 is left to refund."),
        ({"amount": "0"}, "Enter an amount more than zero."),
        ({"reason": ""}, "This field is required."),
    ],
)
def test_it_refuses_a_bad_refund_and_posts_nothing(owner_client, patient_payment, data, message):
    response = owner_client.post(
        f"/billing/payments/{patient_payment.pk}/refund/", {"key": KEY, "amount": "10.00", "reason": "Why"} | data
    )

    assert response.status_code == 400
    assert message in _errors(response)
    assert not JournalTransaction.objects.filter(kind="refund").exists()


def test_it_refuses_a_refund_the_credit_cannot_cover(owner_client, patient_payment):
    # 40 of the payment is credit; the other 60 paid a claim, so 50 cannot come from credit.
    response = owner_client.post(
        f"/billing/payments/{patient_payment.pk}/refund/", {"key": KEY, "amount": "50.00", "reason": "Why"}
    )

    assert response.status_code == 400
    assert "of credit" in _errors(response)
    assert not JournalTransaction.objects.filter(kind="refund").exists()


def test_it_hides_another_practices_payment(outsider_client, patient_payment):
    for url in ["", "refund/", "void/"]:
        assert outsider_client.get(f"/billing/payments/{patient_payment.pk}/{url}").status_code == 404
    response = outsider_client.post(
        f"/billing/payments/{patient_payment.pk}/refund/", {"key": KEY, "amount": "1.00", "reason": "x"}
    )
    assert response.status_code == 404
    assert not JournalTransaction.objects.filter(kind="refund").exists()


# -- voids and reversals (practice admins) ----------------------------------------------------


def test_it_lets_an_admin_void_a_payment(owner_client, patient_payment):
    response = owner_client.post(f"/billing/payments/{patient_payment.pk}/void/", {"reason": "Card declined"})

    assert response.status_code == 302
    patient_payment.refresh_from_db()
    assert patient_payment.status == Payment.Status.VOIDED
    assert JournalTransaction.objects.filter(kind="reversal").count() == 2


def test_it_refuses_voiding_twice(owner_client, patient_payment):
    owner_client.post(f"/billing/payments/{patient_payment.pk}/void/", {"reason": "Card declined"})

    response = owner_client.post(f"/billing/payments/{patient_payment.pk}/void/", {"reason": "Again"})

    assert response.status_code == 400
    assert "already voided" in _errors(response)
    assert JournalTransaction.objects.filter(kind="reversal").count() == 2


def test_it_keeps_staff_from_voiding(teammate_client, patient_payment):
    assert teammate_client.get(f"/billing/payments/{patient_payment.pk}/void/").status_code == 403
    assert teammate_client.post(f"/billing/payments/{patient_payment.pk}/void/", {"reason": "x"}).status_code == 403
    patient_payment.refresh_from_db()
    assert patient_payment.status == Payment.Status.COMPLETED


def test_it_shows_staff_no_void_or_reverse_button(teammate_client, patient_payment):
    body = teammate_client.get(f"/billing/payments/{patient_payment.pk}/").content.decode()

    assert "/void/" not in body and "/reverse/" not in body


def test_it_lets_an_admin_reverse_a_transaction(owner_client, account):
    patient, (first, _) = account
    charge = first.ledger.get(kind="charge")

    page = owner_client.get(f"/billing/transactions/{charge.pk}/reverse/")
    response = owner_client.post(f"/billing/transactions/{charge.pk}/reverse/", {"reason": "Billed in error"})

    assert page.status_code == 200
    assert response.status_code == 302
    assert response["Location"] == f"/billing/patients/{patient.pk}/"
    reversal = JournalTransaction.objects.get(kind="reversal")
    assert reversal.reverses == charge and reversal.memo == "Billed in error"
    assert fresh(first).total_charge == Decimal("0.00")


def test_it_refuses_reversing_twice(owner_client, account):
    _, (first, _) = account
    charge = first.ledger.get(kind="charge")
    owner_client.post(f"/billing/transactions/{charge.pk}/reverse/", {"reason": "Billed in error"})

    response = owner_client.post(f"/billing/transactions/{charge.pk}/reverse/", {"reason": "Once more"})

    assert response.status_code == 400
    assert "already been reversed" in _errors(response)
    assert JournalTransaction.objects.filter(kind="reversal").count() == 1


def test_it_refuses_reversing_a_reversal(owner_client, account):
    _, (first, _) = account
    reversal = services.reverse(first.ledger.get(kind="charge"), reason="Billed in error")

    response = owner_client.post(f"/billing/transactions/{reversal.pk}/reverse/", {"reason": "Undo"})

    assert response.status_code == 400
    assert "cannot itself be reversed" in _errors(response)
    assert JournalTransaction.objects.filter(kind="reversal").count() == 1


def test_it_asks_why_a_transaction_is_reversed(owner_client, account):
    _, (first, _) = account
    charge = first.ledger.get(kind="charge")

    response = owner_client.post(f"/billing/transactions/{charge.pk}/reverse/", {"reason": "   "})

    assert response.status_code == 400
    assert not JournalTransaction.objects.filter(kind="reversal").exists()


def test_it_keeps_staff_from_reversing(teammate_client, account):
    _, (first, _) = account
    charge = first.ledger.get(kind="charge")

    assert teammate_client.get(f"/billing/transactions/{charge.pk}/reverse/").status_code == 403
    assert teammate_client.post(f"/billing/transactions/{charge.pk}/reverse/", {"reason": "x"}).status_code == 403
    assert not JournalTransaction.objects.filter(kind="reversal").exists()


def test_it_hides_another_practices_transaction(outsider_client, account):
    _, (first, _) = account
    charge = first.ledger.get(kind="charge")

    assert outsider_client.post(f"/billing/transactions/{charge.pk}/reverse/", {"reason": "x"}).status_code == 404
    assert not JournalTransaction.objects.filter(kind="reversal").exists()


@pytest.mark.parametrize(
    "url",
    ["payments/new/", "adjust/", "write-off/", "transfer/", "apply-credit/"],
)
def test_it_hides_another_practices_patient_from_every_form(outsider_client, account, url):
    patient, _ = account

    assert outsider_client.get(f"/billing/patients/{patient.pk}/{url}").status_code == 404


def test_it_refuses_other_methods_on_the_forms(owner_client, account):
    patient, _ = account

    assert owner_client.delete(f"/billing/patients/{patient.pk}/adjust/").status_code == 405


def test_it_records_a_pending_card_payment_and_posts_it_when_settled(owner_client, account):
    patient, (first, second) = account
    data = _payment_data([first, second], "60.00", ["60.00", ""], pending="on")

    response = owner_client.post(f"/billing/patients/{patient.pk}/payments/new/", data)

    assert response.status_code == 302
    payment = Payment.objects.get()
    assert payment.status == Payment.Status.PENDING and not payment.ledger.exists()
    page = owner_client.get(f"/billing/payments/{payment.pk}/").content.decode()
    assert "Mark settled and post" in page and "Nothing posted yet" in page

    settled = owner_client.post(f"/billing/payments/{payment.pk}/complete/")

    assert settled.status_code == 302
    payment.refresh_from_db()
    assert payment.status == Payment.Status.COMPLETED
    assert fresh(first).patient_responsibility == Decimal("40.00")


def test_it_lets_an_admin_mark_a_returned_check_failed(owner_client, teammate_client, patient_payment):
    assert teammate_client.post(f"/billing/payments/{patient_payment.pk}/fail/", {"reason": "x"}).status_code == 403
    page = owner_client.get(f"/billing/payments/{patient_payment.pk}/fail/")
    assert "returned check" in page.content.decode()

    response = owner_client.post(f"/billing/payments/{patient_payment.pk}/fail/", {"reason": "Returned: NSF"})

    assert response.status_code == 302
    patient_payment.refresh_from_db()
    assert patient_payment.status == Payment.Status.FAILED
    assert not patient_payment.ledger.filter(kind="payment", reversed_by__isnull=True).exists()
