"""The issue's "done when" journey: a biller uploads a payer's 835, checks the preview, posts it and
sees the claims paid with the right balances on the claim, patient and billing pages; what the payer
said on a call is matched (and the amount that differs flagged); the same file again is refused."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from billing import services
from billing.era.demo import ClaimPaid, build_835
from billing.models import ExpectedPayment, Remittance
from billingpulse.models import User
from billingpulse.tests.factories import PatientFactory, PracticeFactory, UserFactory
from claims.tests.factories import ClaimFactory, PayerFactory
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Rushmore Life pays $945.00 on EFT 7170066655 for two claims:
#   5554555444 BUDD, WILLIAM  charge 800.00, paid 450.00, CO-A2 50.00, PR-1 300.00 (line level)
#   8765432112 SETTLE, SUSAN  charge 1,200.00, paid 495.00, CO-A2 55.00, PR-1 600.00, CO-45 50.00
SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "samples" / "era" / "lfh_835_5010_managed_care.835"
D = Decimal
MOBILE = {"width": 390, "height": 844}


def make_claim(practice, payer, number, charge, *, last, first, service_date):
    """A claim with its charge posted, as the claim import leaves it."""
    patient = PatientFactory(practice=practice, last_name=last, first_name=first)
    claim = ClaimFactory(
        practice=practice,
        patient=patient,
        payer=payer,
        claim_number=number,
        total_charge=D(0),
        service_date_from=service_date,
    )
    services.charge(claim, D(charge), key=f"charge:{number}")
    claim.refresh_from_db()
    return claim


@pytest.fixture
def practice():
    return PracticeFactory(name="Acme Medical Center", time_zone="America/Chicago")


@pytest.fixture
def biller(practice):
    return UserFactory(email="casey@acme.example", full_name="Casey Biller", practice=practice, role=User.Role.STAFF)


@pytest.fixture
def shots(screenshot):
    """Screenshots of the page at 1366 px and at a phone's 390 px."""

    def take(page, name: str) -> None:
        screenshot(page, f"{name}-1366")
        wide = page.viewport_size
        page.set_viewport_size(MOBILE)
        screenshot(page, f"{name}-390")
        page.set_viewport_size(wide)

    return take


@pytest.mark.skipif(not SAMPLE.exists(), reason="the shared 835 samples are not beside the checkout")
def test_it_posts_the_sample_835_and_shows_paid_claims_and_balances_everywhere(page, practice, biller, shots, tmp_path):
    payer = PayerFactory(practice=practice, name="Rushmore Life")
    budd = make_claim(
        practice, payer, "5554555444", "800.00", last="Budd", first="William", service_date=date(2002, 3, 1)
    )
    settle = make_claim(
        practice, payer, "8765432112", "1200.00", last="Settle", first="Susan", service_date=date(2002, 3, 10)
    )
    # What the payer's representative said on calls: right for Budd, $5 more than it paid for Settle.
    said_budd = services.expect_payment(budd, amount=D("450.00"), reference="7170066655")
    said_settle = services.expect_payment(settle, amount=D("500.00"), reference="7170066655")

    sign_in(page, biller.email)
    page.goto("/billing/")
    expected = page.locator("section[aria-labelledby=expected-title]")
    expect(expected.locator(".count")).to_have_text("2")

    # Upload → preview.
    page.goto("/billing/remittances/")
    page.get_by_role("link", name="Upload an 835").first.click()
    expect(page.get_by_role("heading", name="Upload an 835")).to_be_visible()
    page.get_by_label("835 file").set_input_files(str(SAMPLE))
    shots(page, "upload")
    page.get_by_role("button", name="Upload and preview").click()

    remittance = Remittance.objects.get()
    expect(page).to_have_url(re.compile(rf"/billing/remittances/{remittance.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("RUSHMORE LIFE · $945.00")
    expect(page.get_by_text("Waiting to post", exact=True)).to_be_visible()
    expect(page.locator("[data-tile=matched] .tile-value")).to_have_text("2")
    expect(page.locator("[data-tile=unmatched] .tile-value")).to_have_text("0")
    expect(page.locator("[data-tile=rules] .tile-value")).to_have_text("4 / 4")
    rules = page.locator("#balancing-rules li")
    expect(rules).to_have_count(4)
    for index in range(4):
        expect(rules.nth(index)).to_contain_text("Pass")
    expect(page.locator("#balancing-rules")).not_to_contain_text("Fail")
    claims = page.locator("#claim-payments tbody tr")
    expect(claims).to_have_count(2)
    expect(claims.nth(0)).to_contain_text("5554555444")
    expect(claims.nth(0)).to_contain_text("Matched")
    expect(claims.nth(0).locator("td[data-amount=paid]")).to_have_text("$450.00")
    expect(claims.nth(1).locator("td[data-amount=paid]")).to_have_text("$495.00")
    expect(claims.nth(1).locator("td[data-amount=charge]")).to_have_text("$1,200.00")
    shots(page, "preview")

    # Post: the button says what it posts; the confirmation is required.
    post = page.get_by_role("button", name="Post $945.00 to 2 claims")
    post.click()
    expect(page.locator("#post")).to_contain_text("This field is required")
    assert Remittance.objects.get().status == Remittance.Status.PREVIEW
    page.get_by_label("I have checked the preview", exact=False).check()
    page.get_by_role("button", name="Post $945.00 to 2 claims").click()

    expect(page.get_by_text("Posted: $945.00 deposited, 2 claims posted.")).to_be_visible()
    expect(page.locator("[data-tile=posted] .tile-value")).to_have_text("2")
    expect(page.locator("[data-tile=held] .tile-value")).to_have_text("0")
    expect(page.locator(".page-subtitle").get_by_text("Posted", exact=True)).to_be_visible()
    posted = page.locator("#posted-facts")
    expect(posted).to_contain_text("Casey Biller")
    expect(posted).to_contain_text("$945.00 on 2 claims")
    expect(posted.locator("[data-amount=clearing]")).to_have_text("$0.00")
    expect(posted).to_contain_text("back to zero")
    expect(page.get_by_role("button", name=re.compile("^Post "))).to_have_count(0)
    shots(page, "detail-posted")

    # The claim pages: paid, with the ledger's amounts and balance.
    page.locator("#claim-payments").get_by_role("link", name="5554555444").click()
    expect(page.locator("h1.claim-title")).to_contain_text("Paid")
    ledger = page.locator("#claim-ledger")
    amounts = page.locator("dl.amounts")
    expect(amounts).to_contain_text("Paid$450.00")
    expect(amounts).to_contain_text("Adjusted$50.00")
    expect(amounts.locator(".amount-outstanding dd")).to_have_text("$300.00patient owes $300.00")
    expect(ledger.locator("tbody tr").last.locator("td").last).to_have_text("$300.00")
    expect(ledger.locator(".ledger-flag")).to_have_count(0)  # what the payer said is what it paid

    page.goto(f"/claims/{settle.pk}/")
    expect(page.locator("h1.claim-title")).to_contain_text("Paid")
    ledger = page.locator("#claim-ledger")
    expect(page.locator("dl.amounts")).to_contain_text("Adjusted$105.00")
    expect(page.locator("dl.amounts .amount-outstanding dd")).to_contain_text("$600.00")
    expect(ledger.locator(".ledger-flag")).to_have_text("Payer said $500.00 (check/EFT 7170066655), posted $495.00.")

    # The patients' accounts: what they owe now, and the expected payments received.
    page.goto(f"/billing/patients/{budd.patient_id}/")
    balances = page.locator("#account-balances")
    expect(balances.locator("[data-amount=insurance]")).to_have_text("$0.00")
    expect(balances.locator("[data-amount=patient]")).to_have_text("$300.00")
    expect(balances.locator("[data-amount=balance]")).to_have_text("$300.00")
    expect(page.locator(f"#claim-{budd.pk} [data-claim-balance]")).to_have_text("$300.00")
    expect(page.locator(".expected-list li")).to_contain_text("$450.00 on 5554555444")
    expect(page.locator(".expected-list li .badge")).to_have_text("Received")

    page.goto(f"/billing/patients/{settle.patient_id}/")
    expect(page.locator("#account-balances [data-amount=balance]")).to_have_text("$600.00")
    expect(page.locator(".expected-list li .badge")).to_have_text("Received, different amount")
    expect(page.locator(".expected-list li")).to_contain_text("Payer said $500.00, posted $495.00")

    # Billing home: the remittance's postings are today's most recent; nothing is still expected.
    page.goto("/billing/")
    recent = page.locator("section[aria-labelledby=recent-title] tbody tr")
    deposit = recent.filter(has_text="ERA deposit, trace 7170066655")
    expect(deposit.locator("td.numeric")).to_have_text("$945.00")
    expect(deposit).to_contain_text("Casey Biller")
    for number, paid in (("5554555444", "$450.00"), ("8765432112", "$495.00")):
        row = recent.filter(has_text=f"(CLP {number})").filter(has=page.get_by_text("Payment", exact=True))
        expect(row.locator("td.numeric")).to_have_text(paid)
    today = page.locator("section[aria-labelledby=today-title]")
    expect(today).to_contain_text("Adjustment")
    expect(today).not_to_contain_text("Nothing posted yet today")
    expect(expected.locator(".count")).to_have_text("0")

    said_budd.refresh_from_db()
    said_settle.refresh_from_db()
    assert (said_budd.status, said_budd.received_amount) == (ExpectedPayment.Status.RECEIVED, D("450.00"))
    assert (said_settle.status, said_settle.received_amount) == (ExpectedPayment.Status.DIFFERENT, D("495.00"))

    # The same file again is refused, naming the first posting; nothing new is stored.
    page.goto("/billing/remittances/upload/")
    page.get_by_label("835 file").set_input_files(str(SAMPLE))
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_role("alert")).to_contain_text("This file was refused and nothing was stored.")
    error = page.locator("#id_file_error")
    expect(error).to_contain_text("This remittance was already posted on")
    expect(error).to_contain_text(f"by Casey Biller (remittance #{remittance.pk}, trace 7170066655, $945.00)")
    assert Remittance.objects.count() == 1
    shots(page, "upload-refused")
    page.get_by_role("link", name=f"open remittance #{remittance.pk}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("RUSHMORE LIFE · $945.00")

    # A second remittance with a claim payment we cannot match: post the rest, hold it in the queue.
    third = make_claim(
        practice, payer, "RIV-3001", "300.00", last="Budd", first="William", service_date=date(2026, 10, 2)
    )
    second_file = build_835(
        [
            ClaimPaid("RIV-3001", D("300.00"), D("240.00"), adjustments=[("CO", "45", D("60.00"))]),
            ClaimPaid(
                "ZZ-404",
                D("150.00"),
                D("100.00"),
                adjustments=[("CO", "45", D("50.00"))],
                last_name="NOBODY",
                first_name="NORA",
            ),
        ],
        trace="EFT-NOV-2",
        payer_name="RUSHMORE LIFE",
    )
    path = tmp_path / "november.835"
    path.write_bytes(second_file)
    page.goto("/billing/remittances/upload/")
    page.get_by_label("835 file").set_input_files(str(path))
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("RUSHMORE LIFE · $340.00")
    expect(page.locator("[data-tile=unmatched] .tile-value")).to_have_text("1")
    expect(page.locator("#post")).to_contain_text("1 claim payment cannot be posted to a claim yet")
    shots(page, "preview-unmatched")
    page.get_by_label("Post the matched claims and hold the rest", exact=False).check()
    page.get_by_label("I have checked the preview", exact=False).check()
    page.get_by_role("button", name="Post $340.00 to 1 claim, hold 1").click()
    expect(
        page.get_by_text("Posted: $340.00 deposited, 1 claim posted; 1 held in the unmatched queue.")
    ).to_be_visible()
    expect(page.locator("[data-tile=held] .tile-value")).to_have_text("1")
    held = page.locator("#claim-payments tbody tr", has_text="ZZ-404")
    expect(held.locator("td").nth(3)).to_have_text("Held")
    shots(page, "detail-held")
    third.refresh_from_db()
    assert third.balance == D("0.00")

    page.goto("/billing/remittances/")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("1 held")
    expect(rows.nth(1)).to_contain_text("$945.00")
    shots(page, "list")

    page.get_by_role("link", name=re.compile("Unmatched queue")).click()
    queue = page.locator("table tbody tr")
    expect(queue).to_have_count(1)
    expect(queue.first).to_contain_text("ZZ-404")
    expect(queue.first).to_contain_text("NOBODY, NORA")
    expect(queue.first.locator("td[data-amount=paid]")).to_have_text("$100.00")
    shots(page, "queue")

    # The biller finds the claim it pays and posts it from the queue.
    nora = make_claim(
        practice, payer, "RIV-3002", "150.00", last="Nobody", first="Nora", service_date=date(2026, 10, 3)
    )
    queue.first.get_by_role("link", name="Match and post").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Match ZZ-404 to a claim")
    page.get_by_label("Claim number").fill("RIV-3002")
    shots(page, "match")
    page.get_by_role("button", name="Post $100.00 to this claim").click()
    expect(page.get_by_text("Posted $100.00 to claim RIV-3002.")).to_be_visible()
    expect(page.get_by_text("Nothing is waiting", exact=False)).to_be_visible()
    nora.refresh_from_db()
    assert (nora.paid_amount, nora.adjustment_amount, nora.balance) == (D("100.00"), D("50.00"), D("0.00"))

    try:
        from billing.verify import verify
    except ImportError:  # the ledger check is not in this checkout
        return
    assert verify(practice) == []
