"""A biller enters a claim by hand in a real browser: finds the patient, picks the payer and
policy, types two service lines, and finds the claim on its page and in the worklist."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from billingpulse.models import User
from billingpulse.tests.factories import PatientFactory, PracticeFactory, ProviderFactory, UserFactory
from claims.models import Claim
from claims.tests.factories import InsurancePolicyFactory, PayerFactory
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def biller():
    practice = PracticeFactory(name="Riverbend Family Medicine", time_zone="America/Chicago")
    user = UserFactory(
        email="jordan@riverbend.example", full_name="Jordan Avery", practice=practice, role=User.Role.STAFF
    )
    ProviderFactory(practice=practice, first_name="Maya", last_name="Okafor", credentials="MD")
    payer = PayerFactory(practice=practice, name="Aetna", payer_id="60054")
    PayerFactory(practice=practice, name="Cigna", payer_id="62308")
    patient = PatientFactory(
        practice=practice, first_name="Eleanor", last_name="Whitfield", date_of_birth=date(1961, 3, 9)
    )
    PatientFactory(practice=practice, first_name="Marcus", last_name="Bell")
    InsurancePolicyFactory(practice=practice, patient=patient, payer=payer, member_id="W123456789")
    return user


def test_a_biller_enters_a_claim_with_two_service_lines(page, biller, server_idle, screenshot):
    sign_in(page, biller.email)
    page.goto("/claims/")
    page.get_by_role("link", name="New claim").click()
    expect(page.get_by_role("heading", name="New claim")).to_be_visible()

    # The patient, found as the biller types.
    page.get_by_label("Find a patient").fill("whit")
    page.get_by_label("Whitfield, Eleanor", exact=False).check()
    # The payer brings the patient's policy with it.
    page.get_by_label("Payer").select_option(label="Aetna (60054)")
    expect(page.locator("#policy-field option", has_text="W123456789")).to_have_count(1)
    page.get_by_label("Policy on file").select_option(label="Member W123456789 (primary)")
    page.get_by_label("Rendering provider").select_option(label="Maya Okafor, MD")
    page.get_by_label("Date of service", exact=True).fill("2026-11-02")
    page.get_by_label("ICD-10 codes").fill("E11.9, I10")

    rows = page.locator("#line-rows tr")
    first, second = rows.nth(0), rows.nth(1)
    first.get_by_label("CPT/HCPCS").fill("99213")
    first.get_by_label("Charge").fill("125.00")
    first.get_by_label("Dx pointers").fill("A")
    second.get_by_label("CPT/HCPCS").fill("3641")
    second.get_by_label("Modifiers").fill("25")
    second.get_by_label("Charge").fill("30.50")
    second.get_by_label("Dx pointers").fill("AB")
    expect(page.locator("[data-lines-total]")).to_have_text("$155.50")
    # "Add line" appends a row in place.
    count = rows.count()
    page.get_by_role("button", name="Add line").click()
    expect(rows).to_have_count(count + 1)
    screenshot(page, "claim-entry-form")

    # A mistyped code: the page comes back with the error beside it and everything as typed.
    page.get_by_role("button", name="Create claim", exact=True).last.click()
    expect(page.get_by_text("A CPT or HCPCS code has five characters", exact=False)).to_be_visible()
    expect(page.get_by_label("Whitfield, Eleanor", exact=False)).to_be_checked()
    expect(page.locator("#id_policy option:checked")).to_have_text("Member W123456789 (primary)")
    expect(page.locator("[data-lines-total]")).to_have_text("$155.50")
    screenshot(page, "claim-entry-errors")
    page.locator("#line-rows tr").nth(1).get_by_label("CPT/HCPCS").fill("36415")
    page.get_by_role("button", name="Create claim", exact=True).last.click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("BP000001")
    expect(page.locator(".message", has_text="Claim BP000001 created.")).to_be_visible()
    lines = page.locator("section[aria-labelledby=lines-title] tbody tr")
    expect(lines).to_have_count(2)
    expect(lines.nth(1)).to_contain_text("36415")
    timeline = page.locator("#timeline-events")
    expect(timeline).to_contain_text("Entered by hand.")
    expect(timeline).to_contain_text("Jordan Avery")
    screenshot(page, "claim-entered")
    with server_idle:
        claim = Claim.objects.get()
        assert (claim.total_charge, claim.balance, claim.policy.member_id) == (
            Decimal("155.50"),
            Decimal("155.50"),
            "W123456789",
        )

    page.get_by_role("link", name="Claims", exact=True).first.click()
    row = page.locator("tr", has_text="BP000001")
    expect(row).to_contain_text("Whitfield, Eleanor")
    expect(row).to_contain_text("$155.50")
