"""A biller imports a messy spreadsheet in a real browser and works the result."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from billingpulse.models import User
from billingpulse.tests.factories import PracticeFactory, UserFactory
from claims.models import Claim
from claims.tests.factories import PayerFactory
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "samples" / "claims" / "claims-messy.csv"
# Used when the shared samples are not beside the checkout: the same kinds of mess.
FALLBACK = (
    "Claim #,Patient,DOB,DOS,Balance,Denial Code,Denial,Payer ID,Member ID,note\n"
    "CLM-1,Anthony Johnson,1987-04-06,11/29/25,240.00,CO-29,Timely filing limit expired,62308,W1,\n"
    'CLM-2,Maria Miller,03/15/1981,04/10/2026,"$1,250.00",CO-16,Missing information,60054,W2,\n'
    "CLM-3,Betty O'Brien,07/30/1988,13/45/2026,$85.00,,,60054,W3,\n"
    ",Nancy Martinez,03/23/2002,10/9/25,$240.00,CO-50,Not medically necessary,60054,W4,\n"
)


@pytest.fixture
def biller():
    practice = PracticeFactory(name="Riverbend Family Medicine")
    for name, payer_id in [("Aetna", "60054"), ("UnitedHealthcare", "87726"), ("Cigna", "62308")]:
        PayerFactory(practice=practice, name=name, payer_id=payer_id)
    PayerFactory(practice=practice, name="Humana", payer_id="61101")
    PayerFactory(practice=practice, name="BCBS Texas", payer_id="00590")
    return UserFactory(email="sam@riverbend.example", practice=practice, role=User.Role.STAFF)


def test_it_imports_a_messy_spreadsheet_and_finds_a_claim(page, biller, screenshot, tmp_path):
    if SAMPLE.exists():
        source, expected = SAMPLE, (195, 5)
    else:
        source = tmp_path / "claims-messy.csv"
        source.write_text(FALLBACK)
        expected = (2, 2)

    sign_in(page, biller.email)

    page.goto("/claims/import/")
    page.get_by_label("Spreadsheet", exact=True).set_input_files(str(source))
    page.get_by_role("button", name="Upload and check columns").click()

    # The detected columns are shown for checking before anything is imported.
    expect(page.get_by_role("heading", name="Check the columns")).to_be_visible()
    expect(page.get_by_label("Claim #")).to_have_value("claim_number")
    expect(page.get_by_label("Balance")).to_have_value("amount")
    expect(page.get_by_label("note")).to_have_value("")
    screenshot(page, "import-columns")
    page.get_by_role("button", name="Import claims").click()

    imported, rejected = expected
    expect(page.get_by_text(f"imported {imported}, updated 0, rejected {rejected}")).to_be_visible()
    expect(page.get_by_role("heading", name="Rows that were not imported")).to_be_visible()
    expect(page.get_by_text("is not a real date. Use MM/DD/YYYY.").first).to_be_visible()
    screenshot(page, "import-report")
    assert Claim.objects.filter(practice=biller.practice).count() == imported

    page.get_by_role("link", name="Go to the worklist").click()
    page.get_by_label("Search").fill("Maria Miller")
    expect(page.locator("#claim-table tbody tr").first).to_contain_text("Miller")
    first = page.locator("#claim-table tbody tr a").first
    number = first.inner_text()
    first.click()
    expect(page).to_have_url(re.compile(r"/claims/\d+/$"))
    expect(page.get_by_role("heading", name=number)).to_be_visible()
    # The timeline says where the claim came from; the ledger panel shows its imported charge.
    expect(page.locator(".event-message", has_text="Imported from claims-messy.csv")).to_be_visible()
    expect(page.locator(".ledger-memo", has_text="Charge imported from claims-messy.csv")).to_be_visible()
    screenshot(page, "imported-claim")
