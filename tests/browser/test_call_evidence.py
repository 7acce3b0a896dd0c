"""A biller reads a finished call's outcome and follows its evidence into the transcript, in a real browser."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from billingpulse.models import User
from billingpulse.tests.factories import PatientFactory, PracticeFactory, UserFactory
from claims.tests.factories import ClaimFactory, PayerFactory
from telephony.models import Call
from telephony.tests.factories import CallFactory
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TRANSCRIPT = """\
User: Thank you for calling Lone Star Health provider services. For claims, press 2.
AI: 2
User: Thanks for holding, this is Dana. May I have the claim number?
AI: Hi Dana, it's claim RB-30001 for Eleanor Whitfield, date of service October 2nd.
User: I see it. It was denied for missing information: we need the operative report.
AI: Understood. Is there a reference number for this call?
User: Yes, your reference is 5 5 1 2 0 9.
AI: Thank you. Where should the records go?
User: Fax them to the appeals unit, with the claim number on the cover sheet.
"""
SPOKEN = [line.partition(": ") for line in TRANSCRIPT.splitlines()]
# The platform's messages for the same call: a key press, a long hold, then the representative.
MESSAGES = [
    {"role": "bot" if who == "AI" else "user", "message": said, "secondsFromStart": 2.0 + n * 6 + (600 if n > 1 else 0)}
    for n, (who, _, said) in enumerate(SPOKEN)
]
MESSAGES.insert(
    1, {"role": "tool_calls", "toolCalls": [{"function": {"name": "dtmf", "arguments": json.dumps({"keys": "2"})}}]}
)
NEXT_STEPS = (
    "Fax the operative report for the October 2nd visit to Lone Star Health's appeals unit with the claim number "
    "on the cover sheet, then call back in two weeks to confirm the records were received and the claim reprocessed."
)


@pytest.fixture
def finished_call():
    practice = PracticeFactory(name="Riverbend Family Medicine", time_zone="America/Chicago")
    UserFactory(email="jordan@riverbend.example", full_name="Jordan Avery", practice=practice, role=User.Role.STAFF)
    patient = PatientFactory(practice=practice, first_name="Eleanor", last_name="Whitfield")
    payer = PayerFactory(practice=practice, name="Lone Star Health")
    claim = ClaimFactory(practice=practice, patient=patient, payer=payer, claim_number="RB-30001", status="denied")
    return CallFactory(
        practice=practice,
        claim=claim,
        status=Call.Status.ENDED,
        started_at=datetime(2026, 11, 20, 15, 48, tzinfo=UTC),
        ended_at=datetime(2026, 11, 20, 16, 0, tzinfo=UTC),
        duration_seconds=712,
        transcript=TRANSCRIPT,
        messages=MESSAGES,
        outcome={
            "claim_status": "pending_info",
            "reference_number": "551209",
            "rep_name": "Dana",
            "call_outcome": "action_required",
            "human_reached": True,
            "next_steps": NEXT_STEPS,
            "extractor": "rules",
            "evidence": {"claim_status": [5], "reference_number": [7], "rep_name": [3], "call_outcome": [5, 9]},
        },
    )


@pytest.mark.parametrize("width", [1366, 390])
def test_the_evidence_names_the_speaker_and_jumps_to_the_marked_line(page, screenshot, finished_call, width):
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "jordan@riverbend.example")
    page.goto(f"/calls/{finished_call.pk}/")

    outcome = page.locator("section.call-outcome")
    expect(outcome.get_by_text(NEXT_STEPS)).to_be_visible()
    # The outcome takes the page's width, not a side column's.
    content = page.locator("#call-live").bounding_box()
    assert outcome.bounding_box()["width"] > 0.9 * content["width"]
    screenshot(page, f"call-evidence-{width}")

    quote = outcome.get_by_role("link").filter(has_text="your reference is 5 5 1 2 0 9")
    expect(quote).to_contain_text("Dana (payer)")
    quote.click()

    line = page.locator("#line-7")
    expect(page).to_have_url(re.compile(r"#line-7$"))
    expect(line).to_be_in_viewport()
    expect(line.locator("mark")).to_have_text("Yes, your reference is 5 5 1 2 0 9.")
    expect(line.locator(".turn-evidence")).to_contain_text("Evidence for")
    expect(line.locator(".turn-evidence")).to_contain_text("Call reference #")
    screenshot(page, f"call-evidence-line-{width}", full_page=False)
