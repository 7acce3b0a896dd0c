"""The needs-action inbox in Chromium: assign, snooze and close items with htmx, under the CSP."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from billingpulse.models import User
from billingpulse.tests.factories import PatientFactory, PracticeFactory, UserFactory
from claims.tests.factories import ClaimFactory, PayerFactory
from inbox import services
from inbox.models import ActionItem
from tests.browser.helpers import sign_in
from tests.browser.test_csp import LISTEN

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
R = ActionItem.Reason
SHOTS = "/tmp/shots"


@pytest.fixture
def inbox():
    practice = PracticeFactory(name="Alpha Family Clinic")
    admin = UserFactory(email="alice@alpha.example", full_name="Alice Admin", practice=practice, role=User.Role.ADMIN)
    staff = UserFactory(email="bob@alpha.example", full_name="Bob Biller", practice=practice, role=User.Role.STAFF)
    payer = PayerFactory(practice=practice, name="Lone Star Health")
    rows = [
        ("C-1001", "Maria", "Lopez", R.DENIED, "The payer denied the claim (CO-50): not medically necessary. Appeal."),
        ("C-1002", "James", "Carter", R.ACTION_REQUIRED, "Action needed: fax the itemized bill to 800-555-0100."),
        ("C-1003", "Ana", "Reyes", R.CALL_FAILED, "Stopped calling Lone Star Health after 3 attempts."),
        ("C-1004", "Tom", "Nguyen", R.PAYMENT_OVERDUE, "The payer said it paid $112.40 (EFT881); nothing posted."),
    ]
    items = {}
    for number, first, last, reason, detail in rows:
        patient = PatientFactory(practice=practice, first_name=first, last_name=last)
        claim = ClaimFactory(practice=practice, patient=patient, payer=payer, claim_number=number)
        items[number] = services.open_item(reason, claim=claim, detail=detail)
    return admin, staff, items


def test_a_biller_assigns_snoozes_and_closes_items(context, page, inbox):
    admin, staff, items = inbox
    console: list[str] = []
    context.add_init_script(LISTEN)
    page.on("console", lambda m: console.append(m.text) if m.type in ("error", "warning") else None)
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, admin.email)

    badge = page.locator("#nav-inbox-count")
    expect(badge).to_contain_text("4")
    page.get_by_role("link", name="Inbox").click()
    expect(page.get_by_role("heading", name="Inbox", exact=True)).to_be_visible()
    page.screenshot(path=f"{SHOTS}/inbox-desktop.png", full_page=True)
    page.evaluate("window.__noReload = true")

    # Assign C-1001 to Bob: it leaves Alice's count (hers and unassigned) but stays in the list.
    page.get_by_label("Assignee for claim C-1001").select_option(label="Bob Biller")
    expect(page.locator("#messages")).to_contain_text("assigned to Bob Biller")
    expect(badge).to_contain_text("3")

    # Snooze C-1002 for three days.
    row = page.locator(f"#item-{items['C-1002'].pk}")
    row.locator("summary", has_text="Snooze").click()
    row.get_by_role("button", name="For 3 days").click()
    expect(page.locator("#messages")).to_contain_text("Snoozed claim C-1002 until")
    expect(row).to_contain_text("Snoozed until")
    expect(badge).to_contain_text("2")

    # Close C-1003.
    page.locator(f"#item-{items['C-1003'].pk}").get_by_role("button", name="Done").click()
    expect(page.locator("#messages")).to_contain_text("Done: claim C-1003 left the inbox.")
    expect(page.locator(f"#item-{items['C-1003'].pk}")).to_contain_text("Done")
    expect(badge).to_contain_text("1")
    assert page.evaluate("window.__noReload") is True

    statuses = dict(ActionItem.objects.values_list("claim__claim_number", "status"))
    assert statuses["C-1003"] == "done"
    assert ActionItem.objects.get(claim__claim_number="C-1001").assignee == staff
    assert ActionItem.objects.get(claim__claim_number="C-1002").snoozed_until is not None

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/inbox/?view=all")
    page.screenshot(path=f"{SHOTS}/inbox-phone.png", full_page=False)

    assert page.evaluate("window.__cspViolations") == []
    assert [text for text in console if "Content Security Policy" in text or "Refused to" in text] == []
