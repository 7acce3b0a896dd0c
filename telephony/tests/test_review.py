"""The review queue: outcomes the reader was unsure of wait here for a biller."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core import mail

from ai.outcome import CallOutcome
from billing.models import ExpectedPayment
from claims.models import ClaimEvent
from claims.tests.factories import ClaimFactory
from telephony import pipeline
from telephony.models import Call, CallEvent, ScheduledCall
from telephony.tests.factories import CallFactory

pytestmark = pytest.mark.django_db

TRANSCRIPT = """\
User: Provider services, this is Dana.
AI: Hi Dana, I'm calling about claim RB-1 for Maria Lopez.
User: That claim is in process, the reference is 5 5 1 2 0 9.
User: Please allow fourteen days.
"""


@pytest.fixture
def call(owner):
    claim = ClaimFactory(practice=owner.practice, claim_number="RB-1", status="submitted")
    outcome = CallOutcome(
        claim_status="in_process",
        reference_number="551209",
        rep_name="Dana",
        call_outcome="follow_up",
        follow_up_days=14,
        human_reached=True,
        confidence=0.4,
        evidence={"claim_status": [3], "reference_number": [3], "rep_name": [1], "follow_up_days": [4]},
    )
    outcome.flag("The reader was not sure of the claim status.")
    call = CallFactory(
        practice=owner.practice,
        claim=claim,
        transcript=TRANSCRIPT,
        outcome=outcome.to_json(),
        review_status=Call.ReviewStatus.PENDING,
        ended_at=datetime(2026, 11, 20, 16, 0, tzinfo=UTC),
        report_received_at=datetime(2026, 11, 20, 16, 0, tzinfo=UTC),
    )
    CallEvent.objects.create(call=call, kind="pipeline-extract", dedupe_key=pipeline.dedupe_key(call.pk))
    return call


def _form(**changes) -> dict:
    data = {
        "claim_status": "in_process",
        "call_outcome": "follow_up",
        "reference_number": "551209",
        "rep_name": "Dana",
        "denial_code": "",
        "remark_codes": "",
        "paid_amount": "",
        "check_or_eft_number": "",
        "payment_date": "",
        "follow_up_days": "14",
        "human_reached": "on",
        "next_steps": "",
    }
    return data | changes


def test_the_queue_lists_the_calls_waiting_with_the_reason(owner_client, call, outsider):
    other = ClaimFactory(practice=outsider.practice, claim_number="ZZ-OTHER")
    CallFactory(practice=outsider.practice, claim=other, review_status=Call.ReviewStatus.PENDING)

    body = owner_client.get("/calls/review/").content.decode()

    assert "RB-1" in body and "The reader was not sure of the claim status." in body
    assert 'Review <span class="count">1<span class="visually-hidden"> waiting</span>' in body
    assert f"/calls/{call.pk}/review/" in body
    assert "ZZ-OTHER" not in body


def test_the_queue_says_when_there_is_nothing_to_review(owner_client):
    assert "Nothing to review" in owner_client.get("/calls/review/").content.decode()


def test_the_review_page_highlights_the_evidence_lines(owner_client, call):
    body = owner_client.get(f"/calls/{call.pk}/review/").content.decode()

    line_3 = body[body.index('id="line-3"') : body.index('id="line-4"')]
    assert "<mark>That claim is in process, the reference is 5 5 1 2 0 9.</mark>" in line_3
    assert "Claim status" in line_3 and "Call reference #" in line_3
    line_2 = body[body.index('id="line-2"') : body.index('id="line-3"')]
    assert "<mark>" not in line_2
    assert 'value="551209"' in body  # the form starts from the extracted values


def test_approving_with_a_correction_applies_it_and_leaves_the_queue(owner_client, owner, call):
    response = owner_client.post(
        f"/calls/{call.pk}/review/", _form(claim_status="reprocessing", reference_number="5512-09")
    )

    assert response.status_code == 302 and response.url == "/calls/review/"
    call.refresh_from_db()
    call.claim.refresh_from_db()
    assert call.review_status == Call.ReviewStatus.APPROVED and call.reviewed_by == owner
    assert call.claim.status == "reprocessing" and call.claim.call_reference_number == "551209"
    outcome = CallOutcome.from_json(call.outcome)
    assert "claim_status" not in outcome.evidence  # a person's value, not the transcript's
    assert outcome.evidence["reference_number"] == [3]  # unchanged after normalising
    assert ScheduledCall.objects.filter(claim=call.claim, status="pending").count() == 1
    assert ClaimEvent.objects.filter(claim=call.claim, kind="status_changed", actor=owner).exists()
    follow = owner_client.get(response.url).content.decode()
    assert "approved, with 1 correction and applied" in follow
    assert "Nothing to review" in follow


def test_bad_values_get_field_errors_and_change_nothing(owner_client, call):
    response = owner_client.post(
        f"/calls/{call.pk}/review/",
        _form(denial_code="sixteen", paid_amount="-4", remark_codes="N130, hello", follow_up_days=""),
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert "Write a denial code as group and reason" in body
    assert "greater than or equal to 0" in body
    assert "HELLO is not a remark code" in body
    assert "Say when to call back" in body
    call.refresh_from_db()
    assert call.review_status == Call.ReviewStatus.PENDING
    assert call.claim.status == "submitted" and not mail.outbox


def test_an_outcome_already_reviewed_is_not_reviewed_twice(owner_client, call):
    owner_client.post(f"/calls/{call.pk}/review/", _form())

    response = owner_client.post(f"/calls/{call.pk}/review/", _form(claim_status="paid"))

    assert response.status_code == 302 and response.url == f"/calls/{call.pk}/"
    call.claim.refresh_from_db()
    assert call.claim.status == "in_process"


def test_another_practices_call_is_not_found(client, outsider, call):
    client.force_login(outsider)

    assert client.get(f"/calls/{call.pk}/review/").status_code == 404
    assert client.post(f"/calls/{call.pk}/review/", _form()).status_code == 404


def test_a_corrected_paid_amount_becomes_an_expected_payment_not_money_on_the_claim(owner_client, call):
    response = owner_client.post(
        f"/calls/{call.pk}/review/",
        _form(claim_status="paid", paid_amount="120.50", check_or_eft_number="chk 4471", payment_date="2026-11-18"),
    )

    assert response.status_code == 302
    call.claim.refresh_from_db()
    assert call.claim.paid_amount == 0
    expected = ExpectedPayment.objects.get(call=call)
    assert (expected.claim, expected.amount, expected.reference) == (call.claim, Decimal("120.50"), "CHK4471")
    assert expected.payment_date == date(2026, 11, 18)


def test_the_review_form_says_a_paid_amount_is_only_expected(owner_client, call):
    body = owner_client.get(f"/calls/{call.pk}/review/").content.decode()

    assert "expected payment" in body


def test_the_review_page_names_who_said_each_line(owner_client, call):
    body = owner_client.get(f"/calls/{call.pk}/review/").content.decode()

    line_1 = body[body.index('id="line-1"') : body.index('id="line-2"')]
    assert '<span class="review-line-speaker">Dana (payer)</span>' in line_1
    line_2 = body[body.index('id="line-2"') : body.index('id="line-3"')]
    assert "review-line-agent" in line_2 and '<span class="review-line-speaker">BillingPulse agent</span>' in line_2
