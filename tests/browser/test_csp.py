"""The Content-Security-Policy holds on every main page: Chromium reports no violation.

The demo practice (``seed_demo``) gives every page something to show: claims, calls, payments,
remittances, notes and documents. Chromium reports a blocked inline script or style, a CDN
load or an ``eval`` both on the console and as a ``securitypolicyviolation`` event; the test
listens for both.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from billing.models import Payment
from billingpulse.demo import seed_demo
from claims.models import Claim
from clinical.models import ClinicalNote
from documents.models import Document
from telephony.models import Call
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Collects the page's own reports, from before any of its scripts run.
LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const where = `${event.sourceFile}:${event.lineNumber}`;
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"} at ${where}`);
});
"""


@pytest.fixture
def demo():
    result = seed_demo()
    practice = result.practice
    return {
        "result": result,
        "claim": Claim.objects.filter(practice=practice).order_by("pk").first(),
        "call": Call.objects.filter(claim__practice=practice).order_by("pk").first(),
        "payment": Payment.objects.filter(practice=practice).order_by("pk").first(),
        "note": ClinicalNote.objects.filter(practice=practice).order_by("pk").first(),
        "draft": ClinicalNote.objects.filter(practice=practice, status="draft").order_by("pk").first(),
        "document": Document.objects.filter(practice=practice).order_by("pk").first(),
    }


def _pages(demo) -> list[str]:
    claim, call, payment, note, draft, document = (
        demo[key] for key in ("claim", "call", "payment", "note", "draft", "document")
    )
    pages = [
        "/",
        "/claims/",
        f"/claims/{claim.pk}/",
        f"/claims/{claim.pk}/edit/",
        "/claims/payers/",
        "/claims/import/",
        "/claims/fee-schedule/",
        "/calls/",
        "/calls/queue/",
        "/calls/review/",
        "/calls/follow-ups/",
        "/billing/",
        "/billing/patients/",
        f"/billing/patients/{claim.patient_id}/",
        f"/billing/patients/{claim.patient_id}/statement/",
        f"/billing/patients/{claim.patient_id}/payments/new/",
        "/billing/remittances/",
        "/notes/",
        "/notes/new/",
        f"/notes/{note.pk}/",
        "/notes/templates/",
        f"/notes/patients/{claim.patient_id}/encounters/",
        "/documents/",
        "/documents/review/",
        "/knowledge/",
        "/knowledge/policies/",
        "/inbox/",
        "/reports/",
        "/reports/denial-trends/",
        "/reports/payer-performance/",
        "/reports/ar-aging/",
        "/reports/calling-operations/",
        "/exports/",
        "/audit/",
        "/settings/practice/",
        "/settings/team/",
        "/settings/security/",
        "/settings/security/two-factor/setup/",
        "/settings/api-token/",
        "/accounts/password/change/",
        "/api/docs/",
    ]
    if call is not None:
        pages.append(f"/calls/{call.pk}/")
    if payment is not None:
        pages.append(f"/billing/payments/{payment.pk}/")
    if draft is not None:
        pages.append(f"/notes/{draft.pk}/edit/")
    if document is not None:
        pages.append(f"/documents/{document.pk}/")
    return pages


def test_no_page_breaks_the_content_security_policy(context, page, demo):
    console: list[str] = []
    context.add_init_script(LISTEN)
    page.on("console", lambda message: console.append(message.text) if message.type in ("error", "warning") else None)

    page.goto("/accounts/login/")
    sign_in(page, demo["result"].email, demo["result"].password)
    visited = []
    for path in _pages(demo):
        response = page.goto(path)
        assert response is not None and response.status < 400, f"{path} answered {response and response.status}"
        page.wait_for_load_state("networkidle")
        visited.append((path, page.evaluate("window.__cspViolations")))

    violations = {path: found for path, found in visited if found}
    csp_console = [text for text in console if "Content Security Policy" in text or "Refused to" in text]
    assert violations == {}
    assert csp_console == []


def test_the_pages_still_work_under_the_policy(context, page, demo):
    """htmx runs (no eval, its indicator styles from our CSS) and the chart bars have their sizes."""
    context.add_init_script(LISTEN)
    sign_in(page, demo["result"].email, demo["result"].password)

    page.goto("/claims/")
    page.get_by_label("Search", exact=False).first.fill("zzz-no-such-claim")
    expect(page.locator("#claim-table, [id$='-results']").first).to_contain_text("No", ignore_case=True)

    page.goto("/billing/")
    widths = page.eval_on_selector_all("svg.bar-fill", "bars => bars.map(bar => bar.getBoundingClientRect().width)")
    assert widths and max(widths) > 20
    assert page.evaluate("window.__cspViolations") == []

    # The listener does hear a violation: an inline style attribute is refused.
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">x</p>')")
    page.wait_for_function("window.__cspViolations.length > 0")
    assert page.evaluate("window.__cspViolations")[0].startswith("style-src")
