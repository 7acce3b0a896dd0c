"""The offline extractor on statuses said without the usual words (calls written for these tests).

A denial of one service after another service's payment, a payment approved but not yet issued, a
claim that paid nothing because all of it went to the deductible, a pend for a description of the
service, waits counted from the payer's own timeline, and voicemail and rep-initial greetings.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ai.extraction import rules, spoken
from ai.outcome import ClaimContext

CLAIM = ClaimContext(date_of_service="2026-04-14", payer="Fernbrook Health", call_date=date(2026, 5, 20))


def extract(*lines: str):
    return rules.extract("\n".join(lines), CLAIM)


def test_it_reads_a_denied_service_after_another_service_paid_as_a_partial_payment():
    outcome = extract(
        "User: Fernbrook claims, this is Ambrose.",
        "AI: Hi Ambrose, the claim for April fourteenth.",
        "User: The consult paid one twelve forty. The ultrasound denied, group code CO, reason fifty.",
    )
    assert outcome.claim_status == "partially_paid"
    assert outcome.paid_amount == Decimal("112.40")
    assert outcome.denial_code == "CO-50"
    assert outcome.call_outcome == "action_required"


def test_it_keeps_a_denial_of_the_whole_claim_after_a_service_paid_on_another_claim():
    outcome = extract(
        "User: Fernbrook claims, this is Ambrose.",
        "AI: Hi Ambrose, the claim for April fourteenth.",
        "User: The consult paid one twelve forty. But on review the whole claim denied, CO-50.",
    )
    assert outcome.claim_status == "denied"


def test_it_takes_the_code_given_when_asked_why_a_service_denied():
    outcome = extract(
        "User: Fernbrook claims, this is Ambrose.",
        "AI: Hi Ambrose, the claim for April fourteenth.",
        "User: Two lines. The visit paid, eighty-four twenty. The drug line, that one denied.",
        "AI: What was the denial reason on the drug line?",
        "User: C-O sixteen, the NDC is missing.",
    )
    assert outcome.claim_status == "partially_paid"
    assert outcome.denial_code == "CO-16"


def test_it_reads_an_approved_payment_not_yet_issued_as_in_process():
    outcome = extract(
        "User: Fernbrook, Ambrose speaking.",
        "AI: Hi Ambrose, the claim for April fourteenth.",
        "User: That's approved for payment, but it hasn't finalized yet. Give it two weeks.",
    )
    assert outcome.claim_status == "in_process"
    assert outcome.call_outcome == "follow_up"
    assert outcome.follow_up_days == 14


def test_it_reads_a_claim_that_all_went_to_the_deductible_as_a_patient_responsibility_denial():
    outcome = extract(
        "User: Fernbrook, Ambrose speaking.",
        "AI: Hi Ambrose, the claim for April fourteenth.",
        "User: It processed, but the entire allowed amount went to her deductible. We didn't pay anything.",
        "AI: Is there a group and reason code?",
        "User: Group code PR, reason code one.",
    )
    assert outcome.claim_status == "denied"
    assert outcome.denial_code == "PR-1"
    assert outcome.paid_amount is None
    assert outcome.call_outcome == "resolved"


def test_it_reads_a_pend_for_a_description_of_the_service_as_waiting_on_the_practice():
    outcome = extract(
        "User: Fernbrook, Ambrose speaking.",
        "AI: Hi Ambrose, the claim for April fourteenth.",
        "User: That one's pended. We need a description of the unlisted code. Remark N-three-fifty.",
    )
    assert outcome.claim_status == "pending_info"
    assert outcome.call_outcome == "action_required"
    assert outcome.follow_up_days is None
    assert outcome.remark_codes == ["N350"]


def test_it_reads_a_wait_within_which_the_payer_should_finish_as_a_follow_up():
    outcome = extract(
        "User: Fernbrook, Ambrose speaking.",
        "AI: Hi Ambrose, the claim for April fourteenth.",
        "User: Still in process. It should be processed within the next ten days.",
    )
    assert outcome.follow_up_days == 10


def test_it_counts_a_wait_from_the_date_of_receipt():
    outcome = extract(
        "User: Your claim was received on May tenth, 2026, and is in process.",
        "User: Please allow thirty days from the date of receipt before calling again. Goodbye.",
    )
    assert outcome.claim_status == "in_process"
    assert outcome.follow_up_days == 20  # May 10 + 30 days = June 9, twenty days after the call


def test_it_still_reads_a_deadline_to_send_records_as_no_follow_up():
    outcome = extract(
        "User: Fernbrook, Ambrose speaking.",
        "AI: Hi Ambrose, the claim for April fourteenth.",
        "User: We need the op notes. You have thirty days from the date of the letter to send them.",
    )
    assert outcome.call_outcome == "action_required"
    assert outcome.follow_up_days is None


def test_it_reads_this_past_weekday_as_the_last_one():
    (mention,) = spoken.dates("this past Thursday, by EFT")
    assert mention.resolve(date(2026, 5, 20)) == date(2026, 5, 14)


def test_it_keeps_the_last_initial_said_right_after_the_name():
    outcome = extract("User: Claims department, this is Ambrose T. Can I have the member ID?")
    assert outcome.rep_name == "Ambrose T."


def test_it_does_not_take_a_voicemail_greeting_for_a_representative():
    outcome = extract(
        "User: Hi, you've reached Marisol Vance in provider relations. I'm out of the office until Monday. "
        "Please leave your name and number.",
        "User: Please record your message after the tone.",
    )
    assert outcome.human_reached is False
    assert outcome.rep_name is None
    assert outcome.call_outcome == "failed"


def test_it_takes_the_claim_total_the_payer_confirms_after_adding_up_the_lines():
    outcome = extract(
        "User: Fernbrook claims, Odessa speaking.",
        "AI: Hi Odessa, the claim for April fourteenth, please.",
        "User: Three lines. The office visit paid eighty-four ten, the x-ray paid forty-one "
        "twenty-five, and the splint paid sixty-two even.",
        "AI: So the total paid on the claim is one hundred eighty-seven dollars and thirty-five cents?",
        "User: Hmm, let me add that up... yes, one eighty-seven thirty-five.",
    )
    assert outcome.claim_status == "paid"
    assert outcome.paid_amount == Decimal("187.35")


def test_it_takes_the_amount_the_payer_corrects_when_the_agent_reads_it_back():
    outcome = extract(
        "User: Fernbrook claims, Odessa speaking.",
        "AI: Hi Odessa, the claim for April fourteenth, please.",
        "User: That one was paid. The paid amount was three forty-six eighty.",
        "AI: Three hundred forty-six dollars and eighty cents?",
        "User: Oh, sorry, I misspoke. Two forty-six eighty. Two hundred forty-six dollars and eighty cents.",
        "AI: Two hundred forty-six eighty, got it.",
    )
    assert outcome.claim_status == "paid"
    assert outcome.paid_amount == Decimal("246.80")


def test_a_confirmation_after_a_pause_still_confirms_the_agents_reading():
    outcome = extract(
        "User: Fernbrook claims, Odessa speaking.",
        "AI: Hi Odessa, the claim for April fourteenth, please.",
        "User: I see it here.",
        "AI: So that claim was denied as a duplicate, reason code eighteen?",
        "User: Um, let me check... yeah.",
    )
    assert outcome.claim_status == "denied"
    assert outcome.denial_code == "18"


def test_a_correction_to_the_read_back_counts_even_after_the_payer_said_more():
    outcome = extract(
        "User: Fernbrook claims, this is Rafael.",
        "AI: Hi Rafael, the claim for April fourteenth, please.",
        "User: That one paid, paid two eighty-one fifty-four. There's no member cost share on it.",
        "AI: Two hundred eighty-one dollars and fifty-four cents?",
        "User: Oh, sorry, forty-five. Two eighty-one forty-five. I swapped them.",
    )
    assert outcome.paid_amount == Decimal("281.45")


def test_the_claim_total_stands_against_the_line_amounts_read_after_it():
    outcome = extract(
        "User: Fernbrook Health claim status. This claim was finalized on May second. The total paid "
        "amount is ninety-three dollars and forty cents. To hear the line detail, press 1.",
        "AI: 1.",
        "User: Line one. Procedure 8-0-0-5-3. Paid sixty-one dollars. Line two. Procedure 8-5-0-2-5. "
        "Paid thirty-two dollars and forty cents.",
    )
    assert outcome.claim_status == "paid"
    assert outcome.paid_amount == Decimal("93.40")


def test_it_takes_the_sum_after_an_amount_paid_on_each_line():
    outcome = extract(
        "User: Fernbrook claims, this is Rafael.",
        "AI: Hi Rafael, the claim for April fourteenth, please.",
        "User: Both visit lines paid, seventy-two fifteen each, so one forty-four thirty total.",
    )
    assert outcome.paid_amount == Decimal("144.30")


def test_a_patient_share_called_a_total_is_not_the_payment():
    outcome = extract(
        "User: Fernbrook claims, this is Rafael.",
        "AI: Hi Rafael, the claim for April fourteenth, please.",
        "User: Plan paid one eighty-eight twenty, with a member share of forty-one ten total.",
    )
    assert outcome.paid_amount == Decimal("188.20")


def test_a_week_from_a_weekday_is_seven_days_after_it():
    outcome = extract(  # the call is on Wednesday, May 20
        "User: Fernbrook claims, this is Rafael.",
        "AI: Hi Rafael, the claim for April fourteenth, please.",
        "User: It's still in process. Give it until a week from this Friday, then call us back.",
    )
    assert outcome.claim_status == "in_process"
    assert outcome.follow_up_days == 9


def test_the_claim_payment_stands_against_a_line_by_line_reading_after_it():
    outcome = extract(
        "User: One claim found. Claim status: finalized. Paid amount fifty-one dollars and twenty cents. "
        "For line item information, press 1.",
        "AI: [DTMF 1]",
        "User: Line one. Procedure code 8-0-0-5-3. Paid amount forty dollars.",
        "User: Line two. Procedure code 8-5-0-2-5. Paid amount eleven dollars and twenty cents.",
    )
    assert outcome.claim_status == "paid"
    assert outcome.paid_amount == Decimal("51.20")


def test_another_claims_payment_does_not_stand_against_this_ones():
    outcome = extract(
        "User: Fernbrook claims, this is Rafael. I've got two claims on that date. One's a lab claim, billed "
        "thirty, paid twenty-two forty. The other one's the visit.",
        "AI: The visit, please.",
        "User: So the visit claim paid one sixty-eight ninety.",
    )
    assert outcome.paid_amount == Decimal("168.90")


def test_a_line_that_did_not_pay_beside_a_payment_is_a_partial_payment_with_that_lines_code():
    outcome = extract(
        "User: Fernbrook claims, Odette speaking.",
        "AI: Hi Odette, the claim for April fourteenth, billed six hundred ten dollars.",
        "User: So that one processed. We paid five hundred two dollars and fifteen cents by EFT on May fourth. "
        "The only line that didn't pay is the splint, one oh seven eighty-five.",
        "AI: Why did the splint line deny?",
        "User: C-O four, the modifier is missing.",
        "AI: So we'd send a corrected claim with the modifier?",
        "User: That's right.",
    )
    assert outcome.claim_status == "partially_paid"
    assert outcome.paid_amount == Decimal("502.15")
    assert outcome.denial_code == "CO-4"
    assert outcome.call_outcome == "action_required"


def test_a_count_of_visits_denied_after_the_phone_system_read_a_payment_is_a_partial_payment():
    outcome = extract(
        "User: The claim has been processed. The paid amount is eight hundred forty dollars.",
        "AI: Representative.",
        "User: Fernbrook, this is Levon. What can I help with?",
        "AI: Hi Levon, the phone line read a payment of eight hundred forty dollars. What didn't pay?",
        "User: Three therapy visits denied, April fourteenth, sixteenth and twenty-first, C-O one ninety-seven, "
        "no authorization on file for those dates.",
        "AI: And the rest paid?",
        "User: The rest paid, eight hundred forty.",
    )
    assert outcome.claim_status == "partially_paid"
    assert outcome.denial_code == "CO-197"
    assert outcome.paid_amount == Decimal("840")


def test_a_balance_given_a_patient_responsibility_code_beside_a_payment_is_the_patients_share():
    outcome = extract(
        "User: Fernbrook auto claims, Gus here.",
        "AI: Hi Gus, the med-pay bill for April fourteenth, billed nine hundred.",
        "User: We paid what was left on her coverage, three twenty-two fifty. The rest, five seventy-seven fifty, "
        "our explanation shows as PR one nineteen.",
    )
    assert outcome.claim_status == "partially_paid"
    assert outcome.paid_amount == Decimal("322.50")
    assert outcome.denial_code == "PR-119"


def test_a_line_that_did_not_pay_in_a_condition_is_not_a_denied_line():
    outcome = extract(
        "User: Fernbrook claims, Odette speaking.",
        "AI: Hi Odette, the claim for April fourteenth.",
        "User: It paid in full, four twelve sixty, on May fourth. If a line didn't pay we'd have sent a letter.",
    )
    assert outcome.claim_status == "paid"
    assert outcome.denial_code is None


def test_a_group_named_after_the_reasons_description_is_the_codes_group():
    outcome = extract(
        "User: Fernbrook workers' comp, Hollis speaking.",
        "AI: Hi Hollis, the bill for April fourteenth.",
        "User: That one denied. Reason code 197, no precertification on file, that's a CO. Remark N54.",
    )
    assert outcome.denial_code == "CO-197"


def test_a_bill_on_hold_for_the_payers_own_investigation_is_in_process():
    outcome = extract(
        "User: Fernbrook workers' comp, Hollis speaking.",
        "AI: Hi Hollis, the bill for April fourteenth.",
        "User: We mailed the delay letter last week. The claim is under investigation, and your bill is on hold "
        "until there's a decision.",
        "AI: Do you need anything from our office?",
        "User: No, nothing from anyone, it's just our investigation. Call back in thirty days.",
    )
    assert outcome.claim_status == "in_process"
    assert outcome.call_outcome == "follow_up"
    assert outcome.follow_up_days == 30


def test_lines_read_by_procedure_code_make_a_partial_payment():
    outcome = extract(
        "User: Fernbrook claims, Odette speaking.",
        "AI: Hi Odette, the claim for April fourteenth.",
        "User: Okay. 20610 paid, one forty-two sixty. J1030, denied, CO-97, bundled into the injection.",
    )
    assert outcome.claim_status == "partially_paid"
    assert outcome.paid_amount == Decimal("142.60")
    assert outcome.denial_code == "CO-97"


def test_nothings_denied_is_not_a_denial():
    outcome = extract(
        "User: Fernbrook claims, Odette speaking.",
        "AI: Hi Odette, the claim for April fourteenth.",
        "User: It's still in process. Nothing's denied, nothing's been asked for. Give it two weeks.",
    )
    assert outcome.claim_status == "in_process"
    assert outcome.follow_up_days == 14


def test_the_payer_repeating_the_total_the_agent_added_up_is_the_payment():
    outcome = extract(
        "User: Fernbrook claims, Odette speaking.",
        "AI: Hi Odette, the infusion claim for April fourteenth.",
        "User: The drug line paid four thousand twelve thirty and the admin line paid one ten forty.",
        "AI: So the total payment was four thousand one hundred twenty-two dollars and seventy cents?",
        "User: Forty-one twenty-two seventy, yep.",
    )
    assert outcome.paid_amount == Decimal("4122.70")


def test_an_amount_the_agent_reads_back_as_what_the_patient_owes_is_not_a_payment():
    outcome = extract(
        "User: Fernbrook claims, Odette speaking.",
        "AI: Hi Odette, the claim for April fourteenth.",
        "User: No payment, the allowed amount of forty-one ten went to the copay. PR-3.",
        "AI: So nothing was paid, and the patient owes forty-one dollars and ten cents?",
        "User: That's right, forty-one ten.",
    )
    assert outcome.claim_status == "denied"
    assert outcome.paid_amount is None


def test_line_amounts_followed_by_their_sum_make_the_sum_the_payment():
    outcome = extract(
        "User: Fernbrook claims, Odette speaking.",
        "AI: Hi Odette, the claim for April fourteenth.",
        "User: We paid your admin lines, 96365 at one fifty-two ten and 96366 at ninety-seven ninety, "
        "that's your two fifty. The drug line denied, CO-16.",
    )
    assert outcome.claim_status == "partially_paid"
    assert outcome.paid_amount == Decimal("250")


def test_doses_denied_beside_doses_paid_make_a_partial_payment():
    outcome = extract(
        "User: Fernbrook claims, Odette speaking.",
        "AI: Hi Odette, the allergy claim for April fourteenth.",
        "User: So twelve doses were allowed at nine forty each, that's one hundred twelve dollars eighty paid. "
        "The other eight doses denied, PR-119, the yearly maximum.",
    )
    assert outcome.claim_status == "partially_paid"
    assert outcome.paid_amount == Decimal("112.80")
    assert outcome.denial_code == "PR-119"


def test_a_plan_that_paid_the_coinsurance_left_nothing_to_the_patient():
    outcome = extract(
        "User: Fernbrook supplement plan, Doug.",
        "AI: Hi Doug, the claim for April fourteenth.",
        "User: We got the crossover and paid it on May first. We paid the Part B coinsurance, twenty-two sixteen.",
    )
    assert outcome.claim_status == "paid"
    assert outcome.paid_amount == Decimal("22.16")


@pytest.mark.parametrize(
    "said",
    [
        "User: It processed correctly as billed. There's nothing to correct. That's a provider write-off.",
        "User: A corrected claim wouldn't change it and it's not appealable.",
    ],
)
def test_a_denial_the_payer_says_stands_and_needs_nothing_is_resolved(said):
    outcome = extract(
        "User: Fernbrook claims, Odette speaking.",
        "AI: Hi Odette, the claim for April fourteenth.",
        "User: That denied, CO-50, outside the frequency the policy allows.",
        "AI: Is there anything we should correct or appeal?",
        said,
    )
    assert outcome.claim_status == "denied"
    assert outcome.call_outcome == "resolved"


def test_a_write_off_offered_only_if_nothing_else_is_sent_leaves_work():
    outcome = extract(
        "User: Fernbrook claims, Odette speaking.",
        "AI: Hi Odette, the claim for April fourteenth.",
        "User: That denied, CO-197, no authorization on file.",
        "User: If your office did get an auth, you can send a reconsideration with it, "
        "otherwise it's a provider write-off.",
    )
    assert outcome.call_outcome == "action_required"


def test_billing_the_patient_for_a_patient_responsibility_denial_leaves_nothing_on_the_claim():
    outcome = extract(
        "User: Fernbrook claims, Odette speaking.",
        "AI: Hi Odette, the claim for April fourteenth.",
        "User: That one's denied, PR-204, the plan doesn't cover audio-only visits.",
        "AI: Understood, we'll bill the patient.",
    )
    assert outcome.call_outcome == "resolved"


def test_a_copay_the_patient_paid_at_the_visit_is_not_the_payers_payment():
    outcome = extract(
        "User: Fernbrook claims, Odette speaking.",
        "AI: Hi Odette, the claim for April fourteenth.",
        "User: We paid eighty-one forty on May first. The member paid the copay, twenty-five, at the visit.",
    )
    assert outcome.paid_amount == Decimal("81.40")
