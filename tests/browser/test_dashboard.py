"""The dashboard in Chromium: a biller's day at a glance, each bar opening its claims.

The practice is built with factories to look like the demo's: several payers owed money of
every age, denials this month, calls today (one on the line), a follow-up due and a call
waiting for review. Screenshots (``screenshot``; copied to ``$SCREENSHOT_DIR`` when set) are
taken at a desktop and a phone width, of the dashboard and of the four reports.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from billingpulse.tests.factories import PracticeFactory, UserFactory
from claims.models import Claim
from claims.tests.factories import ClaimFactory, PayerFactory
from reports.tests.helpers import call, days_ago, ledger_claim, pay, today_of
from telephony.models import Call
from telephony.tests.factories import CallFactory
from tests.browser.helpers import sign_in
from tests.browser.test_csp import LISTEN

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
REPORTS = {
    "denial-trends": "/reports/denial-trends/",
    "payer-performance": "/reports/payer-performance/",
    "ar-aging": "/reports/ar-aging/",
    "calling-operations": "/reports/calling-operations/",
}
PAYERS = ["Aetna", "Blue Cross Blue Shield of Illinois", "Cigna", "Humana", "UnitedHealthcare", "Medicare Part B"]
DENIALS = ["CO-16", "CO-16", "CO-16", "CO-97", "CO-97", "PR-1", "CO-50"]


@pytest.fixture
def biller():
    practice = PracticeFactory(name="Lakeside Family Medicine")
    today = today_of(practice)
    now = timezone.now()
    payers = [PayerFactory(practice=practice, name=name) for name in PAYERS]
    owed = []
    for number in range(24):
        charge = f"{180 + (number * 137) % 1900}.00"
        served = days_ago(today, 4 + (number * 23) % 190)
        owed.append(ledger_claim(practice, payer=payers[number % len(payers)], served=served, charge=charge))
    for number, code in enumerate(DENIALS):
        ClaimFactory(
            practice=practice,
            payer=payers[number % 3],
            status=Claim.Status.DENIED,
            denial_code=code,
            status_changed_at=now,
            total_charge="420.00",
        )
    for claim in owed[:2]:
        Claim.objects.filter(pk=claim.pk).update(next_follow_up_date=today)
    for claim in owed[2:5]:
        call(claim, created=now, ended=now, status=Call.Status.ENDED)
    pay(owed[2], "150.00", today)
    call(owed[5], created=now, ended=now, status=Call.Status.ENDED, failure_category="voicemail")
    CallFactory(practice=practice, claim=owed[6], status=Call.Status.IN_PROGRESS, started_at=now)
    CallFactory(practice=practice, claim=owed[7], status=Call.Status.QUEUED)
    call(
        owed[8],
        created=now - timedelta(days=2),
        ended=now - timedelta(days=2),
        status=Call.Status.ENDED,
        review_status=Call.ReviewStatus.PENDING,
    )
    return UserFactory(practice=practice, email="dana@lakeside.example", full_name="Dana Biller")


def _violations(page) -> list[str]:
    return page.evaluate("window.__cspViolations")


def test_a_biller_sees_the_day_and_opens_a_bars_claims(context, page, biller, screenshot, server_idle):
    console: list[str] = []
    context.add_init_script(LISTEN)
    page.on("console", lambda message: console.append(message.text) if message.type in ("error", "warning") else None)
    page.set_viewport_size(DESKTOP)
    sign_in(page, biller.email)

    expect(page.get_by_role("heading", name="Calls today")).to_be_visible()
    calls = page.locator("#dashboard-calls")
    expect(calls).to_contain_text("1 on the line now")
    expect(calls).to_contain_text("3 completed")
    expect(page.locator(".dashboard-tiles")).to_contain_text("outstanding on")
    expect(page.get_by_role("img", name="Denials this month by code")).to_be_visible()
    screenshot(page, "dashboard-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "dashboard-phone")
    page.set_viewport_size(DESKTOP)

    # The call ends: the card refreshes itself and stops polling.
    with server_idle:
        Call.objects.filter(claim__practice=biller.practice, status__in=["in_progress", "queued"]).update(
            status=Call.Status.ENDED, ended_at=timezone.now()
        )
    expect(calls).to_contain_text("0 on the line now", timeout=12_000)
    expect(calls.locator(".live-indicator")).to_have_count(0)

    # The tallest denial bar opens the worklist of exactly those claims.
    page.get_by_role("img", name="Denials this month by code").locator("a").first.click()
    page.wait_for_url("**/claims/?status=denied&denial_code=CO-16")
    expect(page.locator(".claim-link")).to_have_count(3)

    assert _violations(page) == []
    assert [text for text in console if "Content Security Policy" in text or "Refused to" in text] == []


def test_the_reports_render_at_desktop_and_phone_widths(context, page, biller, screenshot):
    context.add_init_script(LISTEN)
    sign_in(page, biller.email)

    for name, url in REPORTS.items():
        for width, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(viewport)
            page.goto(url)
            expect(page.locator("svg.chart-svg").first).to_be_visible()
            screenshot(page, f"report-{name}-{width}")
            # Nothing wider than the screen but the tables' own scrolling boxes.
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], (name, width)
        assert _violations(page) == [], name
