"""extract_outcome: the knowledge base's part in an offline reading."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ai.extraction import extract_outcome
from ai.outcome import ClaimContext, KnowledgeHit

CLAIM = ClaimContext(claim_number="Q-7001", patient_name="Ruth Alder", call_date=date(2026, 11, 20))
DENIED = """\
User: Claims department, this is Howard.
AI: Hi Howard, I'm calling about claim Q-7001.
User: That one was denied, C O one ninety-seven, no authorization on file.
AI: What do we need to do?
User: Get the authorization and send an appeal with it.
AI: And a reference for the call?
User: Reference 6 6 1 0 4 2.
"""
KNOWLEDGE = [
    KnowledgeHit(
        "denial-code:7",
        "denial_code",
        "Reason code 197",
        "Precertification or authorization was absent.",
        1.0,
        code="197",
        remedy="Ask the payer for a retro authorization, then appeal with it attached.",
    ),
    KnowledgeHit("payer-policy:3", "payer_policy", "Meridian — appeals", "Appeals within 180 days.", 0.7),
]


def test_the_offline_reader_adds_the_usual_remedy_and_records_that_entry():
    outcome = extract_outcome(DENIED, CLAIM, KNOWLEDGE, extractor="rules")

    assert outcome.denial_code == "CO-197" and outcome.call_outcome == "action_required"
    assert outcome.next_steps.endswith(
        "Usual fix for 197: Ask the payer for a retro authorization, then appeal with it attached."
    )
    assert outcome.knowledge_used == ["denial-code:7"]


def test_entries_the_offline_reader_did_not_use_are_not_recorded():
    paid = "User: This is Howard.\nUser: Claim Q-7001 paid in full, $120.00, check 55012, reference 4471.\n"

    outcome = extract_outcome(paid, CLAIM, KNOWLEDGE, extractor="rules")

    assert "Usual fix" not in outcome.next_steps
    assert outcome.knowledge_used == []


@pytest.mark.parametrize(
    "said",
    [
        "That claim was paid on the first for 99999999999999999999 dollars, check number 1.",
        "It was paid for $" + "9" * 60 + ".00 under CO-" + "9" * 60 + ".",
        "Paid 123456789012.50 on check 5, call back in 99999999 days.",
    ],
)
def test_the_offline_reader_reads_absurd_numbers_as_no_value_at_all(said):
    transcript = f"User: Claims department, this is Howard.\nAI: Hi Howard, about claim Q-7001.\nUser: {said}\n"

    outcome = extract_outcome(transcript, CLAIM, extractor="rules")

    assert outcome.paid_amount is None or outcome.paid_amount <= Decimal("99999999.99")
    assert outcome.follow_up_days is None or outcome.follow_up_days <= 365
