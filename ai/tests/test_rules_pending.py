"""The offline extractor on the ways payers say a claim waits on the practice (calls written for these tests)."""

from __future__ import annotations

from datetime import date

import pytest

from ai.extraction import rules
from ai.outcome import ClaimContext

CLAIM = ClaimContext(date_of_service="2026-04-06", payer="Lakeshore Health", call_date=date(2026, 5, 20))


def extract(*lines: str):
    return rules.extract(
        "\n".join(("User: Lakeshore Health, Priya speaking.", "AI: Hi Priya, the claim for April sixth.", *lines)),
        CLAIM,
    )


@pytest.mark.parametrize(
    "line",
    [
        "User: We still need the op notes before it can move.",
        "User: It's waiting on a copy of the referral from your office.",
        "User: We requested additional information on the twelfth.",
        "User: There's an outstanding records request on it.",
        "User: It's pended until we get the itemized bill.",
        "User: We asked for the records and haven't heard anything back.",
    ],
)
def test_it_reads_a_request_for_information(line):
    outcome = extract(line)
    assert outcome.claim_status == "pending_info"
    assert outcome.call_outcome == "action_required"


def test_it_keeps_a_request_when_the_rep_then_says_pended():
    outcome = extract("User: We sent you a request for the medical records.", "User: So yes, it's pended.")
    assert outcome.claim_status == "pending_info"


def test_it_keeps_a_denial_that_mentions_the_records_asked_for():
    outcome = extract("User: It was denied, CO-16, we asked for the records and never got them.")
    assert outcome.claim_status == "denied"


@pytest.mark.parametrize(
    "line",
    [
        "User: It's in review. If they need records they'll write to you.",
        "User: It's in process, nothing has been requested from your office.",
    ],
)
def test_it_does_not_read_a_request_that_was_not_made(line):
    assert extract(line).claim_status == "in_process"


def test_it_reads_a_dated_request_as_about_this_claim():
    # the date says when the letter went out, not another date of service
    outcome = extract(
        "User: That claim is on hold. We faxed a records request for that date of service on April twentieth.",
        "User: Once it's in, allow thirty days.",
    )
    assert outcome.claim_status == "pending_info"


def test_it_still_sets_aside_another_visit():
    outcome = extract(
        "User: Your April sixth claim is in process, check back in two weeks.",
        "User: The claim for April ninth was denied.",
    )
    assert outcome.claim_status == "in_process"


def test_information_owed_only_by_the_member_is_pending_and_a_call_back():
    outcome = rules.extract(
        "\n".join(
            [
                "User: Claims, this is Rosa.",
                "AI: Hi Rosa, I'm checking the status of a claim from September third.",
                "User: It's pending. We need the member to fill out and return an accident questionnaire.",
                "User: That's the member's piece; there's nothing we need from your office. Check back in two weeks.",
            ]
        ),
        ClaimContext(date_of_service="2026-09-03", call_date=date(2026, 11, 2)),
    )
    assert (outcome.claim_status, outcome.call_outcome, outcome.follow_up_days) == ("pending_info", "follow_up", 14)


def test_a_claim_suspended_for_the_payers_own_review_is_in_process():
    outcome = rules.extract(
        "\n".join(
            [
                "User: Provider services, Dale speaking.",
                "AI: Hi Dale, checking a claim from September third.",
                "User: It suspended for a medical director review on our end. We're not asking for anything from you.",
                "User: Give it ten business days.",
            ]
        ),
        ClaimContext(date_of_service="2026-09-03", call_date=date(2026, 11, 2)),
    )
    assert (outcome.claim_status, outcome.call_outcome, outcome.follow_up_days) == ("in_process", "follow_up", 14)


@pytest.mark.parametrize(
    "lines, status",
    [
        # what fixes a denial is its remedy, not a hold
        (
            (
                "User: That denied for timely filing, C-O twenty-nine.",
                "User: We need the clearinghouse acceptance report showing our payer ID.",
            ),
            "denied",
        ),
        # a request already answered
        (
            ("User: We got your response to the additional documentation request, and it's in medical review now.",),
            "in_process",
        ),
        # a condition on a letter that may come
        (("User: It's in process. Call back in thirty days if you haven't gotten the letter.",), "in_process"),
        # what the provider would need to do
        (
            (
                "User: The visit limit was reached, so it denied.",
                "User: The provider would need to send a request for more visits with a letter of medical necessity.",
            ),
            "denied",
        ),
    ],
)
def test_what_is_not_a_hold_for_information(lines, status):
    assert extract(*lines).claim_status == status


@pytest.mark.parametrize(
    "line",
    [
        "User: We got it on the ninth and it's out at bill review. Nothing's back yet.",
        "User: It's just in their queue, nothing missing from you.",
        "User: It's in our standard processing queue. Nothing's pended and we don't need anything.",
        "User: No, there's no edit on it and no ADR. It's just working through.",
        "User: We received your records response on the second, it's complete, and it's with medical review now.",
    ],
)
def test_a_claim_with_the_payer_or_its_reviewer_is_in_process(line):
    outcome = extract(line, "AI: When should we check back?", "User: Give it three weeks.")

    assert outcome.claim_status == "in_process"
    assert (outcome.call_outcome, outcome.follow_up_days) == ("follow_up", 21)


def test_a_claim_waiting_on_another_plan_is_not_waiting_on_the_practice():
    outcome = extract("User: It was routed to her home plan in Ohio. Status is awaiting home plan response.")

    assert outcome.claim_status != "pending_info"
    assert outcome.call_outcome != "action_required"


@pytest.mark.parametrize(
    "line",
    [
        "User: I don't have that one in the system yet. It's probably still loading. Call back Monday.",
        "User: I can't find that claim in our system. If it went out Friday, give it until Monday.",
    ],
)
def test_a_claim_the_payer_cannot_see_yet_is_not_on_file(line):
    outcome = extract(line)

    assert outcome.claim_status == "not_on_file"
    assert outcome.call_outcome == "follow_up"


def test_a_denial_decided_after_the_records_came_in_is_a_denial_not_a_request():
    outcome = extract(
        "User: That claim was denied.",
        "AI: Can you tell me why?",
        "User: It was reviewed after your records response. The documentation didn't support medical necessity. "
        "It's group code C-O, reason code fifty.",
        "AI: What's the next step?",
        "User: You'd file a redetermination with the physician's notes.",
    )

    assert outcome.claim_status == "denied"
    assert outcome.denial_code == "CO-50"
    assert outcome.call_outcome == "action_required"


@pytest.mark.parametrize(
    "line",
    [
        "User: The phone system says in process, but really it's pending on you all.",
        "User: A medical records request was sent on the fourth for the wound notes.",
        "User: It's pending on a medical records request. A letter went out to your office on the second.",
        "User: He's on an HMO plan with no referral on file. The claim's being held for the referral.",
    ],
)
def test_a_claim_waiting_on_the_office_is_pending_information(line):
    outcome = extract(line)

    assert outcome.claim_status == "pending_info"
    assert outcome.call_outcome == "action_required"


def test_a_claim_suspended_right_now_for_the_payers_own_review_is_in_process():
    outcome = extract(
        "User: It's suspended right now for an edit review on our end. Nothing is needed from you.",
        "User: Check back in two weeks.",
    )

    assert outcome.claim_status == "in_process"
    assert outcome.follow_up_days == 14


def test_a_payment_that_went_out_in_a_payment_cycle_is_paid():
    outcome = extract("User: That's paid, fifty-two eighteen. It went out on the May eighth payment cycle.")

    assert outcome.claim_status == "paid"
    assert outcome.call_outcome == "resolved"
