"""The offline extractor on other ways payers phrase the same facts (calls written for these tests)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ai.extraction import rules
from ai.outcome import ClaimContext

CLAIM = ClaimContext(date_of_service="2026-02-09", payer="Summit Mutual", call_date=date(2026, 3, 16))


def extract(*lines: str):
    return rules.extract("\n".join(lines), CLAIM)


def test_it_reads_a_confirmation_number_and_an_intro_with_im():
    outcome = extract(
        "User: Hi, I'm Delphine, with Summit Mutual provider services.",
        "AI: Hi Delphine, about the claim with date of service February ninth.",
        "User: That claim has been paid. We issued payment of $1,250.00 on March 2nd, check number 88-1020.",
        "User: Your confirmation number is S as in Sam, 2-2-0-9-1.",
    )
    assert outcome.rep_name == "Delphine"
    assert outcome.claim_status == "paid"
    assert outcome.paid_amount == Decimal("1250.00")
    assert outcome.payment_date == date(2026, 3, 2)
    assert outcome.check_or_eft_number == "881020"
    assert outcome.reference_number == "S22091"


def test_it_keeps_a_coinsurance_adjustment_off_the_action_list_with_the_code_said_for_it():
    outcome = extract(
        "User: Summit Mutual, Theo here.",
        "AI: Hi Theo, the claim for February ninth.",
        "User: We paid a hundred and twelve fifty, the rest was PR-2, member coinsurance of twenty-eight dollars.",
    )
    assert outcome.claim_status == "partially_paid"
    assert outcome.paid_amount == Decimal("112.50")
    assert outcome.call_outcome == "resolved"
    # the patient's share said as a code is the partial payment's code, as most labelled sets have it
    assert outcome.denial_code == "PR-2"


def test_it_keeps_the_denied_line_of_a_partial_payment():
    outcome = extract(
        "User: Claims, my name is Ottoline.",
        "AI: Hi Ottoline, the claim for February ninth.",
        "User: The lab line was denied, C-O ninety-seven, and the visit line paid ninety-five twenty.",
        "AI: We'll send a corrected claim for the lab line.",
    )
    assert outcome.claim_status == "partially_paid"
    assert outcome.denial_code == "CO-97"
    assert outcome.paid_amount == Decimal("95.20")
    assert outcome.call_outcome == "action_required"


def test_it_reads_a_range_of_business_days_written_with_a_dash():
    outcome = extract(
        "User: This is Amadou.",
        "AI: Hi Amadou, the claim for February ninth.",
        "User: It's still under review. Check back in 7-10 business days.",
    )
    assert outcome.claim_status == "in_process"
    assert outcome.follow_up_days == 14


def test_it_reads_a_follow_up_date():
    outcome = extract(
        "User: This is Amadou.",
        "AI: Hi Amadou, the claim for February ninth.",
        "User: It's in process and should pay by March thirtieth. If not, call us back.",
    )
    assert outcome.follow_up_days == 14


def test_it_does_not_take_a_records_deadline_for_a_follow_up():
    outcome = extract(
        "User: Summit Mutual, Jo speaking.",
        "AI: Hi Jo, the claim for February ninth.",
        "User: It's pending medical records. Please send them within thirty days of the letter.",
        "AI: We'll send the records this week.",
    )
    assert outcome.claim_status == "pending_info"
    assert outcome.call_outcome == "action_required"
    assert outcome.follow_up_days is None


def test_it_leaves_an_unlabelled_number_alone():
    outcome = extract(
        "User: Summit Mutual, Jo speaking.",
        "AI: Hi Jo, the claim for February ninth.",
        "User: That claim paid. I have 4-4-1-9-2-0 here but I'm not sure what that is.",
    )
    assert outcome.claim_status == "paid"
    assert outcome.reference_number is None
    assert outcome.check_or_eft_number is None
    assert outcome.paid_amount is None
    assert outcome.needs_review


def test_it_ignores_the_may_eleventh_claim_when_asked_about_february_ninth():
    outcome = extract(
        "User: Summit Mutual, Jo speaking.",
        "AI: Hi Jo, the claim for February ninth.",
        "User: The March second claim paid, but the February ninth claim is still in process.",
        "User: Give it two weeks.",
    )
    assert outcome.claim_status == "in_process"
    assert outcome.paid_amount is None
    assert outcome.follow_up_days == 14


@pytest.mark.parametrize(
    "said",
    [
        "User: It paid two hundred ten dollars on October third, but that was recouped on the fifteenth.",
        "User: The primary insurance paid two hundred ten dollars on October third; we denied it as secondary.",
        "User: That claim paid two hundred ten dollars on October third, then it was offset against an overpayment.",
    ],
)
def test_it_holds_a_payment_that_may_be_another_insurers_or_taken_back(said):
    transcript = "\n".join(["User: Provider services, this is Ines.", "AI: Hi Ines, checking a claim.", said])
    outcome = rules.extract(transcript, ClaimContext(date_of_service="2026-09-01", call_date=date(2026, 11, 2)))
    assert outcome.needs_review
    assert any("taken back or another insurer" in reason for reason in outcome.review_reasons)
