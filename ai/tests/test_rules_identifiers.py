"""The offline extractor on the labels and spellings of call references (calls written for these tests)."""

from __future__ import annotations

from datetime import date

import pytest

from ai.extraction import rules
from ai.outcome import ClaimContext

CLAIM = ClaimContext(date_of_service="2026-08-11", payer="Harbor Plan", call_date=date(2026, 9, 21))
OPENING = (
    "User: Harbor Plan provider line, this is Greta.",
    "AI: Hi Greta, I'm an automated assistant checking a claim for August eleventh.",
    "User: That one is still in process, give it ten business days.",
)


def extract(*lines: str):
    return rules.extract("\n".join((*OPENING, *lines)), CLAIM)


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("User: Your case number is 7-7-0-4-1-2.", "770412"),
        ("User: I'll give you a ticket number, it's H as in Henry, 5-5-1-9.", "H5519"),
        ("User: Confirmation number for today, 3 3 1 8 0 2.", "331802"),
        ("User: The call ID is 20260921-448.", "20260921448"),
        ("User: Interaction number: nine one two, four four oh.", "912440"),
        ("User: Reference is R 4 7 1 2.", "R4712"),
        ("User: The reference number is Z as in zebra, X as in X-ray, 8-1-1-6.", "ZX8116"),
        ("User: Sure, the ref is Delta-Kilo-3-0-3-9.", "DK3039"),
    ],
)
def test_it_reads_a_reference_under_other_labels_and_spellings(line, value):
    outcome = extract(line)
    assert outcome.reference_number == value
    assert not outcome.needs_review


def test_it_reads_a_case_number_the_agent_asked_for():
    outcome = extract("AI: Is there a case number for this call?", "User: Yep, it's 6-1-1-8-0-9.")
    assert outcome.reference_number == "611809"


def test_it_flags_a_reference_it_could_not_read():
    outcome = extract("User: Your reference number is 4-4, hang on, my screen froze.")
    assert outcome.reference_number is None
    assert outcome.needs_review
    assert any("line 4" in reason for reason in outcome.review_reasons)


def test_it_flags_a_reference_read_after_an_announcement_that_it_could_not_read():
    outcome = extract(
        "User: Let me get you a reference number for this call.",
        "AI: Go ahead.",
        "User: It's 8 8, uh, sorry, one moment.",
    )
    assert outcome.reference_number is None
    assert outcome.needs_review


def test_it_does_not_flag_a_menu_or_a_question_about_references():
    outcome = extract(
        "User: Do you have a reference number from an earlier call?",
        "AI: No, this is the first call.",
        "User: Okay. To hear the reference number again, press 1.",
    )
    assert outcome.reference_number is None
    assert not any("could not be parsed" in reason for reason in outcome.review_reasons)


def test_it_does_not_take_a_read_back_of_the_npi_for_a_disputed_reference():
    outcome = rules.extract(
        "\n".join(
            (
                "User: Harbor Plan, this is Greta. First, your reference number is 1-6-9-7-2-3-5-1-7-3.",
                "AI: Thank you, 1-6-9-7-2-3-5-1-7-3.",
                "User: And the provider NPI?",
                "AI: The NPI is 1-2-3-4-5-6-7-8-9-3.",
                "User: Thanks. The claim for August eleventh is still in process, check back in two weeks.",
            )
        ),
        CLAIM,
    )
    assert outcome.reference_number == "1697235173"
    assert not outcome.needs_review


def test_it_flags_a_check_number_it_could_not_read():
    outcome = rules.extract(
        "\n".join(
            (
                "User: Harbor Plan, this is Greta.",
                "AI: Hi Greta, the claim for August eleventh.",
                "User: That was paid, two hundred forty dollars on September fourth.",
                "User: The check number is 5 5, sorry, the system is slow today.",
            )
        ),
        CLAIM,
    )
    assert outcome.check_or_eft_number is None
    assert any("check or EFT number" in reason for reason in outcome.review_reasons)


@pytest.mark.parametrize(
    "answer",
    [
        "User: We don't give out call reference numbers, but the bill ID on the claim is 4-4-7-1-0-2-8-8.",
        "User: Sorry, this line doesn't provide reference numbers. The TCN is 2-2-6-0-1-1-9-4-0-3.",
        "User: I can't give you a ref for this call. If it helps, the document control number is 8-8-1-0-2-2.",
    ],
)
def test_it_takes_no_reference_when_the_payer_gives_none_and_offers_another_number(answer):
    outcome = extract("AI: Could I get a reference number for this call?", answer)
    assert outcome.reference_number is None


def test_it_takes_a_cut_off_reference_as_read_again_in_full():
    outcome = extract(
        "AI: And a reference number, please?",
        "User: Okay, it's 5-2-0-9, 1-1...",
        "AI: You broke up after 5-2-0-9-1-1. Could you give me the whole number again?",
        "User: Sorry. 5-2-0-9-1-1-7-3-0-4.",
        "AI: 5-2-0-9-1-1-7-3-0-4.",
        "User: That's right.",
    )
    assert outcome.reference_number == "5209117304"


def test_it_keeps_no_reference_whose_reading_was_cut_off_and_never_finished():
    outcome = extract(
        "AI: And a reference number, please?",
        "User: Sure, let me see, it's 4-4-2-0-",
        "AI: Sorry, I only got 4-4-2-0. Could you say it again?",
        "AI: Hello? Are you still there?",
    )
    assert outcome.reference_number is None
    assert outcome.needs_review


def test_the_number_of_another_piece_of_work_offered_beside_the_reference_is_not_the_reference():
    outcome = extract(
        "User: I'm sending it back for reprocessing now.",
        "AI: Is there a reference number for this call?",
        "User: Yes, the reference is 4-4-0-R-T-1-2. And separately the reprocessing ticket is 9-1-7-7-3-0-2.",
        "AI: Reference 4-4-0-R-T-1-2. Thank you.",
    )
    assert outcome.reference_number == "440RT12"
