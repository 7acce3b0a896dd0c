"""A biller checks an outcome the reader was unsure of, corrects it and approves it, in a real browser."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest import mock

import pytest
from playwright.sync_api import expect

from ai.outcome import CallOutcome
from billingpulse.models import User
from billingpulse.tests.factories import PatientFactory, PracticeFactory, UserFactory
from claims.models import Claim
from claims.tests.factories import ClaimFactory
from telephony import pipeline
from telephony.models import Call, CallEvent, ScheduledCall
from telephony.tests.factories import CallFactory
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TRANSCRIPT = """\
User: Thank you for calling Lone Star Health provider services.
User: This is Dana, may I have the claim number?
AI: Hi Dana, it's claim RB-30001 for Eleanor Whitfield.
User: I see it. It was denied for missing information, but the records came in.
User: I'm sending it back to be looked at again. Your reference is 5 5 1 2 0 9.
AI: Thank you. When should we check back?
User: Give it about two weeks.
"""


@pytest.fixture
def call_to_review():
    practice = PracticeFactory(name="Riverbend Family Medicine", time_zone="America/Chicago")
    UserFactory(email="jordan@riverbend.example", full_name="Jordan Avery", practice=practice, role=User.Role.STAFF)
    patient = PatientFactory(practice=practice, first_name="Eleanor", last_name="Whitfield")
    claim = ClaimFactory(practice=practice, patient=patient, claim_number="RB-30001", status="denied")
    outcome = CallOutcome(
        claim_status="in_process",
        reference_number="551209",
        rep_name="Dana",
        call_outcome="follow_up",
        follow_up_days=14,
        human_reached=True,
        confidence=0.45,
        evidence={"claim_status": [5], "reference_number": [5], "rep_name": [2], "follow_up_days": [7]},
    )
    outcome.flag("The claim status was not said in so many words.")
    ended = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
    call = CallFactory(
        practice=practice,
        claim=claim,
        transcript=TRANSCRIPT,
        outcome=outcome.to_json(),
        review_status=Call.ReviewStatus.PENDING,
        ended_at=ended,
        report_received_at=ended,
    )
    CallEvent.objects.create(call=call, kind="pipeline-extract", dedupe_key=pipeline.dedupe_key(call.pk))
    return call


def test_a_biller_corrects_and_approves_an_outcome(page, call_to_review, screenshot):
    sign_in(page, "jordan@riverbend.example")

    page.goto("/calls/review/")
    row = page.locator(".review-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("RB-30001")
    expect(row).to_contain_text("The claim status was not said in so many words.")
    screenshot(page, "review-queue")

    page.get_by_role("link", name="Review the call about RB-30001").click()
    expect(page.get_by_role("heading", name="Review the call about RB-30001")).to_be_visible()
    evidence = page.locator("#line-5")
    expect(evidence.locator("mark")).to_have_text(
        "I'm sending it back to be looked at again. Your reference is 5 5 1 2 0 9."
    )
    expect(evidence).to_contain_text("Call reference #")
    expect(page.locator("#line-3 mark")).to_have_count(0)
    expect(page.get_by_label("Call reference #")).to_have_value("551209")
    screenshot(page, "review-outcome")

    # The reader said "in process"; the rep described reprocessing. The biller corrects it.
    page.get_by_label("Claim status").select_option("reprocessing")
    with mock.patch("telephony.tasks.notify_call_outcome.delay") as notify:
        page.get_by_role("button", name="Approve and apply").click()
        expect(page.locator("#messages")).to_contain_text("approved, with 1 correction and applied")
    expect(page.get_by_role("heading", name="Nothing to review")).to_be_visible()
    notify.assert_called_once_with(call_to_review.pk)

    claim = Claim.objects.get(claim_number="RB-30001")
    assert claim.status == "reprocessing" and claim.call_reference_number == "551209"
    assert ScheduledCall.objects.filter(claim=claim, status="pending").count() == 1
    page.goto(f"/claims/{claim.pk}/")
    expect(page.locator("#timeline-events")).to_contain_text("Follow-up call scheduled")
    screenshot(page, "claim-after-review")
