"""The review gate's second reading: a model of how labelled calls were worded, which only holds calls.

The calls here are written for these tests; the last test measures the reading on a corpus left
out of its training, against the reader's first reading of it (``bench/first-readings/``).
"""

from __future__ import annotations

import json
import threading
from datetime import date
from pathlib import Path

import pytest

from ai.extraction import _second_reading, extract_outcome
from ai.extraction._checks import nothing_to_correct, review_reasons
from ai.extraction._transcript import payer_speech
from ai.outcome import NO_STATUS, CallOutcome, ClaimContext, unread_reference

CLAIM = ClaimContext(date_of_service="2026-04-02", payer="Keystone Health", call_date=date(2026, 5, 11))
IN_PROCESS = "\n".join(
    [
        "User: Keystone Health provider line, this is Marisol.",
        "AI: Hi Marisol, I'm calling about a claim with date of service April second.",
        "User: I have it. That claim is still in process, it's been received and it's with the processing "
        "team. No additional information is needed from you.",
        "AI: How long should we allow?",
        "User: Give it another fourteen business days for it to finalize.",
        "AI: Thank you. Can I have a reference number for this call?",
        "User: Sure, it's 5-5-1-0-9-3-8.",
    ]
)
FIRST_READINGS = Path(__file__).resolve().parents[2] / "bench" / "first-readings"


def test_a_status_read_against_the_wording_of_the_call_is_held_with_both_readings():
    read_as_paid = CallOutcome(claim_status="paid", call_outcome="resolved", human_reached=True)

    reasons = review_reasons(read_as_paid, IN_PROCESS, CLAIM)

    assert (
        "The claim status was read as paid, but calls worded like this one usually mean in process: "
        "check which it is." in reasons
    )
    assert any(reason.startswith("The outcome was read as nothing left to do") for reason in reasons)


def test_a_reading_the_wording_agrees_with_goes_through():
    outcome = extract_outcome(IN_PROCESS, CLAIM, extractor="rules")

    assert (outcome.claim_status, outcome.call_outcome) == ("in_process", "follow_up")
    assert outcome.follow_up_days is not None
    assert not outcome.needs_review, outcome.review_reasons


def test_it_never_changes_a_value():
    read_as_paid = CallOutcome(claim_status="paid", call_outcome="resolved")

    review_reasons(read_as_paid, IN_PROCESS, CLAIM)

    assert (read_as_paid.claim_status, read_as_paid.call_outcome) == ("paid", "resolved")


def _record(status: str, outcome: str, *said: str) -> dict:
    return {
        "transcript": "\n".join(["AI: Hi, calling about a claim.", *(f"User: {line}" for line in said)]),
        "expected": {"claim_status": status, "call_outcome": outcome},
    }


def test_only_a_value_twice_as_likely_holds_the_call():
    records = [
        _record("paid", "resolved", "That claim paid in full.", "The check went out last week."),
        _record("paid", "resolved", "It paid in full on the fifth.", "The check went out Monday."),
        _record("denied", "action_required", "That claim was denied for timely filing.", "You can appeal it."),
        _record("denied", "action_required", "It was denied, no authorization on file.", "You can appeal it."),
    ]
    model = _second_reading.train(records)
    paid_call = _record("paid", "resolved", "That claim paid in full.", "The check went out Friday.")["transcript"]
    mixed_call = _record("paid", "resolved", "That claim paid in full.", "That claim was denied.")["transcript"]

    assert _second_reading.likelier({"claim_status": "paid"}, paid_call, model) == {}
    assert _second_reading.likelier({"claim_status": "denied"}, paid_call, model) == {"claim_status": "paid"}
    assert _second_reading.likelier({"claim_status": "unknown"}, paid_call, model) == {"claim_status": "paid"}
    # neither reading is twice as likely as the other on a call that says both
    assert _second_reading.likelier({"claim_status": "paid"}, mixed_call, model) == {}
    assert _second_reading.likelier({"claim_status": "denied"}, mixed_call, model) == {}


def test_it_hears_only_the_payer_side():
    transcript = "AI: Has the claim been denied?\nUser: No, it was paid.\nassistant: Thank you.\nRep: You're welcome."

    assert payer_speech(transcript) == "No, it was paid.\nYou're welcome."


@pytest.mark.parametrize("left_out", ["calls-ivr.jsonl", "calls-denials.jsonl"])
def test_on_a_corpus_it_has_not_learned_it_holds_more_wrong_readings_than_right_ones(left_out):
    """The first reading of a corpus, before the reader was fixed from it, against a model trained without it."""
    others = [path for path in sorted(_second_reading.CORPORA.glob("*.jsonl")) if path.name != left_out]
    model = _second_reading.train(_second_reading.load_corpora(others))
    truth = {r["id"]: r for r in _second_reading.load_corpora([_second_reading.CORPORA / left_out])}
    held_wrong = held_right = wrong = 0
    for line in (FIRST_READINGS / left_out).read_text().splitlines():
        first = json.loads(line)
        if first["needs_review"]:
            continue
        read = {name: first["outcome"][name] for name in _second_reading.FIELDS}
        is_wrong = any(read[name] != truth[first["id"]]["expected"][name] for name in read)
        wrong += is_wrong
        if _second_reading.likelier(read, truth[first["id"]]["transcript"], model):
            held_wrong, held_right = held_wrong + is_wrong, held_right + (not is_wrong)

    assert wrong >= 5
    assert held_wrong >= wrong / 2
    assert held_right < held_wrong


def test_a_call_where_the_payer_said_nothing_gets_no_second_reading():
    nobody = CallOutcome(claim_status="unknown", call_outcome="failed")

    assert review_reasons(nobody, "", CLAIM) == []
    assert _second_reading.likelier({"claim_status": "unknown"}, "AI: Hello? Is anyone there?") == {}


def test_hearing_no_status_is_no_reason_to_doubt_one_the_rules_heard():
    records = [
        _record("unknown", "failed", "Please hold.", "Our office is closed.", "Please call back."),
        _record("unknown", "failed", "Please hold.", "All agents are busy.", "Please call back."),
        _record("paid", "resolved", "That claim paid in full.", "The check went out Monday."),
        _record("paid", "resolved", "It paid in full.", "The check went out Friday."),
        _record("denied", "action_required", "That claim was denied.", "You can appeal it."),
        _record("denied", "action_required", "It was denied.", "You can appeal it."),
    ]
    model = _second_reading.train(records)
    after_a_long_hold = _record("paid", "resolved", "Please hold.", "Please hold.", "It paid.")["transcript"]

    assert _second_reading.likelier({"claim_status": "paid"}, after_a_long_hold, model) == {}
    assert _second_reading.likelier({"claim_status": "unknown"}, records[2]["transcript"], model) == {
        "claim_status": "paid"
    }


NOT_VERIFIED = "\n".join(
    [
        "User: Thank you for calling Keystone Health, my name is Doreen, may I have your NPI?",
        "AI: Hi Doreen, the NPI is 1 2 3 4 5 6 7 8 9 3.",
        "User: And the tax ID on file for that provider?",
        "AI: The tax ID is 4 1 2 2 3 3 4 4 5.",
        "User: I'm sorry, that tax ID isn't linked to that NPI in our system, so I'm not able to release "
        "any claim information today. The provider's office would need to update their enrollment.",
        "AI: I understand. Thank you for your time.",
        "User: You're welcome, goodbye.",
    ]
)


def test_a_call_both_readings_hear_as_getting_nowhere_is_not_held():
    outcome = extract_outcome(NOT_VERIFIED, CLAIM, extractor="rules")

    assert (outcome.claim_status, outcome.call_outcome, outcome.human_reached) == ("unknown", "failed", True)
    assert not outcome.needs_review, outcome.review_reasons


def test_a_call_that_gave_no_status_stays_held_when_its_wording_means_one():
    records = [
        _record("unknown", "failed", "I can't verify that tax ID.", "I can't release anything today."),
        _record("unknown", "failed", "The system is down.", "I can't release anything today."),
        _record("not_on_file", "follow_up", "I don't see that claim on file.", "Give it ten business days."),
        _record("not_on_file", "follow_up", "Nothing on file for that date.", "Give it a week to load."),
    ]
    model = _second_reading.train(records)
    read_as_nothing = CallOutcome(claim_status="unknown", call_outcome="failed", review_reasons=[NO_STATUS])
    not_on_file = _record("unknown", "failed", "I don't see that claim on file.", "Give it a week.")["transcript"]

    assert nothing_to_correct(read_as_nothing, records[0]["transcript"], model)
    assert not nothing_to_correct(read_as_nothing, not_on_file, model)
    # held for anything else as well: still held
    also_unplaced = CallOutcome(
        claim_status="unknown", call_outcome="failed", review_reasons=[NO_STATUS, "Line 3 reads out claim details"]
    )
    assert not nothing_to_correct(also_unplaced, records[0]["transcript"], model)


GARBLED_REFERENCE = IN_PROCESS.replace("it's 5-5-1-0-9-3-8.", "it's 5-5, hang on, my screen froze.")


def test_a_reference_it_could_not_parse_on_a_call_both_readings_agree_on_is_a_note_not_a_hold():
    outcome = extract_outcome(GARBLED_REFERENCE, CLAIM, extractor="rules")

    assert (outcome.claim_status, outcome.call_outcome, outcome.reference_number) == ("in_process", "follow_up", None)
    assert not outcome.needs_review, outcome.review_reasons
    assert "A reference number was read out on line 7 but could not be parsed" in outcome.next_steps


def test_a_reference_it_could_not_parse_stays_held_when_the_wording_means_another_status():
    records = [
        _record("in_process", "follow_up", "It's still in process.", "Give it two weeks."),
        _record("in_process", "follow_up", "Still processing on our end.", "Give it ten days."),
        _record("denied", "action_required", "That claim was denied for timely filing.", "You can appeal it."),
        _record("denied", "action_required", "It was denied, no authorization on file.", "You can appeal it."),
    ]
    model = _second_reading.train(records)
    unread = unread_reference(3)
    read_as_in_process = CallOutcome(claim_status="in_process", call_outcome="follow_up", review_reasons=[unread])

    assert nothing_to_correct(read_as_in_process, records[0]["transcript"], model)
    assert not nothing_to_correct(read_as_in_process, records[2]["transcript"], model)
    assert not nothing_to_correct(read_as_in_process, "AI: Hello?\nUser: Mm.", model)  # nothing it knows


def test_a_worker_trains_it_in_the_background_before_the_first_call_is_read(monkeypatch):
    monkeypatch.setattr(_second_reading, "_trained", None)

    _second_reading.warm_up()
    warming = next(t for t in threading.enumerate() if t.name == "second-reading-warm-up")
    warming.join(timeout=120)

    assert _second_reading._trained is not None
    assert _second_reading.likelier({"claim_status": "paid"}, IN_PROCESS) == {"claim_status": "in_process"}
