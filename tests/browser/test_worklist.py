"""A biller works the claims worklist in a real browser: search, filter, sort, open, update."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from billingpulse.models import User
from billingpulse.tests.factories import PatientFactory, PracticeFactory, ProviderFactory, UserFactory
from claims.models import Claim, ClaimEvent
from claims.tests.factories import ClaimFactory, ClaimLineFactory, InsurancePolicyFactory, PayerFactory
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PATIENTS = [
    ("Eleanor", "Whitfield"),
    ("Marcus", "Bell"),
    ("Sofia", "Alvarez"),
    ("James", "Thornton"),
    ("Aisha", "Rahman"),
    ("Robert", "Nguyen"),
    ("Grace", "Kowalski"),
    ("Thomas", "Oyelaran"),
    ("Linda", "Castillo"),
    ("Kevin", "Brennan"),
]
PAYERS = [("Aetna", "60054", 90), ("UnitedHealthcare", "87726", 90), ("Cigna", "62308", 180)]
STATUSES = ["denied", "submitted", "in_process", "denied", "pending_info", "denied"]
DENIALS = [("CO-16", "Claim lacks information needed for adjudication."), ("CO-97", "Included in another service.")]
CHARGES = ["95.00", "125.50", "185.00", "250.75", "340.00", "475.25", "610.00", "1250.00", "2380.40", "145.00"]


@pytest.fixture
def biller():
    practice = PracticeFactory(name="Riverbend Family Medicine", time_zone="America/Chicago")
    user = UserFactory(
        email="jordan@riverbend.example", full_name="Jordan Avery", practice=practice, role=User.Role.ADMIN
    )
    provider = ProviderFactory(practice=practice, first_name="Maya", last_name="Okafor", credentials="MD")
    payers = [
        PayerFactory(practice=practice, name=name, payer_id=payer_id, timely_filing_days=days, phone="+18005550111")
        for name, payer_id, days in PAYERS
    ]
    payers[0].ivr_config = {
        "steps": [
            {
                "prompt": "For eligibility press 1, for claim status press 2",
                "options": {"1": "eligibility", "2": "claims"},
            },
            {"prompt": "Please say the reason for your call", "say": "Claim status"},
        ]
    }
    payers[0].save()
    patients = [
        PatientFactory(practice=practice, first_name=first, last_name=last, date_of_birth=date(1950 + 4 * i, 1 + i, 9))
        for i, (first, last) in enumerate(PATIENTS)
    ]
    today = date.today()
    for n in range(30):
        patient, payer, status = patients[n % 10], payers[n % 3], STATUSES[n % len(STATUSES)]
        code, reason = DENIALS[n % 2] if status == "denied" else ("", "")
        claim = ClaimFactory(
            practice=practice,
            patient=patient,
            payer=payer,
            provider=provider,
            policy=InsurancePolicyFactory(practice=practice, patient=patient, payer=payer),
            claim_number=f"RB{24000 + n * 7}",
            service_date_from=today - timedelta(days=20 + 3 * n),
            total_charge=Decimal(CHARGES[n % 10]) + n,
            status=status,
            denial_code=code,
            denial_reason=reason,
            diagnosis_codes=["E11.9", "I10"],
            next_follow_up_date=today + timedelta(days=(n % 9) - 4) if n % 3 else None,
        )
        ClaimLineFactory(claim=claim, line_number=1, procedure_code="99214", charge=claim.total_charge)
        ClaimEvent.objects.create(claim=claim, kind="imported", message="Imported from ar-aging.xlsx.", source="import")
    return user


def _rows(page):
    return page.locator("#claim-table tbody tr")


def _amounts(page) -> list[Decimal]:
    cells = page.locator("#claim-table tbody td.numeric").all_inner_texts()
    return [Decimal(re.sub(r"[^\d.]", "", text.splitlines()[0])) for text in cells]


def test_it_works_a_claim_from_the_worklist(page, biller, screenshot):
    sign_in(page, biller.email)
    page.goto("/claims/")
    expect(page.locator("#claim-table")).to_contain_text("30 claims")
    screenshot(page, "worklist")
    # A full page load would wipe this marker; htmx swaps keep it.
    page.evaluate("window.__noReload = true")

    # Typing narrows the table as you type.
    page.get_by_label("Search").type("whitfield", delay=30)
    expect(_rows(page)).to_have_count(3)
    expect(page.locator("#claim-table")).to_contain_text("3 claims")
    expect(page).to_have_url(re.compile(r"q=whitfield"))
    assert page.evaluate("window.__noReload") is True

    # A status filter goes into the URL, so the view can be bookmarked.
    page.get_by_label("Search").fill("")
    page.get_by_label("Search").dispatch_event("search")
    expect(page.locator("#claim-table")).to_contain_text("30 claims")
    page.get_by_label("Status").select_option("denied")
    expect(page).to_have_url(re.compile(r"status=denied"))
    expect(page.locator("#claim-table")).to_contain_text("15 claims")
    expect(page.locator("#claim-table tbody .badge.status")).to_have_text(["Denied"] * 15)
    assert "q=" not in page.url  # empty filters stay out of the address

    # Sorting by amount: largest first, and the filter is kept.
    page.locator("#claim-table thead").get_by_role("link", name="Amount").click()
    expect(page).to_have_url(re.compile(r"sort=-amount"))
    expect(page.locator("#claim-table th[aria-sort=descending]")).to_contain_text("Amount")
    amounts = _amounts(page)
    assert amounts == sorted(amounts, reverse=True) and len(amounts) == 15
    assert "status=denied" in page.url
    assert page.evaluate("window.__noReload") is True

    # The same URL, loaded afresh, shows the same table.
    page.reload()
    expect(page.locator("#claim-table")).to_contain_text("15 claims")
    assert _amounts(page) == amounts

    # Open the claim at the top and appeal it.
    claim = Claim.objects.filter(status="denied").order_by("-total_charge").first()
    page.get_by_role("link", name=claim.claim_number).click()
    expect(page.get_by_role("heading", name=claim.claim_number)).to_be_visible()
    screenshot(page, "claim-detail")
    page.evaluate("window.__noReload = true")
    page.get_by_label("New status").select_option("appealed")
    page.get_by_label("Reason").fill("Sent the appeal with the referral attached.")
    page.get_by_role("button", name="Update status").click()

    expect(page.locator("#timeline-events li.event").first).to_contain_text("Denied → Appealed")
    expect(page.locator("#timeline-events li.event").first).to_contain_text(
        "Sent the appeal with the referral attached."
    )
    expect(page.locator("#messages")).to_contain_text(f"Claim {claim.claim_number} is now appealed.")
    expect(page.locator("#claim-header .badge.status")).to_have_text("Appealed")
    expect(page.get_by_label("Reason")).to_have_value("")
    assert page.evaluate("window.__noReload") is True
    claim.refresh_from_db()
    assert claim.status == Claim.Status.APPEALED

    # A note lands on top of the timeline without a reload.
    page.get_by_label("Add a note").fill("Appeal faxed to 800-555-0199.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#timeline-events li.event").first).to_contain_text("Appeal faxed to 800-555-0199.")
    expect(page.get_by_label("Add a note")).to_have_value("")
    assert page.evaluate("window.__noReload") is True


def test_it_selects_every_claim_on_the_page(page, biller):
    sign_in(page, biller.email)
    page.goto("/claims/?status=all")

    page.get_by_label("Select all claims on this page").check()

    expect(page.locator("[data-selection-count]")).to_have_text("30 selected")
    page.locator("#claim-table tbody input[type=checkbox]").first.uncheck()
    expect(page.locator("[data-selection-count]")).to_have_text("29 selected")
    assert page.get_by_label("Select all claims on this page").evaluate("el => el.indeterminate") is True


def test_it_shows_the_payer_pages(page, biller, screenshot):
    sign_in(page, biller.email)
    page.goto("/claims/payers/")
    expect(page.get_by_role("link", name="UnitedHealthcare", exact=True)).to_be_visible()
    screenshot(page, "payer-list")

    page.get_by_role("link", name="Aetna", exact=True).click()
    expect(page.locator(".ivr-steps > li")).to_have_count(2)
    screenshot(page, "payer-detail")

    page.get_by_role("link", name="Edit payer").click()
    expect(page.get_by_label("Menu steps (JSON)")).to_contain_text('"prompt"')
    screenshot(page, "payer-edit")
    page.get_by_label("Menu steps (JSON)").fill('{"steps": [{"prompt": "x",}]}')
    page.get_by_role("button", name="Save payer").click()
    expect(page.get_by_text("This is not valid JSON")).to_be_visible()
    screenshot(page, "payer-edit-error")


def test_it_explains_a_denial_code_it_cannot_read_in_the_live_filter(page, biller):
    sign_in(page, biller.email)
    page.goto("/claims/?status=all")
    code = page.get_by_label("Denial code")

    code.fill("hello")
    code.press("Tab")

    expect(page.locator("#claim-table [role=alert]")).to_contain_text("Denial code: Write a denial code like CO-16.")
    expect(page.locator("#id_denial_code_error")).to_have_text("Write a denial code like CO-16.")
    expect(page.locator("#claim-table tbody tr")).to_have_count(30)  # the bad filter is left out
    expect(code).to_have_value("hello")

    code.fill("co16")
    code.press("Tab")

    expect(page.locator("#claim-table [role=alert]")).to_have_count(0)
    expect(page.locator("#id_denial_code_error")).to_have_text("")
