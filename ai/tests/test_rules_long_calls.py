"""The offline extractor on long, rambling calls: rough amounts, stumbled readings, a second claim
mentioned in passing, denials told as history, corrections and waits that are not waits."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ai.extraction import rules
from ai.outcome import ClaimContext

CLAIM = ClaimContext(date_of_service="2026-02-10", payer="Lakeshore Health", call_date=date(2026, 3, 18))
REP = ("User: Lakeshore provider line, this is Bettina.", "AI: Hi Bettina, the claim for February tenth.")


def extract(*lines: str):
    return rules.extract("\n".join((*REP, *lines)), CLAIM)


def test_it_takes_the_exact_amount_said_after_a_rough_one():
    outcome = extract(
        "User: It paid. Paid amount four fifty and change... four hundred fifty-three dollars and six cents."
    )
    assert outcome.paid_amount == Decimal("453.06")


def test_it_leaves_a_rough_amount_null_and_flagged():
    outcome = extract("User: That claim paid, about three hundred dollars, I'd have to pull the remit for the cents.")
    assert outcome.claim_status == "paid"
    assert outcome.paid_amount is None
    assert any("no paid amount" in reason for reason in outcome.review_reasons)


def test_it_keeps_an_exact_amount_said_plainly():
    outcome = extract("User: It paid three hundred dollars even on the ninth.")
    assert outcome.paid_amount == Decimal("300.00")


def test_it_leaves_a_reference_null_when_the_reading_stumbles_on_a_word():
    outcome = extract("User: Reference number is six, two, oh, smudge, four, four.")
    assert outcome.reference_number is None
    assert any("could not be parsed" in reason for reason in outcome.review_reasons)


def test_it_reads_niner_as_a_nine_in_a_reference():
    outcome = extract("User: Your reference is Kilo, Delta, five, niner, oh, three, niner.")
    assert outcome.reference_number == "KD59039"


def test_it_reads_a_reference_given_in_the_sentence_after_it_is_announced():
    outcome = extract("User: Claim's in process. Let me give you a reference so we know we spoke. It's 5-1-0-7, 7-2-2.")
    assert outcome.reference_number == "5107722"


def test_it_does_not_take_a_number_after_an_announcement_and_another_label():
    outcome = extract("User: I'll give you a reference in a second. The claim number is 8-8-1-2-0-4.")
    assert outcome.reference_number is None


def test_it_sets_aside_what_is_said_about_another_claim_for_the_same_patient():
    outcome = extract(
        "User: This one was denied, PR-1, all to her deductible. Oh, she's got another one from the third, too. "
        "That one paid sixty-two forty.",
    )
    assert outcome.claim_status == "denied"
    assert outcome.denial_code == "PR-1"
    assert outcome.paid_amount is None


def test_it_keeps_that_one_when_it_is_this_claim():
    outcome = extract("User: I see the February tenth visit. That one paid sixty-two forty last week.")
    assert outcome.claim_status == "paid"
    assert outcome.paid_amount == Decimal("62.40")


def test_it_drops_a_denial_told_as_history_once_the_claim_paid():
    outcome = extract(
        "User: Originally it denied CO sixteen for the missing modifier on the procedure, but the corrected one "
        "came through and paid. So it's paid now, one forty-two ten.",
    )
    assert outcome.claim_status == "paid"
    assert outcome.denial_code is None
    assert outcome.call_outcome == "resolved"


def test_it_keeps_a_denial_told_as_history_when_nothing_newer_follows():
    outcome = extract("User: It was originally denied CO-50, and the appeal was upheld, so it's still denied.")
    assert outcome.claim_status == "denied"
    assert outcome.denial_code == "CO-50"


def test_it_reads_out_of_denied_status_as_no_denial():
    outcome = extract(
        "User: The corrected claim was sent for reprocessing, so it's out of the denied status now. "
        "Give it thirty days.",
    )
    assert outcome.claim_status == "reprocessing"
    assert outcome.denial_code is None
    assert outcome.follow_up_days == 30


def test_it_does_not_read_nothing_pending_as_in_process():
    outcome = extract(
        "User: It denied one ninety-seven, no authorization, group CO.",
        "User: I don't see any auth request. Nothing pending, nothing approved.",
    )
    assert outcome.claim_status == "denied"
    assert outcome.call_outcome == "action_required"


def test_it_reads_a_member_portion_beside_a_payment_as_partial():
    outcome = extract("User: It paid one eighty-two fifty. There's a member portion of forty dollars, bill her for it.")
    assert outcome.claim_status == "partially_paid"
    assert outcome.paid_amount == Decimal("182.50")
    assert outcome.call_outcome == "resolved"


def test_it_reads_no_member_portion_as_paid():
    outcome = extract("User: It paid one eighty-two fifty. There's no member portion on this one.")
    assert outcome.claim_status == "paid"


def test_it_reads_a_line_sent_to_the_deductible_as_a_patient_share():
    outcome = extract(
        "User: The visit line paid sixty-six twenty. The x-ray line, that went to the patient's deductible. PR one.",
        "AI: Anything to fix on the x-ray line?",
        "User: No, nothing for you to do, just bill the patient.",
    )
    assert outcome.claim_status == "partially_paid"
    assert outcome.denial_code == "PR-1"
    assert outcome.call_outcome == "resolved"


def test_it_takes_a_code_corrected_in_a_sentence_of_its_own():
    outcome = extract(
        "User: It's denied, reason code fifty-four. Hang on, sorry, that's the modifier column. Fifty-five.",
        "AI: And the group?",
        "User: Group is CO.",
    )
    assert outcome.denial_code == "CO-55"


def test_it_keeps_a_code_when_a_number_follows_without_a_correction():
    outcome = extract(
        "User: It's denied, reason code fifty-four. That's the second time this month. Fifty-five.",
        "AI: And the group?",
        "User: Group is CO.",
    )
    assert outcome.denial_code == "CO-54"


def test_it_reads_waiting_on_another_payers_eob_as_pending_info():
    outcome = extract(
        "User: It's pending. We're secondary, so we're waiting on the primary carrier's EOB.",
        "User: You'd need to send us their explanation of benefits.",
    )
    assert outcome.claim_status == "pending_info"
    assert outcome.call_outcome == "action_required"
