"""The offline extractor on short calls written for these tests (not from the corpus)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ai.extraction import rules
from ai.grounding import states
from ai.outcome import ClaimContext, transcript_lines

CLAIM = ClaimContext(
    claim_number="CLM-77",
    patient_name="Pat Quill",
    date_of_service="2026-05-04",
    billed_amount="500.00",
    payer="Acme Health",
    member_id="QX55102",
    call_date=date(2026, 6, 10),  # a Wednesday
)


def call(*lines: str) -> str:
    return "\n".join(lines)


def extract(*lines: str, claim: ClaimContext = CLAIM):
    transcript = call(*lines)
    outcome = rules.extract(transcript, claim)
    # every value comes with lines that state it
    text = transcript_lines(transcript)
    for field, numbers in outcome.evidence.items():
        assert numbers, field
        assert all(1 <= n <= len(text) for n in numbers), field
        if field in ("reference_number", "paid_amount", "check_or_eft_number", "denial_code", "payment_date"):
            assert states(field, getattr(outcome, field), "\n".join(text[n - 1] for n in numbers), claim.call_date), (
                field
            )
    return outcome


def test_it_reads_a_paid_claim_with_amount_date_and_check_in_words():
    outcome = extract(
        "User: Acme Health claims, you've reached Odette. How can I help?",
        "AI: Hi Odette, I'm a virtual assistant for Elm Street Clinic, calling about Pat Quill, seen May fourth.",
        "User: Let me look. Okay, that one was paid in full on June second.",
        "AI: How much was paid?",
        "User: Three hundred twelve dollars and forty cents, nothing owed by the patient.",
        "AI: And the check number?",
        "User: Check number is four four oh nine one two.",
        "AI: Can I get a reference for today?",
        "User: Yep, R as in Robert, four seven one, double five.",
        "AI: R-4-7-1-5-5. Thanks, Odette.",
    )
    assert outcome.claim_status == "paid"
    assert outcome.call_outcome == "resolved"
    assert outcome.paid_amount == Decimal("312.40")
    assert outcome.payment_date == date(2026, 6, 2)
    assert outcome.check_or_eft_number == "440912"
    assert outcome.reference_number == "R47155"
    assert outcome.rep_name == "Odette"
    assert outcome.human_reached
    assert outcome.extractor == "rules"
    assert outcome.next_steps
    assert outcome.confidence >= 0.8


def test_it_takes_a_corrected_reference_number():
    outcome = extract(
        "User: Thanks for holding, my name is Bao.",
        "AI: Hi Bao, checking a claim for Pat Quill, date of service May fourth.",
        "User: That claim is still in process, please allow two weeks.",
        "AI: Could I have a call reference number?",
        "User: Your reference is 8-8-1-4-2.",
        "User: Sorry, that's 8-8-1-4-7, I misread it.",
        "AI: 8-8-1-4-7. Thank you.",
    )
    assert outcome.reference_number == "88147"
    assert outcome.claim_status == "in_process"
    assert outcome.call_outcome == "follow_up"
    assert outcome.follow_up_days == 14


def test_it_takes_the_agents_readback_when_the_rep_confirms_it():
    outcome = extract(
        "User: Claims department, this is Ingo.",
        "AI: Hi Ingo, I'm calling on the claim for Pat Quill, date of service May fourth.",
        "User: It's processing now. Check back in ten business days.",
        "AI: And the reference number?",
        "User: It is seven seventy-two, oh four, nine.",
        "AI: That's 7-7-2-0-4-9?",
        "User: Yes, that's right.",
    )
    assert outcome.reference_number == "772049"
    assert outcome.follow_up_days == 14


def test_it_keeps_the_readback_the_rep_agreed_to():
    outcome = extract(
        "User: Claims department, this is Ingo.",
        "AI: Hi Ingo, I'm calling on the claim for Pat Quill, date of service May fourth.",
        "User: It's in process. Check back in ten business days. Reference is 4-4-0-9-1-2.",
        "AI: 4-4-0-9-1-7?",
        "User: Yes, that's right.",
    )
    assert outcome.reference_number == "440917"
    assert outcome.evidence["reference_number"] == [4, 5]
    assert outcome.follow_up_days == 14


def test_it_lets_a_human_overrule_the_phone_system():
    outcome = extract(
        "User: Your claim was denied. For a representative, press zero.",
        "AI: [DTMF 0]",
        "User: Acme, my name is Priscilla. Who's calling?",
        "AI: Hi Priscilla, about Pat Quill, date of service May fourth; the phone system says denied.",
        "User: Hmm, I see the old denial, but it was overturned. That claim was paid on May twenty-ninth, "
        "we paid $420.00 by EFT, trace number 5-5-1-9-0-2-3.",
        "AI: Thank you. Reference number?",
        "User: Reference number is 6-0-0-2-1-9.",
    )
    assert outcome.claim_status == "paid"
    assert outcome.denial_code is None
    assert outcome.paid_amount == Decimal("420.00")
    assert outcome.check_or_eft_number == "5519023"
    assert outcome.payment_date == date(2026, 5, 29)


def test_it_names_the_rep_who_gave_the_status_after_a_transfer():
    outcome = extract(
        "User: Member services, this is Gwen.",
        "AI: Hi Gwen, I'm calling for a provider about a claim for Pat Quill.",
        "User: Oh, you need the provider line. Let me transfer you.",
        "User: Please hold while your call is transferred.",
        "User: Provider claims, my name is Rashid, last initial K.",
        "AI: Hi Rashid, the claim for Pat Quill, date of service May fourth.",
        "User: That claim is pending, we sent your office a request letter for the operative report.",
        "AI: We'll send the operative report today. Reference number?",
        "User: Reference number 3-3-9-1-0-4.",
    )
    assert outcome.rep_name == "Rashid K."
    assert outcome.claim_status == "pending_info"
    assert outcome.call_outcome == "action_required"
    assert outcome.follow_up_days is None


def test_it_never_takes_other_identifiers_for_the_reference():
    outcome = extract(
        "User: Thanks for calling, this is Lupe.",
        "AI: Hi Lupe, the claim for Pat Quill, date of service May fourth.",
        "User: The claim number is 2-6-1-1-0-4-4, and the ICN is 0-0-2-2-6-1-9-9.",
        "User: It was denied, reason code 16, group code CO, missing the referring provider.",
        "AI: We'll send a corrected claim. Can I get a reference number?",
        "User: We don't give out reference numbers, just note my name.",
    )
    assert outcome.reference_number is None
    assert outcome.denial_code == "CO-16"
    assert outcome.claim_status == "denied"
    assert outcome.call_outcome == "action_required"


def test_it_drops_a_superseded_denial_and_converts_business_days():
    outcome = extract(
        "User: This is Mireille with Acme claims.",
        "AI: Hi Mireille, the claim for Pat Quill, date of service May fourth, denied CO-197.",
        "User: Right, it denied CO-197, but the authorization is on file now, so I'm sending it back for reprocessing.",
        "AI: How long will that take?",
        "User: Give it eight business days.",
        "AI: Thank you. Reference?",
        "User: Sure, it's K as in kilo, 9-0-0-3.",
    )
    assert outcome.claim_status == "reprocessing"
    assert outcome.denial_code is None
    assert outcome.call_outcome == "follow_up"
    assert outcome.follow_up_days == 12  # ceil(8 * 7 / 5)
    assert outcome.reference_number == "K9003"


def test_it_resolves_an_explained_patient_responsibility_denial():
    outcome = extract(
        "User: Hi, Tobias speaking.",
        "AI: Hi Tobias, calling about Pat Quill, date of service May fourth.",
        "User: That went entirely to her deductible, so it denied PR-1, patient responsibility. We paid nothing.",
        "AI: So nothing more is needed from us besides billing the patient?",
        "User: Correct, nothing needed from your office.",
        "User: Your call reference is 4-4-2-8-1-6.",
    )
    assert outcome.claim_status == "denied"
    assert outcome.denial_code == "PR-1"
    assert outcome.call_outcome == "resolved"
    assert outcome.paid_amount is None


def test_it_calls_a_payment_with_a_patient_share_partial():
    outcome = extract(
        "User: Claims, this is Hollis.",
        "AI: Hi Hollis, the claim for Pat Quill, date of service May fourth.",
        "User: Allowed was two ninety, we paid two thirty-two, and fifty-eight is the member's coinsurance.",
        "User: Payment went out June fifth, EFT number 7-7-1-0-3-2.",
    )
    assert outcome.claim_status == "partially_paid"
    assert outcome.paid_amount == Decimal("232.00")
    assert outcome.payment_date == date(2026, 6, 5)
    assert outcome.check_or_eft_number == "771032"
    assert outcome.call_outcome == "resolved"


def test_it_reads_a_bare_denial_code_and_twelve_hundred():
    outcome = extract(
        "User: Good morning, this is Dalia.",
        "AI: Hi Dalia, the twelve hundred dollar claim for Pat Quill, date of service May fourth.",
        "User: That one is denied. The denial code is 96. You'd need to appeal it with the notes.",
        "AI: Understood, we'll appeal. A reference number please?",
        "User: 5-0-5-0-1-1.",
    )
    assert outcome.denial_code == "96"
    assert outcome.reference_number == "505011"
    assert outcome.paid_amount is None
    assert outcome.call_outcome == "action_required"


def test_it_counts_days_to_a_named_weekday():
    outcome = extract(
        "User: Acme provider line, Jonah speaking.",
        "AI: Hi Jonah, calling about Pat Quill, date of service May fourth.",
        "User: It's in adjudication. Call us back next Tuesday if it hasn't finalized.",
        "AI: Next Tuesday, thank you.",
    )
    assert outcome.claim_status == "in_process"
    assert outcome.follow_up_days == 6  # Wednesday June 10 → Tuesday June 16


def test_it_fails_a_call_that_reaches_voicemail():
    outcome = extract(
        "User: All representatives are busy. Please leave a message after the tone.",
        "User: [tone]",
        "AI: Hello, this is the billing assistant for Elm Street Clinic calling about claim CLM-77, "
        "reference 1-2-3-4-5 on our side. Please call 5-5-5-0-1-0-0.",
        "User: Goodbye.",
    )
    assert outcome.claim_status == "unknown"
    assert outcome.call_outcome == "failed"
    assert not outcome.human_reached
    assert outcome.reference_number is None
    assert outcome.needs_review


def test_it_ignores_a_second_claim_asked_about_on_the_same_call():
    outcome = extract(
        "User: Claims, this is Wren.",
        "AI: Hi Wren, the claim for Pat Quill, date of service May fourth.",
        "User: That claim paid on May twentieth, one forty-five fifty, check number 3-0-3-9-9.",
        "AI: Thanks. While I have you, can you check one more, date of service May eleventh?",
        "User: That one denied, CO-50, you'll need to send records.",
        "AI: Okay. And a reference number for the call?",
        "User: Reference 7-1-7-2-2.",
    )
    assert outcome.claim_status == "paid"
    assert outcome.paid_amount == Decimal("145.50")
    assert outcome.denial_code is None
    assert outcome.call_outcome == "resolved"
    assert outcome.reference_number == "71722"


def test_it_wants_a_resubmission_when_the_claim_is_not_on_file():
    outcome = extract(
        "User: Hi, my name is Corliss.",
        "AI: Hi Corliss, the claim for Pat Quill, date of service May fourth.",
        "User: I'm not finding any claim for May fourth under that member.",
        "User: You'll need to resubmit it.",
        "AI: We'll resubmit it today.",
    )
    assert outcome.claim_status == "not_on_file"
    assert outcome.call_outcome == "action_required"
    assert outcome.reference_number is None


def test_it_returns_nulls_rather_than_guessing():
    outcome = extract(
        "User: Claims, this is Fen.",
        "AI: Hi Fen, the claim for Pat Quill, date of service May fourth.",
        "User: The allowed amount was ninety dollars, billed five hundred.",
        "User: I can't see more than that right now, the system is slow.",
    )
    assert outcome.paid_amount is None
    assert outcome.claim_status == "unknown"
    assert outcome.call_outcome == "failed"
    assert outcome.human_reached
    assert outcome.rep_name == "Fen"
