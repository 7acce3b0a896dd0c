"""The offline extractor on speech as transcribed (split lines, shorthand money, read-backs) and on the
review gate's consistency checks (calls written for these tests)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ai.extraction import extract_outcome
from ai.outcome import ClaimContext

CLAIM = ClaimContext(
    date_of_service="2026-10-05", billed_amount="1500.00", payer="Keystone Health", call_date=date(2026, 11, 9)
)


def extract(*lines: str, claim: ClaimContext = CLAIM):
    transcript = "\n".join(("User: Keystone Health, this is Marta.", "AI: Hi Marta, the claim for October 5.", *lines))
    return extract_outcome(transcript, claim, extractor="rules")


def test_a_reference_the_transcript_split_across_two_lines_is_read_whole_with_both_lines_as_evidence():
    outcome = extract(
        "User: That one's in process, give it two weeks.",
        "AI: Could I have a reference number?",
        "User: Sure, it's 4-4-0-",
        "User: [hold music]",
        "User: 9-1-7-2-0-8.",
        "AI: 4-4-0-9-1-7-2-0-8. Thank you.",
    )
    assert outcome.reference_number == "440917208"
    assert outcome.evidence["reference_number"][:2] == [5, 7]


@pytest.mark.parametrize(
    "said, amount",
    [
        ("User: It paid on October thirtieth. Twelve eighty-four even, by check.", "1284.00"),
        ("User: It paid on October thirtieth. Two eleven and sixty cents, by check.", "211.60"),
    ],
)
def test_shorthand_money_is_read_as_payers_say_it(said, amount):
    assert extract(said).paid_amount == Decimal(amount)


def test_the_agents_read_back_of_the_amount_confirmed_by_the_payer_stands():
    outcome = extract(
        "User: That paid October thirtieth.",
        "AI: What was the paid amount?",
        "User: Nine forty-two seventeen.",
        "AI: Nine hundred forty-two dollars and seventeen cents?",
        "User: Yes.",
    )
    assert outcome.paid_amount == Decimal("942.17")


def test_another_insurers_payment_read_first_is_not_this_payers():
    outcome = extract(
        "User: Medicare's primary on him. So Medicare allowed two ten, paid one sixty-eight, and we paid "
        "thirty-three sixty as secondary, on November second.",
        "User: Just so you know, the one sixty-eight is Medicare's, not ours.",
    )
    assert outcome.paid_amount == Decimal("33.60")


def test_a_pending_claim_the_payer_goes_on_to_say_it_needs_something_for_waits_on_information():
    outcome = extract("User: Pending. Need the certification statement from the physician.")
    assert outcome.claim_status == "pending_info"


def test_a_pended_claim_in_the_payers_own_review_with_nothing_requested_is_in_process():
    outcome = extract(
        "User: It's pended. It's sitting in a coding review on the add-on code.",
        "AI: Do they need anything from us?",
        "User: No, nothing's been requested. Give it about a month.",
    )
    assert (outcome.claim_status, outcome.call_outcome, outcome.follow_up_days) == ("in_process", "follow_up", 30)


def test_an_agents_question_is_no_promise_of_work_and_a_wait_in_hours_is_counted_in_days():
    outcome = extract(
        "User: It's not in our claims system yet, but I can see it came through the gateway on the sixth.",
        "AI: Do we need to resubmit?",
        "User: No, don't resubmit. Give it forty-eight to seventy-two hours to load, then call back.",
    )
    assert (outcome.claim_status, outcome.call_outcome, outcome.follow_up_days) == ("not_on_file", "follow_up", 3)


def test_the_denied_one_is_a_pronoun_not_reason_code_one():
    outcome = extract(
        "User: I have two claims for her. The fifth is denied, C-O sixteen, missing the referring provider.",
        "AI: The claim I'm calling about is October fifth.",
        "User: Then it's the denied one.",
    )
    assert outcome.denial_code == "CO-16"


def test_a_paid_amount_said_like_a_month_and_day_is_held_for_a_person():
    outcome = extract("User: Paid. Eleven twenty-three. EFT.")
    assert outcome.needs_review
    assert any("also reads as a date" in reason for reason in outcome.review_reasons)


def test_a_paid_amount_the_agent_repeated_as_another_figure_is_held_for_a_person():
    outcome = extract(
        "User: That claim paid on October thirtieth. One sixty-eight, seventy-one, by check.",
        "AI: One hundred sixty-eight dollars and seventy-one cents. Any member responsibility?",
        "User: No, nothing.",
    )
    assert outcome.needs_review
    assert any("agent repeated the paid amount" in reason for reason in outcome.review_reasons)


def test_a_patient_share_code_under_a_provider_group_is_held_for_a_person():
    outcome = extract("User: That was denied, group C O, reason code one, deductible.")
    assert outcome.needs_review
    assert any("patient-share reason" in reason for reason in outcome.review_reasons)


def test_a_call_that_ends_mid_sentence_is_held_for_a_person():
    outcome = extract("User: That claim paid two hundred ten dollars on October thirtieth, check number is")
    assert outcome.needs_review
    assert any("ends mid-sentence" in reason for reason in outcome.review_reasons)


def test_a_paid_amount_above_the_charge_is_held_for_a_person():
    outcome = extract("User: That claim paid two thousand one hundred dollars on October thirtieth.")
    assert outcome.needs_review
    assert any("more than the $1500.00 billed" in reason for reason in outcome.review_reasons)


def test_a_plain_payment_passes_the_gate():
    outcome = extract(
        "User: That claim paid two hundred ten dollars on October thirtieth, check 4-4-8-1-9-0.",
        "AI: 4-4-8-1-9-0. Thank you.",
        "User: You're welcome, bye.",
    )
    assert (outcome.claim_status, outcome.paid_amount) == ("paid", Decimal("210.00"))
    assert not outcome.needs_review, outcome.review_reasons


@pytest.mark.parametrize(
    "said, days",
    [
        ("User: It's in process. Call back Wednesday.", 2),  # the call is on a Monday
        ("User: It's in process. Check back on the twenty-third, that's Monday after next.", 14),
    ],
)
def test_a_weekday_said_alone_is_the_next_one_and_after_next_the_one_after(said, days):
    assert extract(said).follow_up_days == days


def test_an_amount_that_trailed_off_is_replaced_by_the_one_read_after_the_hold():
    outcome = extract(
        "User: That one's finalized and paid. The paid amount is eighty-seven...",
        "User: [hold music]",
        "User: ...sorry, my screen froze. Okay. Eighty-seven dollars and twelve cents.",
    )
    assert outcome.paid_amount == Decimal("87.12")


def test_a_denial_waiting_on_an_appeal_the_payer_is_deciding_is_a_follow_up():
    outcome = extract(
        "User: The appeal was received on October twentieth and it's with a reviewer now. The claim itself is "
        "still denied, CO-197, until the appeal is decided.",
        "AI: Does the reviewer need anything from us?",
        "User: No, the packet is complete. You should have a decision by November nineteenth, check back then.",
    )
    assert (outcome.claim_status, outcome.call_outcome, outcome.follow_up_days) == ("denied", "follow_up", 10)


def test_announced_lines_make_a_denial_after_a_payment_one_lines_and_a_share_given_on_asking_counts():
    itemised = extract(
        "User: Two lines. A-zero-four-two-seven, paid six twelve eighty on October second. "
        "A-zero-four-two-five, the mileage, denied. C-O four."
    )
    assert (itemised.claim_status, itemised.paid_amount, itemised.denial_code) == (
        "partially_paid",
        Decimal("612.80"),
        "CO-4",
    )
    asked = extract(
        "User: That finalized and paid October second, eighty-six fifty-two to you.",
        "AI: Was any coinsurance applied?",
        "User: Oh, yes, the twenty percent, twenty-one sixty-three, that's his.",
    )
    assert asked.claim_status == "partially_paid"


def test_a_share_the_payer_picked_up_is_not_the_patients():
    outcome = extract(
        "User: Medicare's primary. We picked up the coinsurance, twenty-four sixty, that's what we paid, on "
        "October twenty-ninth, and she has no cost share."
    )
    assert outcome.claim_status == "paid"


def test_a_terse_pending_answered_with_what_is_missing_waits_on_the_office():
    outcome = extract(
        "User: Pending.",
        "AI: Pending for what?",
        "User: Records.",
        "AI: Is there a deadline?",
        "User: Forty-five days from the request.",
    )
    assert (outcome.claim_status, outcome.call_outcome, outcome.follow_up_days) == (
        "pending_info",
        "action_required",
        None,
    )


def test_parts_paid_and_a_part_denied_in_one_sentence_is_a_partial_payment():
    outcome = extract(
        "User: This one's got three lines. The labs and the x-ray paid, and the MRI line denied, CO-197.",
        "AI: How much was paid?",
        "User: Two eighteen and change... two eighteen forty-five.",
    )
    assert (outcome.claim_status, outcome.denial_code, outcome.paid_amount) == (
        "partially_paid",
        "CO-197",
        Decimal("218.45"),
    )


def test_a_provider_liability_denial_with_nothing_left_to_do_is_resolved():
    outcome = extract(
        "User: That denied, reason code ninety-six, non-covered, group code CO. You can't bill her for it.",
        "AI: So there's nothing to resubmit, and we'll adjust the balance off.",
        "User: That's right. That's all you can do with that one.",
    )
    assert (outcome.denial_code, outcome.call_outcome) == ("CO-96", "resolved")


@pytest.mark.parametrize(
    "said, code",
    [
        ("User: The technical line denied. C-O, B twenty. The hospital billed the technical.", "CO-B20"),
        ("User: That claim denied. It's CO, B as in bravo, seven. The provider wasn't credentialed.", "CO-B7"),
    ],
)
def test_lettered_reason_codes_are_read_with_their_letter(said, code):
    assert extract(said).denial_code == code


@pytest.mark.parametrize(
    "said, status",
    [
        ("User: Nothing. Not in the system at all. Send it in.", "not_on_file"),
        ("User: Modifier was missing on our end. Sending it back now. Call back Wednesday next week.", "reprocessing"),
    ],
)
def test_terse_not_on_file_and_sent_back(said, status):
    assert extract(said).claim_status == status


def test_a_reference_with_a_gap_the_transcript_could_not_make_out_is_left_for_a_person():
    outcome = extract(
        "User: That's in process, give it two weeks.",
        "AI: Could I have a reference number?",
        "User: Sure, it's M-O-L, 2-6, 1-2-[inaudible]-8-4.",
    )
    assert outcome.reference_number is None
    # the status and wait stand (both readings agree), so the call goes through with the gap noted
    assert "read out on line 5 but could not be parsed" in outcome.next_steps


@pytest.mark.parametrize(
    "lines, days",
    [
        (("AI: So we should call back after November nineteenth?", "User: After the nineteenth, yes."), 11),
        (("User: I'd check back Thursday the twelfth.",), 3),
        (("User: I'd give it until November twentieth.",), 11),
        (("AI: Would Monday the sixteenth work for a call back?", "User: Make it Wednesday the eighteenth."), 9),
    ],
)
def test_call_back_dates_pinned_in_conversation(lines, days):
    outcome = extract("User: It's in process, nothing needed from you.", *lines)
    assert outcome.follow_up_days in (days, days + 1)  # "after the nineteenth" is the twentieth


def test_opening_days_are_no_call_back_date():
    outcome = extract(
        "User: We received it November sixth and it's being processed. Allow up to ten more business days.",
        "User: Please call back during normal business hours, Monday through Friday.",
    )
    assert (outcome.claim_status, outcome.follow_up_days) == ("in_process", 14)


def test_a_reviewer_who_has_what_they_need_asks_nothing_of_the_office():
    outcome = extract(
        "User: The claim is pended while the appeal is reviewed.",
        "User: The file's complete. The reviewer has what they need. Call back in thirty days.",
    )
    assert (outcome.claim_status, outcome.call_outcome, outcome.follow_up_days) == ("in_process", "follow_up", 30)


def test_a_payment_read_before_a_denial_with_no_take_back_is_held_for_a_person():
    outcome = extract(
        "User: The office visit paid seventy-two forty on October thirtieth.",
        "User: And the claim was denied, C-O sixteen, missing the referring provider.",
    )
    assert outcome.needs_review
    assert any("check whether part of the claim was paid" in reason for reason in outcome.review_reasons)


def test_the_total_of_what_a_sentence_said_was_paid_is_the_paid_amount():
    outcome = extract(
        "User: The vaccine admin lines paid, ninety-four sixty and ninety-four sixty-one, total sixty-two forty, "
        "on October twenty-ninth."
    )
    assert outcome.paid_amount == Decimal("62.40")


def test_a_claim_with_two_visits_keeps_both_and_a_reprocessing_that_waits_on_the_office_is_not_yet():
    claim = ClaimContext(date_of_service="2026-09-10", billed_amount="420.00", call_date=date(2026, 11, 9))
    outcome = extract_outcome(
        "\n".join(
            (
                "User: Provider services, this is Colleen.",
                "AI: Hi Colleen, the claim has two lines, dates of service September 10th and September 17th.",
                "User: So line one, September tenth, paid one thirty-one twenty on October thirteenth. Line two, "
                "September seventeenth, denied, CO-197, authorization absent.",
                "User: You'd need to request a retro auth and then ask for the line to be reprocessed.",
            )
        ),
        claim,
        extractor="rules",
    )
    assert (outcome.claim_status, outcome.denial_code, outcome.call_outcome) == (
        "partially_paid",
        "CO-197",
        "action_required",
    )


def test_a_code_repeated_without_its_group_keeps_the_group():
    outcome = extract(
        "User: Claim status: denied. Group code: C O. Reason code: 4.",
        "User: Reason code 4: the procedure code is inconsistent with the modifier used.",
    )
    assert outcome.denial_code == "CO-4"


def test_a_denied_part_the_payer_calls_final_leaves_nothing_to_do():
    outcome = extract(
        "User: Three lines. The 99393 and the 96110 paid, total one thirty-nine fifty, on November second. "
        "The vision screening denied. Group C O, reason ninety-seven.",
        "AI: Can we send a corrected claim?",
        "User: No, that's a final bundling edit. It's a contractual write-off, and a corrected claim won't change it.",
    )
    assert (outcome.claim_status, outcome.denial_code, outcome.call_outcome) == (
        "partially_paid",
        "CO-97",
        "resolved",
    )


def test_a_pending_that_names_what_it_waits_for_just_before_waits_on_information():
    outcome = extract(
        "User: The system flags it for an accident questionnaire. We mailed it to the parent on the eighteenth. "
        "It's pending that. Nothing from you.",
        "User: I'd call back in two weeks.",
    )
    assert (outcome.claim_status, outcome.call_outcome, outcome.follow_up_days) == ("pending_info", "follow_up", 14)


def test_a_payment_above_the_charge_read_out_to_the_cent_passes_the_gate():
    # an encounter rate: the payer pays its rate, not the charge
    outcome = extract(
        "User: That claim paid. Paid amount is one thousand six hundred twelve dollars and forty cents, "
        "the clinic's encounter rate."
    )
    assert outcome.paid_amount == Decimal("1612.40")
    assert not any("more than the" in reason for reason in outcome.review_reasons)
