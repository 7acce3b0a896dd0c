"""The offline extractor on waits that are not waits, waits the agent pins, and names said in passing."""

from __future__ import annotations

from datetime import date

from ai.extraction import rules
from ai.outcome import ClaimContext

CLAIM = ClaimContext(date_of_service="2026-02-10", payer="Lakeshore Health", call_date=date(2026, 3, 18))


def extract(*lines: str):
    return rules.extract("\n".join(lines), CLAIM)


def test_it_does_not_read_a_look_back_as_a_wait():
    outcome = extract(
        "User: Lakeshore claims, Hollis speaking.",
        "AI: Hi Hollis, the claim for February tenth.",
        "User: I've got nothing on file for her in the past sixty days. You'll need to resubmit it.",
    )
    assert outcome.claim_status == "not_on_file"
    assert outcome.call_outcome == "action_required"
    assert outcome.follow_up_days is None


def test_it_keeps_a_wait_for_a_claim_not_on_file_yet_with_nothing_to_do():
    outcome = extract(
        "User: Lakeshore claims, Hollis speaking.",
        "AI: Hi Hollis, the claim for February tenth.",
        "User: Nothing on file yet, it may still be at the clearinghouse. Check back in ten days.",
    )
    assert outcome.call_outcome == "follow_up"
    assert outcome.follow_up_days == 10


def test_it_counts_additional_days_as_a_wait():
    outcome = extract(
        "User: Your claim is in process. Please allow ten additional business days before calling again.",
    )
    assert outcome.follow_up_days == 14


def test_it_does_not_read_the_practices_appeal_window_as_a_wait():
    outcome = extract(
        "User: Lakeshore claims, Hollis speaking.",
        "AI: Hi Hollis, the claim for February tenth.",
        "User: Denied, CO-197, no precert. You can appeal with the retro auth. You've got a hundred and twenty days.",
    )
    assert outcome.call_outcome == "action_required"
    assert outcome.follow_up_days is None


def test_it_takes_the_wait_the_agent_pins_and_the_rep_accepts_by_number():
    outcome = extract(
        "User: Lakeshore claims, Hollis speaking.",
        "AI: Hi Hollis, the claim for February tenth.",
        "User: It's in process, it should finalize in ten to fifteen business days.",
        "AI: Should I call back in ten business days then?",
        "User: Ten's fine. It should be done by then.",
    )
    assert outcome.follow_up_days == 14


def test_it_keeps_the_upper_bound_when_the_rep_turns_the_pin_down():
    outcome = extract(
        "User: Lakeshore claims, Hollis speaking.",
        "AI: Hi Hollis, the claim for February tenth.",
        "User: It's in process, it should finalize in ten to fifteen business days.",
        "AI: Should I call back in ten business days then?",
        "User: No, I'd wait the full fifteen.",
    )
    assert outcome.follow_up_days == 21


def test_it_does_not_take_okay_here_for_a_name():
    outcome = extract(
        "User: Lakeshore provider services, this is Imelda.",
        "AI: Hi Imelda, the claim for February tenth.",
        "User: Let me pull it up. Okay, here. It paid two hundred ten dollars even.",
    )
    assert outcome.rep_name == "Imelda"


def test_it_takes_the_name_a_rep_corrects():
    outcome = extract(
        "User: Lakeshore claims, this is Dana. Sorry, that's the login I'm on, I'm Rosalind.",
        "AI: Hi Rosalind, the claim for February tenth.",
        "User: That claim paid two hundred ten dollars even.",
    )
    assert outcome.rep_name == "Rosalind"


def test_it_keeps_the_first_name_when_a_second_is_not_a_correction():
    outcome = extract(
        "User: Lakeshore claims, this is Dana. My supervisor Rosalind is here, I'm Dana, anyway.",
        "AI: Hi Dana, the claim for February tenth.",
        "User: That claim paid two hundred ten dollars even.",
    )
    assert outcome.rep_name == "Dana"


def test_it_reads_an_electronic_funds_transfer_number():
    outcome = extract(
        "User: The claim was paid. The paid amount is eighty-one dollars.",
        "User: Payment was made by electronic funds transfer, number 7-7-0-1-3-5-2-4, on March ninth.",
    )
    assert outcome.check_or_eft_number == "77013524"
