"""The offline extractor on more ways payers speak (calls written for these tests, not from a corpus)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ai.extraction import extract_outcome
from ai.outcome import ClaimContext

CLAIM = ClaimContext(date_of_service="2026-07-06", payer="Alder Health", call_date=date(2026, 8, 12))  # a Wednesday
HELLO = ("User: Alder Health claims, this is Priya.", "AI: Hi Priya, I'm an AI assistant calling about July sixth.")


def extract(*lines: str, hello: tuple[str, ...] = HELLO):
    # through extract_outcome, so values are also checked against their lines
    return extract_outcome("\n".join((*hello, *lines)), CLAIM, extractor="rules")


def test_it_joins_a_reference_read_in_groups_with_then():
    outcome = extract("AI: Could I have a reference number?", "User: Sure. It's 2026, then 0812, then 5530.")
    assert outcome.reference_number == "202608125530"


def test_it_takes_no_reference_it_cannot_read_whole():
    outcome = extract("AI: Could I have a reference number?", "User: It's 4471 and 2209, and then some letters.")
    assert outcome.reference_number is None
    assert any("reference number was read out" in reason for reason in outcome.review_reasons)


def test_it_takes_a_reading_started_again_and_one_after_a_colon():
    restarted = extract("User: Your reference is, um, seven seven two... seven seven two Q four four one.")
    assert restarted.reference_number == "772Q441"
    announced = extract("AI: And the call reference?", "User: Okay, nice and slow: 9-1, 4-4, Tango, 6.")
    assert announced.reference_number == "9144T6"


def test_it_reads_a_partial_payment_told_by_service():
    outcome = extract(
        "User: The x-ray paid sixty-two forty. The office consult was denied. That's C O fifty with remark N115.",
        "AI: So we'd appeal the consult with notes?",
        "User: Yes, send an appeal with the notes.",
    )
    assert outcome.claim_status == "partially_paid"
    assert outcome.paid_amount == Decimal("62.40")
    assert outcome.denial_code == "CO-50"
    assert outcome.call_outcome == "action_required"


def test_it_reads_units_as_a_count_not_money():
    outcome = extract(
        "User: We paid three of the six units, two hundred ten dollars.",
        "User: The other three units denied, C O one fifty-one.",
    )
    assert outcome.claim_status == "partially_paid"
    assert outcome.paid_amount == Decimal("210.00")
    assert outcome.denial_code == "CO-151"


def test_it_reads_a_zero_payment_after_another_payer_as_a_denial():
    outcome = extract(
        "User: The primary paid more than we allow, so we show zero payment. That's an O A dash twenty-three.",
        "User: Nothing further on this one.",
    )
    assert outcome.claim_status == "denied"
    assert outcome.paid_amount is None
    assert outcome.denial_code == "OA-23"
    assert outcome.call_outcome == "resolved"


def test_it_reads_a_code_said_before_its_group_and_a_code_said_with_the_word_denial():
    asked = extract("User: That was denied, reason sixteen.", "AI: What's the group code?", "User: Group is C O.")
    assert asked.denial_code == "CO-16"
    bare = extract("User: Yeah, it's a two fifty-two denial. The attachment never came.")
    assert (bare.claim_status, bare.denial_code) == ("denied", "252")


def test_it_reads_a_new_code_opening_a_sentence_after_the_reason():
    outcome = extract(
        "User: It denied again, but for a different reason now. One ninety-seven, no auth on file. Group is C O.",
    )
    assert outcome.denial_code == "CO-197"


def test_it_reads_a_code_said_digit_by_digit_and_liability_in_words():
    digits = extract("User: Claim status: denied. Group code P I. Reason code one zero nine.")
    assert digits.denial_code == "PI-109"
    words = extract(
        "User: That claim denied, reason code fifty, and it's provider liability, you can't bill the member."
    )
    assert words.denial_code == "CO-50"


def test_it_reads_payment_facts_said_around_the_amount():
    outcome = extract(
        "User: Alright, that claim paid. Check for four forty even went out last Friday.",
        "AI: And the check number?",
        "User: Check number 0-0-4-1-7-7-2.",
    )
    assert outcome.paid_amount == Decimal("440.00")
    assert outcome.payment_date == date(2026, 8, 7)
    assert outcome.check_or_eft_number == "0041772"


def test_it_reads_a_bare_trace_and_an_answer_to_when_it_was_paid():
    outcome = extract(
        "User: That one paid. One twelve eighty, sent by EFT.",
        "AI: When did the payment go out?",
        "User: August third, EFT, trace 5-5-0-1-9-2-8.",
    )
    assert outcome.paid_amount == Decimal("112.80")
    assert outcome.payment_date == date(2026, 8, 3)
    assert outcome.check_or_eft_number == "5501928"


def test_it_reads_a_payment_counted_back_and_a_check_named_first():
    outcome = extract(
        "User: That one paid. Ninety dollars even, paid ten days ago.",
        "AI: How was it sent?",
        "User: Check, August second, number 7-7-1-0-2.",
    )
    assert outcome.paid_amount == Decimal("90.00")
    assert outcome.payment_date == date(2026, 8, 2)
    assert outcome.check_or_eft_number == "77102"


def test_it_reads_a_duplicate_denial_the_payer_says_needs_nothing():
    outcome = extract("User: That denied as a duplicate, C O eighteen.", "User: Nope, nothing to do on your end.")
    assert outcome.call_outcome == "resolved"


def test_it_reads_a_remark_code_given_in_answer():
    outcome = extract("User: It denied, C O four.", "AI: Any remark code?", "User: Yes, M114.")
    assert outcome.remark_codes == ["M114"]


def test_it_reads_other_status_wording():
    missing = extract("User: I don't have anything on file for that date.")
    assert (missing.claim_status, missing.call_outcome) == ("not_on_file", "action_required")
    adjusted = extract("User: I've opened an adjustment on the claim. Four to six weeks.")
    assert (adjusted.claim_status, adjusted.follow_up_days) == ("reprocessing", 42)
    waiting = extract(
        "User: It's pending. We sent him a questionnaire about other insurance.",
        "User: No, nothing from your side. Give it three weeks.",
    )
    assert (waiting.claim_status, waiting.call_outcome, waiting.follow_up_days) == ("pending_info", "follow_up", 21)


def test_it_reads_a_day_to_call_after():
    outcome = extract("User: It's in process. The cycle runs on the twentieth, so call back after the twentieth.")
    assert outcome.follow_up_days == 9


def test_it_reads_a_day_the_agent_pins_and_the_payer_accepts():
    outcome = extract(
        "User: It's in review, should be done around the end of next week.",
        "AI: So we'll check back on August twenty-fourth?",
        "User: Sounds good.",
    )
    assert outcome.follow_up_days == 12


def test_it_reads_the_wait_the_payer_picks():
    outcome = extract(
        "User: It's processing. Usually five to eight business days.",
        "AI: Should we call after five business days, or wait the full eight?",
        "User: Five is fine, it should be out by then.",
    )
    assert outcome.follow_up_days == 7


def test_it_counts_a_wait_from_the_date_received():
    outcome = extract(
        "User: The claim was received on August second and is in process.",
        "User: Please allow thirty days from the date received.",
    )
    assert outcome.follow_up_days == 20


def test_it_reads_other_greetings():
    got = extract("User: Sure thing.", hello=("User: Alder provider line, you've got Esme.", "AI: Hi Esme."))
    assert got.rep_name == "Esme"
    short = extract("User: Sure thing.", hello=("User: Alder claims, Odile.", "AI: Hi Odile."))
    assert short.rep_name == "Odile"
    machine = extract(
        "User: Status: in process.",
        hello=("User: You've reached Alder Health automated claim status. Please say or enter your NPI.",),
    )
    assert (machine.rep_name, machine.human_reached) == (None, False)
