from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ai.grounding import ground, states
from ai.outcome import CallOutcome

TRANSCRIPT = "\n".join(
    [
        "AI: Hi, I'm checking on a claim for Pat Doe.",  # 1
        "User: Sure, this is Lena. That claim paid on June ninth.",  # 2
        "User: We paid three hundred twelve dollars and forty cents by check, number 5-5-0-1-2.",  # 3
        "User: Your call reference is R as in Robert, four seven one, double five.",  # 4
        "User: It denied C-O sixteen on the first pass, group code PR, reason code 2 on the other line.",  # 5
    ]
)


@pytest.mark.parametrize(
    ("field", "value", "text"),
    [
        ("reference_number", "R471", "It's R as in Robert, four seven one."),
        ("reference_number", "R47155", "R as in Robert, four seven one, double five"),
        ("reference_number", "77K410", "seven seven K as in kilo, four one oh"),
        ("reference_number", "REF2291A", "The reference is REF-2291-A."),
        ("reference_number", "QX701", "Q as in Quebec, X as in X-ray, 7-0-1"),
        ("reference_number", "DK3039", "Delta-Kilo-3-0-3-9"),
        ("reference_number", "M5520", "it's M 5 5 2 0"),
        ("check_or_eft_number", "00412", "check number oh oh four one two"),
        ("paid_amount", Decimal("312.40"), "three hundred twelve dollars and forty cents"),
        ("paid_amount", Decimal("312.40"), "we sent $312.40"),
        ("paid_amount", "171.30", "paid amount one seventy-one thirty"),
        ("paid_amount", Decimal("1200"), "they paid twelve hundred even"),
        ("payment_date", date(2026, 6, 9), "That claim paid on June ninth."),
        ("payment_date", date(2026, 6, 9), "it went out 6/9"),
        ("payment_date", date(2026, 5, 29), "paid the twenty-ninth of last month"),
        ("denial_code", "CO-16", "denied CO 16"),
        ("denial_code", "CO-16", "C-O sixteen, missing information"),
        ("denial_code", "CO-16", "reason code sixteen, group code CO"),
        ("denial_code", "PR-1", "reason code one, that's patient responsibility for the deductible"),
        ("denial_code", "197", "the denial code is one ninety-seven"),
        ("rep_name", "Marcus B.", "this is Marcus, last name starts with B"),
        ("paid_amount", "306.71", "Three hundred six dollars, seventy-one cents."),
        ("paid_amount", "306.71", "paid three hundred six point seven one"),
        ("denial_code", "PR-119", "Reason code 119, benefit maximum.\nThe patient is responsible, you can bill him."),
    ],
)
def test_it_accepts_spoken_forms(field, value, text):
    assert states(field, value, text)


@pytest.mark.parametrize(
    ("field", "value", "text"),
    [
        ("reference_number", "R471", "R as in Robert, four seven two"),
        ("reference_number", "4711", "the claim total was four seventy-one"),
        ("reference_number", "QX701", "Q as in Quebec, X as in X-ray, 7-0-2"),
        ("paid_amount", Decimal("312.40"), "allowed three hundred twelve"),
        ("paid_amount", Decimal("31.00"), "paid on March thirty-first"),
        ("payment_date", date(2026, 6, 9), "paid on June tenth"),
        ("denial_code", "CO-16", "denied PR 16"),
        ("denial_code", "CO-16", "reason code 18"),
        ("rep_name", "Lena", "this is Dana"),
        ("paid_amount", "0.71", "we paid one on September thirtieth"),
        ("paid_amount", "1.00", "we paid one on September thirtieth"),
        ("denial_code", "PR-119", "Reason code 119. You can't bill him for it."),
    ],
)
def test_it_rejects_values_the_text_does_not_state(field, value, text):
    assert not states(field, value, text)


def test_it_keeps_values_their_lines_state():
    outcome = CallOutcome(
        claim_status="paid",
        reference_number="R47155",
        paid_amount=Decimal("312.40"),
        check_or_eft_number="55012",
        payment_date=date(2026, 6, 9),
        rep_name="Lena",
        confidence=0.9,
        evidence={
            "reference_number": [4],
            "paid_amount": [3],
            "check_or_eft_number": [3],
            "payment_date": [2],
            "rep_name": [2],
        },
    )
    ground(outcome, TRANSCRIPT)
    assert outcome.reference_number == "R47155"
    assert outcome.paid_amount == Decimal("312.40")
    assert not outcome.needs_review
    assert outcome.confidence == 0.9


def test_it_drops_a_value_its_lines_do_not_state():
    outcome = CallOutcome(reference_number="R471", evidence={"reference_number": [3]}, confidence=0.9)
    ground(outcome, TRANSCRIPT)
    assert outcome.reference_number is None
    assert "reference_number" not in outcome.evidence
    assert outcome.needs_review
    assert "reference number" in outcome.review_reasons[0]
    assert outcome.confidence <= 0.6


def test_it_drops_a_value_without_evidence_or_with_lines_out_of_range():
    outcome = CallOutcome(
        paid_amount=Decimal("10.00"), check_or_eft_number="55012", evidence={"check_or_eft_number": [9]}
    )
    ground(outcome, TRANSCRIPT)
    assert outcome.paid_amount is None
    assert outcome.check_or_eft_number is None
    assert len(outcome.review_reasons) == 2


def test_it_reads_a_denial_group_said_apart_from_the_number():
    outcome = CallOutcome(denial_code="PR-2", evidence={"denial_code": [5]})
    ground(outcome, TRANSCRIPT)
    assert outcome.denial_code == "PR-2"


def test_it_removes_evidence_of_null_values():
    outcome = CallOutcome(evidence={"paid_amount": [3]})
    ground(outcome, TRANSCRIPT)
    assert outcome.evidence == {}
    assert not outcome.needs_review


def test_it_grounds_whatever_the_extractor_returns(monkeypatch):
    from ai.extraction import extract_outcome, rules
    from ai.outcome import ClaimContext

    def invented(transcript, claim):
        return CallOutcome(reference_number="ZZ999", evidence={"reference_number": [4]}, extractor="rules")

    monkeypatch.setattr(rules, "extract", invented)
    outcome = extract_outcome(TRANSCRIPT, ClaimContext(), extractor="rules")
    assert outcome.reference_number is None
    assert outcome.needs_review


def test_it_counts_relative_dates_from_the_call_date():
    today = date(2026, 6, 10)  # a Wednesday
    assert states("payment_date", date(2026, 6, 9), "It went out yesterday by EFT.", today)
    assert states("payment_date", date(2026, 6, 5), "The check went out last Friday.", today)
    assert states("payment_date", date(2026, 5, 27), "paid two weeks ago today", today)
    assert not states("payment_date", date(2026, 6, 8), "It went out yesterday by EFT.", today)
    assert not states("payment_date", date(2026, 6, 9), "It went out yesterday by EFT.")


def test_it_accepts_a_group_said_in_its_own_sentence():
    assert states("denial_code", "CO-16", "It denied, reason sixteen.\nGroup code is C O.")
    assert states("denial_code", "CO-252", "Denied again. Two fifty-two, no attachment. Group is CO.")
    assert not states("denial_code", "PR-16", "It denied, reason sixteen.\nGroup code is C O.")


def test_it_accepts_a_code_number_said_alone_after_a_correction():
    text = "Denied, reason code one ninety-six. Sorry, wrong column. One ninety-seven.\nThe group is CO."
    assert states("denial_code", "CO-197", text)
    assert not states("denial_code", "CO-198", text)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("paid_amount", Decimal("99999999999999999999.00")),
        ("paid_amount", Decimal("-5.00")),
        ("payment_date", date(9999, 12, 31)),
        ("follow_up_days", 99_999_999),
    ],
)
def test_it_drops_a_value_too_large_or_far_off_for_any_claim_even_when_stated(field, value):
    outcome = CallOutcome(**{field: value}, evidence={field: [3]}, confidence=0.9)

    ground(outcome, TRANSCRIPT)

    assert getattr(outcome, field) is None
    assert outcome.needs_review
    assert "no payer means a value that large or far off" in outcome.review_reasons[0]


def test_it_keeps_a_follow_up_wait_within_a_year():
    outcome = CallOutcome(follow_up_days=30, evidence={"follow_up_days": [2]}, confidence=0.9)

    ground(outcome, TRANSCRIPT)

    assert outcome.follow_up_days == 30
    assert not outcome.needs_review
