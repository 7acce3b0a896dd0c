"""The offline extractor on payer styles: screen fields read aloud, formal phrasing, terse reps, dental EOBs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ai.extraction import rules
from ai.outcome import ClaimContext

CLAIM = ClaimContext(date_of_service="2026-02-02", payer="Lakeshore Dental", call_date=date(2026, 3, 10))


def extract(*lines: str):
    return rules.extract("\n".join(lines), CLAIM)


def test_it_joins_dollars_and_cents_said_apart_by_a_comma():
    outcome = extract(
        "User: Lakeshore, this is Odile.",
        "User: That one paid on Monday the second. Four hundred twelve dollars, eighteen cents.",
    )
    assert outcome.paid_amount == Decimal("412.18")


def test_it_never_takes_cents_said_alone_for_the_payment():
    outcome = extract(
        "User: Lakeshore, this is Odile.",
        "User: That claim paid last week. Eighteen cents.",
    )
    assert outcome.claim_status == "paid"
    assert outcome.paid_amount is None
    assert any("paid amount" in reason for reason in outcome.review_reasons)


def test_it_reads_an_amount_with_the_point_said_aloud():
    outcome = extract(
        "User: This is Odile. Claim status F2, finalized. Paid two hundred nine point four five.",
    )
    assert outcome.paid_amount == Decimal("209.45")


def test_it_does_not_take_a_count_for_money_on_a_frequency_denial():
    outcome = extract(
        "User: Lakeshore Dental, this is Odile.",
        "User: That cleaning was denied, reason code 119, frequency. We paid one in October at another office.",
        "User: The patient is responsible for it, you can bill her.",
        "AI: So no payment on this claim?",
        "User: Right, nothing paid.",
    )
    assert outcome.claim_status == "denied"
    assert outcome.paid_amount is None
    assert outcome.denial_code == "PR-119"
    assert outcome.call_outcome == "resolved"


def test_it_keeps_a_bare_code_when_the_payer_says_the_practice_cannot_bill():
    outcome = extract(
        "User: Lakeshore Dental, this is Odile.",
        "User: That was denied, reason code 119. You can't bill her for it, it's a write off.",
    )
    assert outcome.denial_code == "CO-119"


def test_it_reads_the_amount_a_rate_comes_to_as_the_payment():
    outcome = extract(
        "User: This is Odile. Allowed was one fifty. We paid eighty percent, so a hundred twenty even.",
        "User: And the remaining thirty is the member's coinsurance.",
    )
    assert outcome.claim_status == "partially_paid"
    assert outcome.paid_amount == Decimal("120.00")


def test_it_does_not_take_the_patient_share_a_rate_comes_to_for_the_payment():
    outcome = extract(
        "User: This is Odile. The claim processed. The member's coinsurance is twenty percent, so thirty even.",
    )
    assert outcome.paid_amount is None


def test_it_takes_a_confirmed_question_with_hasnt_as_negated():
    outcome = extract(
        "User: This is Odile. It's with our bill review vendor right now.",
        "AI: So it hasn't been denied or paid yet?",
        "User: Right, it's just in bill review. Give it three weeks.",
    )
    assert outcome.claim_status == "in_process"
    assert outcome.follow_up_days == 21


def test_it_reads_formal_under_process_phrasing():
    outcome = extract(
        "User: Thank you for calling, my name is Joseph.",
        "User: Kindly note the claim was received on 3rd March and it is currently under process.",
        "User: Kindly allow ten to fifteen business days for the claim to be finalized.",
    )
    assert outcome.claim_status == "in_process"
    assert outcome.follow_up_days == 21


def test_it_keeps_reprocessing_when_the_next_words_say_it_is_not_finished():
    outcome = extract(
        "User: This is Odile. The corrected claim has been sent over to reprocessing. It's not finalized yet.",
        "User: Call back in two weeks.",
    )
    assert outcome.claim_status == "reprocessing"
    assert outcome.follow_up_days == 14


def test_it_reads_not_finalized_alone_as_in_process():
    outcome = extract("User: This is Odile. It's not finalized yet. Give it two weeks.")
    assert outcome.claim_status == "in_process"


def test_it_reads_a_payment_after_a_finished_reprocessing():
    outcome = extract(
        "User: This is Odile. The appeal was upheld, the claim reprocessed, and it paid on March fifth.",
        "User: Two hundred eight dollars and ten cents.",
    )
    assert outcome.claim_status == "paid"
    assert outcome.paid_amount == Decimal("208.10")
    assert outcome.payment_date == date(2026, 3, 5)
    assert outcome.call_outcome == "resolved"


def test_it_keeps_reprocessing_that_is_still_to_pay():
    outcome = extract("User: This is Odile. It's being reprocessed and should pay within two weeks.")
    assert outcome.claim_status == "reprocessing"


def test_it_asks_the_practice_to_act_on_a_coverage_termination():
    outcome = extract(
        "User: This is Odile. That claim denied, group code PR, reason 27, coverage terminated in December.",
        "User: You'd need to get her new insurance information and bill that carrier, or if she has none, bill her.",
    )
    assert outcome.denial_code == "PR-27"
    assert outcome.call_outcome == "action_required"


def test_it_rests_a_deductible_denial_with_the_patient():
    outcome = extract(
        "User: This is Odile. That claim denied, PR-1, it all went to the deductible. You can bill her.",
    )
    assert outcome.call_outcome == "resolved"


def test_it_takes_a_bare_resubmit_and_a_filing_limit_as_the_practice_s_work():
    outcome = extract(
        "User: Please hold.",
        "User: Cigna, Ray.",
        "AI: Hi Ray, I'm checking on a claim for date of service February second.",
        "User: Nothing on file. Never got it. Resubmit. Ninety days from date of service.",
    )
    assert outcome.rep_name == "Ray"
    assert outcome.human_reached
    assert outcome.claim_status == "not_on_file"
    assert outcome.call_outcome == "action_required"
    assert outcome.follow_up_days is None


def test_it_does_not_take_a_thank_you_for_a_greeting():
    outcome = extract(
        "User: Please hold.",
        "User: Thank you, Maria.",
    )
    assert outcome.rep_name is None


def test_it_does_not_take_the_reference_for_a_check_number_the_payer_said_there_is_none_of():
    outcome = extract(
        "User: This is Odile. That claim paid, one twenty even, on March second.",
        "AI: Was it a check or EFT?",
        "User: A virtual card. There's no check number for those, and I don't have a trace number.",
        "AI: Could I get a reference number for this call?",
        "User: Sure, it's 4-4-1-0, K as in kilo, 7-7.",
    )
    assert outcome.check_or_eft_number is None
    assert outcome.reference_number == "4410K77"


def test_it_reads_a_check_date_read_from_the_screen():
    outcome = extract(
        "User: This is Odile. Claim status F2, finalized. Paid one hundred twenty point zero zero.",
        "User: Check number 5-5-1-0-8, check date zero three, zero four, twenty-six.",
    )
    assert outcome.payment_date == date(2026, 3, 4)
    assert outcome.check_or_eft_number == "55108"
