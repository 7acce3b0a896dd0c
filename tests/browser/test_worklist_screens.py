"""The claims worklist on a laptop, a tablet and a phone: everything a biller needs stays in reach."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from billingpulse.models import User
from billingpulse.tests.factories import PASSWORD, PatientFactory, PracticeFactory, UserFactory
from claims.tests.factories import ClaimFactory, PayerFactory
from telephony.models import Call
from telephony.tests.factories import CallFactory
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 768}
TABLET = {"width": 768, "height": 1024}
PHONE = {"width": 390, "height": 844}
PAYERS = ["Blue Cross Blue Shield of Illinois", "UnitedHealthcare Community Plan", "Aetna"]
# How many lines each piece of text in an element takes.
LINES_OF_EACH_TEXT = """el => {
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  const lines = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const range = document.createRange();
    range.selectNodeContents(node);
    lines.push(new Set([...range.getClientRects()].map((rect) => Math.round(rect.top))).size);
  }
  return lines;
}"""
PATIENTS = [("Eleanor", "Whitfield-Montgomery"), ("Marcus", "Bell"), ("Sofia", "Alvarez")]


@pytest.fixture
def biller(settings):
    settings.TELEPHONY_ENABLED = True
    practice = PracticeFactory(name="Riverbend Family Medicine", time_zone="America/Chicago")
    user = UserFactory(
        email="jordan@riverbend.example", full_name="Jordan Avery", practice=practice, role=User.Role.ADMIN
    )
    payers = [PayerFactory(practice=practice, name=name, timely_filing_days=90) for name in PAYERS]
    patients = [
        PatientFactory(practice=practice, first_name=first, last_name=last, date_of_birth=date(1961, 4, 9))
        for first, last in PATIENTS
    ]
    today = date.today()
    for n in range(12):
        claim = ClaimFactory(
            practice=practice,
            patient=patients[n % 3],
            payer=payers[n % 3],
            claim_number=f"RB-2024{n:04d}",
            service_date_from=today - timedelta(days=30 + 5 * n),
            # The widest amounts a practice sees, part-paid.
            total_charge=Decimal("12345.67") + n,
            paid_amount=Decimal("1200.00") if n % 2 else Decimal("0.00"),
            status="denied" if n % 3 == 0 else "submitted",
            denial_code="CO-16" if n % 3 == 0 else "",
            next_follow_up_date=today - timedelta(days=2),
        )
        if n == 0:
            CallFactory(practice=practice, claim=claim, status=Call.Status.RINGING)
    return user


def _open_worklist(page, biller, viewport) -> None:
    page.set_viewport_size(viewport)
    sign_in(page, biller.email)
    page.goto("/claims/")
    expect(page.locator("#claim-table")).to_contain_text("12 claims")


def test_the_whole_table_fits_a_laptop_screen(page, biller, screenshot):
    _open_worklist(page, biller, LAPTOP)
    screenshot(page, "worklist-1366")

    card = page.locator("#claim-table .table-scroll")
    assert card.evaluate("el => el.scrollWidth <= el.clientWidth"), "the table scrolls sideways"
    deadline = page.locator("#claim-table thead th", has_text="Deadline")
    expect(deadline).to_be_in_viewport()
    box, card_box = deadline.bounding_box(), page.locator("#claim-table").bounding_box()
    assert box["x"] + box["width"] <= card_box["x"] + card_box["width"]
    # A part-paid amount reads on two lines, each whole: the charge, then what was paid.
    amount = page.locator("#claim-table tbody tr").nth(1).locator("td[data-label=Amount]")
    assert amount.inner_text().splitlines() == ["$12,346.67", "$1,200.00 paid"]
    assert amount.evaluate(LINES_OF_EACH_TEXT) == [1, 1]
    expect(page.locator("#claim-table thead")).to_contain_text("Balance")
    expect(page.locator("#claim-table thead")).to_contain_text("Days outstanding")
    expect(page.get_by_role("link", name="Call under way", exact=True)).to_have_count(1)
    # The filters are all out; the phone's "Filters" toggle is not.
    expect(page.get_by_label("Status")).to_be_visible()
    expect(page.locator(".filter-toggle")).to_be_hidden()
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()


def test_a_tablet_shows_rows_as_cards_without_scrolling_sideways(page, biller, screenshot):
    _open_worklist(page, biller, TABLET)
    screenshot(page, "worklist-768")

    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    row = page.locator("#claim-table tbody tr").first
    expect(row.locator("td[data-label=Deadline]")).to_be_visible()
    expect(page.get_by_role("button", name="Call selected")).to_be_in_viewport()
    expect(page.get_by_role("button", name="Menu")).to_be_visible()


def test_a_phone_folds_the_menu_and_filters_and_keeps_call_selected_in_reach(page, biller, screenshot):
    _open_worklist(page, biller, PHONE)
    screenshot(page, "worklist-390")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"

    # The navigation folds behind one button, which opens it (mouse or keyboard).
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    claims_link = page.locator("#main-nav").get_by_role("link", name="Claims")
    expect(claims_link).to_be_hidden()
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(claims_link).to_be_visible()
    screenshot(page, "worklist-390-menu", full_page=False)
    page.keyboard.press("Escape")
    expect(claims_link).to_be_hidden()
    expect(menu).to_be_focused()
    page.keyboard.press("Enter")
    expect(claims_link).to_be_visible()
    page.keyboard.press("Enter")
    expect(claims_link).to_be_hidden()

    # The filters fold behind "Filters" and open on a tap.
    status = page.get_by_label("Status")
    expect(status).to_be_hidden()
    page.locator(".filter-toggle").click()
    expect(status).to_be_visible()
    status.select_option("denied")
    expect(page.locator("#claim-table")).to_contain_text("4 claims")
    expect(page.locator(".filter-toggle")).to_contain_text("Filters 1 active")
    screenshot(page, "worklist-390-filters")

    # Each row is a card: narrower than the screen, its cells one under another, each labelled.
    row = page.locator("#claim-table tbody tr").first
    row_box = row.bounding_box()
    assert row_box["width"] <= PHONE["width"]
    patient, payer = row.locator("td[data-label=Patient]"), row.locator("td[data-label=Payer]")
    assert payer.bounding_box()["y"] >= patient.bounding_box()["y"] + patient.bounding_box()["height"] - 1
    assert payer.evaluate("el => getComputedStyle(el, '::before').content") == '"Payer"'
    for cell in row.locator("td").all():
        box = cell.bounding_box()
        assert box["x"] >= row_box["x"] and box["x"] + box["width"] <= row_box["x"] + row_box["width"] + 1

    # "Call selected" stays on screen wherever the list is scrolled to.
    call_selected = page.get_by_role("button", name="Call selected")
    expect(call_selected).to_be_in_viewport()
    page.locator("#claim-table tbody tr").last.scroll_into_view_if_needed()
    expect(call_selected).to_be_in_viewport()
    row.get_by_role("checkbox").check()
    expect(page.locator("[data-selection-count]")).to_have_text("1 selected")
    screenshot(page, "worklist-390-scrolled", full_page=False)


def test_without_javascript_the_phone_still_lists_the_navigation(browser, base_url, biller, screenshot):
    context = browser.new_context(base_url=base_url, viewport=PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/accounts/login/")
        page.get_by_label("Email").fill(biller.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto("/claims/")
        screenshot(page, "worklist-390-no-js", full_page=False)
        expect(page.get_by_role("button", name="Menu")).to_be_hidden()
        expect(page.locator("#main-nav").get_by_role("link", name="Claims")).to_be_visible()
        expect(page.get_by_label("Status")).to_be_visible()
    finally:
        context.close()


def test_a_phone_sorts_the_cards_with_sort_by(page, biller, screenshot):
    _open_worklist(page, biller, PHONE)
    cards = page.locator("#claim-table tbody tr")
    expect(cards.first).to_contain_text("RB-20240000")  # the latest date of service

    page.get_by_label("Sort by").select_option(label="Amount, highest first")

    expect(cards.first).to_contain_text("RB-20240011")  # the largest charge
    expect(page).to_have_url(re.compile(r"sort=-amount"))
    expect(page.get_by_label("Sort by")).to_have_value("-amount")
    screenshot(page, "worklist-390-sorted")
