"""The offline extractor on letters named inside a number, and on values taken back in the same breath.

Calls written for these tests: "the letter Y" after the digits or before them, a paid amount or a
denial code the representative corrects on the same line, and an agent line that reads one number
back before asking for another.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ai.extraction import rules, spoken
from ai.grounding import states
from ai.outcome import ClaimContext

CLAIM = ClaimContext(date_of_service="2026-05-04", payer="Lindenwood Health", call_date=date(2026, 6, 10))
OPENING = (
    "User: Lindenwood Health, claims, this is Rosalind.",
    "AI: Hi Rosalind, I'm an automated assistant checking a claim for May fourth.",
    "User: That one is still in process, give it ten business days.",
    "AI: Could I have a reference number for this call?",
)


def extract(*lines: str):
    return rules.extract("\n".join(lines), CLAIM)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("it's 5-0-9-3-3, and then the letter K.", "50933K"),
        ("8-8-2-0-1, followed by the letter W", "88201W"),
        ("3-1-4-4, and the letter D at the end.", "3144D"),
        ("the letter M, then 6-6-0-2-9", "M66029"),
        ("7-0-7-1, with the letter Q at the front", "Q7071"),
        ("9-2-2-4, the letter F as in Frank", "9224F"),
        ("double-oh, six, triple-2", "006222"),
    ],
)
def test_it_reads_a_letter_named_inside_a_number(text, value):
    assert [run.value for run in spoken.spelled_runs(text)] == [value]


def test_it_does_not_take_the_word_letter_in_speech_for_a_letter():
    assert spoken.spelled_runs("we mailed the letter a week ago") == []
    assert spoken.spelled_runs("the letter I sent you covers it") == []


@pytest.mark.parametrize(
    "line",
    [
        "User: Sure, your reference is 6-0-4-4-1-9, and then the letter T.",
        "User: Reference 6-0-4-4-1-9, and the letter T at the end.",
    ],
)
def test_it_keeps_the_letter_said_after_the_digits_of_a_reference(line):
    outcome = extract(*OPENING, line)
    assert outcome.reference_number == "604419T"


def test_it_keeps_a_letter_said_before_the_digits_of_a_reference():
    outcome = extract(*OPENING, "User: Okay, it starts with the letter P, then 3-3-8-1-0-5.")
    assert outcome.reference_number == "P338105"


def test_it_leaves_a_reference_null_when_its_named_letter_was_not_understood():
    outcome = extract(*OPENING, "User: Your reference is 6-0-4-4-1-9, and then the letter, uh, hold on.")
    assert outcome.reference_number is None
    assert outcome.needs_review
    assert any("line 5" in reason for reason in outcome.review_reasons)


def test_it_takes_the_amount_restated_after_a_correction_on_the_same_line():
    outcome = extract(
        "User: Lindenwood claims, Rosalind speaking.",
        "AI: Hi Rosalind, the claim for May fourth. What was the paid amount?",
        "User: That paid. Two forty-one ten. Sorry, correction, two forty-one sixty. Nothing owed by the member.",
    )
    assert outcome.claim_status == "paid"
    assert outcome.paid_amount == Decimal("241.60")


def test_it_does_not_take_another_amount_after_an_apology_for_the_paid_amount():
    outcome = extract(
        "User: Lindenwood claims, Rosalind speaking.",
        "AI: Hi Rosalind, the claim for May fourth. What was the paid amount?",
        "User: That paid. Two forty-one ten. Sorry, the allowed amount was three hundred.",
    )
    assert outcome.paid_amount == Decimal("241.10")


def test_it_takes_a_denial_number_corrected_on_the_same_line_with_its_group():
    outcome = extract(
        "User: Lindenwood claims, Rosalind speaking.",
        "AI: Hi Rosalind, the claim for May fourth.",
        "User: It denied, group PR, reason code two. No, sorry, three. That's the copay.",
    )
    assert outcome.denial_code == "PR-3"
    assert states("denial_code", "PR-3", "group PR, reason code two. No, sorry, three.")


def test_it_does_not_take_a_number_read_back_before_a_question_as_the_answer():
    outcome = extract(
        "User: Lindenwood claims, Rosalind speaking.",
        "AI: Hi Rosalind, the claim for May fourth.",
        "User: That paid two hundred dollars on June first. Check number is 5-5-1-0-2-7.",
        "AI: Check 5-5-1-0-2-7. And could I get a reference number for the call?",
        "User: Yep. Eight one two, four four oh.",
    )
    assert outcome.check_or_eft_number == "551027"
    assert outcome.reference_number == "812440"
