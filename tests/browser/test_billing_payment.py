"""A biller posts a patient's payment on the patient's account page, applies it to two claims,
and sees the claim balances, the credit and the account balance change."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from billing import services
from billing.models import Payment
from billing.tests.test_pages_support import patient_with_claims
from billingpulse.models import User
from billingpulse.tests.factories import PracticeFactory, UserFactory
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_posts_a_payment_with_allocation_and_shows_the_new_balances(page, screenshot):
    practice = PracticeFactory(name="Riverbend Family Medicine", time_zone="America/Chicago")
    UserFactory(email="jordan@riverbend.example", full_name="Jordan Avery", practice=practice, role=User.Role.ADMIN)
    patient, (first, second) = patient_with_claims(
        practice, "250.00", "100.00", first_name="Eleanor", last_name="Whitfield"
    )
    for claim, share in ((first, "100.00"), (second, "40.00")):
        services.transfer(
            claim, Decimal(share), key=f"share:{claim.pk}", from_responsibility="primary", to_responsibility="patient"
        )
    sign_in(page, "jordan@riverbend.example")

    page.goto("/billing/patients/")
    page.get_by_role("link", name="Whitfield, Eleanor").click()
    expect(page.get_by_role("heading", name="Eleanor Whitfield")).to_be_visible()
    balances = page.locator("#account-balances")
    expect(balances.locator("[data-amount=balance]")).to_have_text("$350.00")

    form = page.locator("#payment-form")
    form.get_by_label("Amount").fill("100.00")
    form.get_by_label(f"Apply to claim {first.claim_number}", exact=False).fill("60.00")
    form.locator(f"[name=alloc_{second.pk}]").fill("25.00")
    screenshot(page, "payment-filled")
    form.get_by_role("button", name="Post payment").click()

    expect(page.get_by_text("Payment of $100.00 posted for Eleanor Whitfield.")).to_be_visible()
    expect(balances.locator("[data-amount=balance]")).to_have_text("$250.00")
    expect(balances.locator("[data-amount=credit]")).to_have_text("$15.00")
    expect(balances.locator("[data-amount=insurance]")).to_have_text("$210.00")
    expect(balances.locator("[data-amount=patient]")).to_have_text("$55.00")
    expect(page.locator(f"#claim-{first.pk} [data-claim-balance]")).to_have_text("$190.00")
    expect(page.locator(f"#claim-{second.pk} [data-claim-balance]")).to_have_text("$75.00")
    screenshot(page, "payment-posted")
    assert Payment.objects.get().amount == Decimal("100.00")

    # A mistake is shown on the form and nothing is posted.
    form.get_by_label("Amount").fill("10.00")
    form.locator(f"[name=alloc_{second.pk}]").fill("12.00")
    form.get_by_role("button", name="Post payment").click()
    expect(page.locator("#payment-form")).to_contain_text("more than the $10.00 payment")
    assert Payment.objects.count() == 1
