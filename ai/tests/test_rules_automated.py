"""The offline extractor on automated status lines, itemised readings, take-backs and readings started
over (calls written for these tests)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ai.extraction import extract_outcome, rules
from ai.outcome import ClaimContext

CLAIM = ClaimContext(date_of_service="2026-09-14", payer="Great Plains Medicare", call_date=date(2026, 11, 2))
IVR_OPENING = (
    "User: Welcome to the provider line. Please enter your NPI.",
    "AI: [DTMF 1 2 3 4 5 6 7 8 9 0]",
    "User: Enter the date of service.",
    "AI: [DTMF 0 9 1 4 2 0 2 6]",
)


def automated(*lines: str):
    return rules.extract("\n".join((*IVR_OPENING, *lines)), CLAIM)


def with_rep(*lines: str):
    return rules.extract(
        "\n".join(("User: Provider services, this is Odette.", "AI: Hi Odette, the claim for September 14.", *lines)),
        CLAIM,
    )


def test_an_automated_line_that_returns_a_claim_as_unprocessable_is_a_denial_to_correct():
    outcome = automated(
        "User: Control number 0-3-3-1-8-8-2-0-4-1-7. The claim was returned as unprocessable. "
        "Group code C O, claim adjustment reason code 16. Remark code M A 1 30. To end this call, press 9."
    )
    assert outcome.claim_status == "denied"
    assert outcome.denial_code == "CO-16"
    assert outcome.call_outcome == "action_required"
    assert outcome.reference_number is None  # a control number is the claim's, not the call's


@pytest.mark.parametrize(
    "said",
    [
        "User: This claim was finalized on October ninth. No payment was made on this claim. The allowed amount "
        "of ninety-two dollars and ten cents was applied to the beneficiary's annual deductible. Group code P R, "
        "reason code 1. Goodbye.",
        "User: Claim status: finalized. Provider reimbursement amount: zero dollars and zero cents. Amount applied "
        "to the beneficiary's Part B deductible: one hundred eighty-one dollars and twenty-four cents. Claim "
        "adjustment reason code: P R one. To repeat this information, press 1.",
    ],
)
def test_an_automated_deductible_reading_is_a_patient_share_denial_with_nothing_paid(said):
    outcome = automated(said)
    assert (outcome.claim_status, outcome.denial_code, outcome.call_outcome) == ("denied", "PR-1", "resolved")
    assert outcome.paid_amount is None


def test_a_zero_paid_amount_read_after_the_status_does_not_turn_a_denial_into_a_payment():
    outcome = automated(
        "User: Status: denied. Claim adjustment reason code 197, group code C O. Paid amount zero dollars. "
        "To end, press 9."
    )
    assert (outcome.claim_status, outcome.denial_code) == ("denied", "CO-197")
    assert outcome.paid_amount is None


def test_an_itemised_reading_with_one_line_denied_is_a_partial_payment():
    outcome = automated(
        "User: This claim was paid on October twentieth in the amount of two hundred four dollars. "
        "One or more lines on this claim were denied. For line detail, press 2.",
        "AI: [DTMF 2]",
        "User: Line one. Procedure 7-1-0-4-5. Paid two hundred four dollars. Line two. Procedure 7-1-0-4-6. "
        "Denied. Group code C O, reason code 97. End of line detail.",
    )
    assert outcome.claim_status == "partially_paid"
    assert outcome.paid_amount == Decimal("204.00")
    assert outcome.denial_code == "CO-97"
    assert outcome.call_outcome == "action_required"


@pytest.mark.parametrize(
    "said",
    [
        "User: A reopening request was received on October twelfth and the claim is currently being adjusted. "
        "Allow up to thirty days.",
        "User: I added the modifier and sent the claim back to be adjusted. Give it thirty days.",
    ],
)
def test_an_adjustment_under_way_is_reprocessing_not_the_old_denial(said):
    outcome = with_rep("User: The office visit line was denied, reason code C O 97.", said)
    assert outcome.claim_status == "reprocessing"
    assert outcome.denial_code is None
    assert (outcome.call_outcome, outcome.follow_up_days) == ("follow_up", 30)


def test_a_payment_taken_back_in_full_leaves_nothing_paid_and_is_held_for_a_person():
    outcome = with_rep(
        "User: It originally paid one hundred forty dollars on September thirtieth. Then we found other coverage "
        "was primary. The full one forty was taken back as an offset on your October remittance. "
        "The adjustment reason is C O 22.",
        "AI: So we bill the other plan first?",
        "User: That's right.",
    )
    assert (outcome.claim_status, outcome.denial_code) == ("denied", "CO-22")
    assert outcome.paid_amount is None
    assert outcome.payment_date is None
    assert outcome.needs_review


@pytest.mark.parametrize(
    "answer, reference",
    [
        ("User: Sure, K-R-5-5-1... no, sorry, K-R-5-8-1-0-2-4-4.", "KR5810244"),
        ("User: It's 7-7-2... sorry, let me start over, that was the wrong one. It's 7-9-0-3-3-1-2-8.", "79033128"),
    ],
)
def test_a_reference_reading_taken_back_and_read_again_is_the_second_reading(answer, reference):
    outcome = with_rep(
        "User: That claim is in process, give it two weeks.", "AI: Could I get a reference number?", answer
    )
    assert outcome.reference_number == reference


def test_a_claim_number_offered_when_the_payer_assigns_no_references_is_not_the_reference():
    outcome = with_rep(
        "User: That one denied for timely filing, reason code 29.",
        "AI: Could I get a reference number for this call?",
        "User: We don't assign call reference numbers. If you need something, use the ICN, 0-2-2-6-1-4-4-8-0-9-1.",
    )
    assert outcome.reference_number is None


def test_a_code_said_without_its_group_takes_the_group_the_liability_words_settle():
    outcome = with_rep(
        "User: It denied on October fifth. Reason code 29, the time limit for filing has expired.",
        "AI: What are our options?",
        "User: Resubmit with proof of timely filing. Otherwise it stays denied, and the client can't be billed for it.",
    )
    assert outcome.denial_code == "CO-29"


def test_time_already_gone_by_is_no_wait_and_an_instruction_to_submit_is_work_for_the_office():
    outcome = with_rep(
        "User: I'm not finding anything for September fourteenth. Nothing on file at all.",
        "AI: Could it still be in transit?",
        "User: Not at this point, it's been almost two months. You'll want to submit the claim directly.",
    )
    assert outcome.claim_status == "not_on_file"
    assert outcome.follow_up_days is None
    assert outcome.call_outcome == "action_required"


def test_a_code_read_digit_by_digit_is_one_code():
    outcome = automated("User: This claim was denied. Claim adjustment reason code: C-O, 9-7. Remark code: M-1-4-4.")
    assert (outcome.denial_code, outcome.remark_codes) == ("CO-97", ["M144"])


def test_a_reference_read_twice_in_one_answer_is_that_reference():
    outcome = with_rep(
        "User: That claim is in process, give it two weeks.",
        "AI: May I have a reference number?",
        "User: Certainly. Let me read it slowly. 1-1-1-0, 3-3-9, 0-6-2. I'll repeat that: 1-1-1-0, 3-3-9, 0-6-2.",
    )
    assert outcome.reference_number == "1110339062"


def test_an_automated_reading_no_status_could_be_read_from_goes_to_a_person_not_the_retry_policy():
    outcome = extract_outcome(
        "\n".join((*IVR_OPENING, "User: Claim status: R seven. To repeat, press 1. Goodbye.")), CLAIM, extractor="rules"
    )
    assert (outcome.claim_status, outcome.call_outcome, outcome.human_reached) == ("unknown", "failed", False)

    outcome.settle_review(reached_nobody=True)

    assert outcome.needs_review
    assert any("could not place" in reason for reason in outcome.review_reasons)


def test_a_call_that_reached_nobody_and_heard_nothing_goes_to_the_retry_policy():
    outcome = extract_outcome(
        "\n".join((*IVR_OPENING, "User: Our offices are closed today. Please call back tomorrow. Goodbye.")),
        CLAIM,
        extractor="rules",
    )

    outcome.settle_review(reached_nobody=True)

    assert (outcome.call_outcome, outcome.needs_review, outcome.review_reasons) == ("failed", False, [])
