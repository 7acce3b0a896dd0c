"""The post-call pipeline: extract → apply → decide follow-up → schedule → notify."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone

from ai.outcome import CallOutcome
from billing import services as billing
from billing.models import ExpectedPayment, Payment
from billingpulse.tests.factories import PatientFactory, PracticeFactory, UserFactory
from claims.models import Claim, ClaimEvent
from claims.tests.factories import ClaimFactory, LedgerClaimFactory, PayerFactory
from telephony import pipeline, webhook
from telephony.models import Call, CallEvent, ScheduledCall
from telephony.status import FailureCategory
from telephony.tests.factories import CallFactory
from telephony.tests.fixtures import message

pytestmark = pytest.mark.django_db

CENTRAL = ZoneInfo("America/Chicago")
# Friday 20 Nov 2026, 10:00 in Chicago.
NOW = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)

REPROCESS = """\
User: Thank you for calling Lone Star Health. Please say or enter your provider NPI.
AI: 1 2 3 4 5 6 7 8 9 3
User: Thank you. Please hold for the next available representative.
User: Provider services, this is Janelle, can I have the claim number?
AI: Hi Janelle, it's claim C-1001 for Maria Lopez, date of birth March 4th, 1980, date of service October 2nd.
User: Thank you. I see that claim. It was denied for missing information, CO-16, \
but the corrected information came in, so we'll send it back for reprocessing.
AI: Thank you. How long should reprocessing take?
User: Give it about five days, then call back if you don't see it.
AI: Could I get a reference number for this call?
User: Sure, the reference number is R as in Robert, four seven one, two two nine.
AI: That's R471229?
User: That's correct.
AI: Thank you Janelle, have a good day.
"""


@pytest.fixture
def practice():
    return PracticeFactory(name="Alpha Family Clinic", time_zone="America/Chicago", notification_email="")


@pytest.fixture
def claim(practice):
    payer = PayerFactory(
        practice=practice,
        name="Lone Star Health",
        time_zone="America/Chicago",
        opens_at=time(8),
        closes_at=time(17),
        open_weekdays="01234",
    )
    patient = PatientFactory(practice=practice, first_name="Maria", last_name="Lopez", date_of_birth=date(1980, 3, 4))
    return ClaimFactory(
        practice=practice,
        patient=patient,
        payer=payer,
        claim_number="C-1001",
        status="denied",
        denial_code="CO-16",
    )


@pytest.fixture
def users(practice):
    return [
        UserFactory(practice=practice, email="ann@alpha.example"),
        UserFactory(practice=practice, email="ben@alpha.example"),
        UserFactory(practice=practice, email="gone@alpha.example", is_active=False),
    ]


def _call(claim, transcript: str = REPROCESS, **fields) -> Call:
    defaults = {
        "provider": Call.Provider.VAPI,
        "status": Call.Status.ENDED,
        "transcript": transcript,
        "ended_at": NOW,
        "report_received_at": NOW,
        "provider_call_id": f"vapi-{claim.claim_number}",
    }
    return CallFactory(practice=claim.practice, claim=claim, **(defaults | fields))


def _report(call: Call) -> bytes:
    report = message("end-of-call-report", call)
    report["artifact"]["transcript"] = REPROCESS
    report["transcript"] = REPROCESS
    report["artifact"]["messages"] = []
    report["endedReason"] = "assistant-ended-call"
    return json.dumps({"message": report}).encode()


def test_a_reprocessing_promise_ends_in_reprocessing_a_follow_up_in_five_days_and_an_email(
    client, settings, claim, users, time_machine, django_capture_on_commit_callbacks
):
    """Through the webhook: the rep says they'll reprocess it and to call back in five days."""
    settings.VAPI_WEBHOOK_SECRET, settings.VAPI_WEBHOOK_HMAC_SECRET = "", "hmac-secret"
    time_machine.move_to(NOW, tick=False)
    call = _call(claim, transcript="", status=Call.Status.IN_PROGRESS, ended_at=None, report_received_at=None)
    body = _report(call)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/webhooks/vapi", data=body, content_type="application/json", headers=webhook.sign(body)
        )

    assert response.status_code == 200
    claim.refresh_from_db()
    assert claim.status == "reprocessing"
    assert claim.call_reference_number == "R471229"
    assert claim.notified_at is not None
    follow_up = ScheduledCall.objects.get(claim=claim, status=ScheduledCall.Status.PENDING)
    assert follow_up.source == ScheduledCall.Source.PIPELINE
    # Five days from Friday the 20th is Wednesday the 25th, inside the payer's hours.
    local = follow_up.call_after.astimezone(CENTRAL)
    assert local.date() == date(2026, 11, 25) and time(8) <= local.time() < time(17)
    assert claim.next_follow_up_date == date(2026, 11, 25)
    [email] = mail.outbox
    assert email.to == ["ann@alpha.example", "ben@alpha.example"]
    assert "C-1001" in email.subject and "reprocessing" in email.subject
    for text in ["Maria Lopez", "Lone Star Health", "Reprocessing", "R471229", "/claims/"]:
        assert text in email.body
    outcome = CallOutcome.from_json(Call.objects.get(pk=call.pk).outcome)
    assert outcome.evidence["reference_number"]  # the value carries the lines it came from


def test_each_step_runs_once_however_often_the_task_runs(claim, users, django_capture_on_commit_callbacks):
    call = _call(claim)

    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            pipeline.run_post_call_pipeline(call.pk)
        pipeline.notify(call.pk)

    assert ClaimEvent.objects.filter(claim=claim, kind=ClaimEvent.Kind.STATUS_CHANGED).count() == 1
    assert ScheduledCall.objects.filter(claim=claim).count() == 1
    assert len(mail.outbox) == 1
    keys = set(CallEvent.objects.filter(call=call).values_list("dedupe_key", flat=True))
    assert {pipeline.dedupe_key(call.pk, step) for step in ("extract", "apply", "follow-up", "notify")} <= keys


def test_a_new_follow_up_replaces_the_pending_one(claim, users):
    earlier = ScheduledCall.objects.create(
        practice=claim.practice, claim=claim, call_after=timezone.now() + timedelta(days=30), reason="Old plan"
    )
    pipeline.run_post_call_pipeline(_call(claim).pk)

    earlier.refresh_from_db()
    assert earlier.status == ScheduledCall.Status.CANCELED
    assert ScheduledCall.objects.filter(claim=claim, status=ScheduledCall.Status.PENDING).count() == 1


def test_a_flagged_outcome_waits_for_review_and_changes_nothing(claim, users, settings):
    # The AI service cannot be reached: the offline reader fills in the outcome, flagged for a person.
    settings.OUTCOME_EXTRACTOR = "openai"
    settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL = "test-key", "http://127.0.0.1:9/v1"  # nothing listens
    settings.OPENAI_MAX_RETRIES, settings.OPENAI_TIMEOUT = 0, 2
    call = _call(claim)

    assert pipeline.run_post_call_pipeline(call.pk) == "waiting for review"

    call.refresh_from_db()
    assert call.review_status == Call.ReviewStatus.PENDING
    outcome = CallOutcome.from_json(call.outcome)
    assert outcome.needs_review and outcome.review_reasons
    assert outcome.claim_status == "reprocessing"  # read offline, not lost
    claim.refresh_from_db()
    assert claim.status == "denied"
    assert not ScheduledCall.objects.filter(claim=claim).exists()
    assert pipeline.notify(call.pk) is False and not mail.outbox


def test_approving_a_reviewed_outcome_applies_it_with_the_corrections(claim, users, django_capture_on_commit_callbacks):
    call = _call(claim)
    outcome = CallOutcome(claim_status="in_process", call_outcome="follow_up", follow_up_days=10, human_reached=True)
    outcome.flag("Low confidence.")
    Call.objects.filter(pk=call.pk).update(outcome=outcome.to_json(), review_status="pending")
    CallEvent.objects.create(call=call, kind="pipeline-extract", dedupe_key=pipeline.dedupe_key(call.pk))
    reviewer = users[0]
    corrected = CallOutcome(
        claim_status="reprocessing", call_outcome="follow_up", follow_up_days=5, reference_number="R471229"
    )

    with django_capture_on_commit_callbacks(execute=True):
        pipeline.approve_outcome(call, corrected, reviewer, {"claim_status": ["in_process", "reprocessing"]})

    call.refresh_from_db()
    claim.refresh_from_db()
    assert call.review_status == Call.ReviewStatus.APPROVED and call.reviewed_by == reviewer
    assert claim.status == "reprocessing" and claim.call_reference_number == "R471229"
    status_event = ClaimEvent.objects.get(claim=claim, kind=ClaimEvent.Kind.STATUS_CHANGED)
    assert status_event.actor == reviewer
    assert ScheduledCall.objects.filter(claim=claim, status="pending").count() == 1
    assert len(mail.outbox) == 1
    reviewed = CallEvent.objects.get(call=call, kind="outcome-reviewed")
    assert reviewed.payload["changes"] == {"claim_status": ["in_process", "reprocessing"]}
    with pytest.raises(Exception, match="already reviewed"):
        pipeline.approve_outcome(call, corrected, reviewer)


def test_a_call_that_reached_nobody_goes_to_the_failure_policy(claim):
    call = _call(
        claim,
        transcript="",
        failure_category=FailureCategory.NO_ANSWER,
        ended_reason="customer-did-not-answer",
    )

    assert pipeline.run_post_call_pipeline(call.pk) == "done"

    call.refresh_from_db()
    assert call.review_status == ""
    retry = Call.objects.exclude(pk=call.pk).get(claim=claim)
    assert retry.status == Call.Status.QUEUED and retry.attempt == 2
    assert not ScheduledCall.objects.filter(claim=claim).exists()
    assert pipeline.notify(call.pk) is False and not mail.outbox  # a retry is no news for the practice


def test_the_last_failed_attempt_hands_the_claim_to_a_person_and_says_so(claim, users, settings):
    settings.CALL_MAX_ATTEMPTS = 2
    call = _call(claim, transcript="", failure_category=FailureCategory.NO_ANSWER, attempt=2)

    pipeline.run_post_call_pipeline(call.pk)

    assert not Call.objects.exclude(pk=call.pk).exists()
    decision = CallEvent.objects.get(dedupe_key=pipeline.dedupe_key(call.pk, "follow-up")).payload
    assert decision["action"] == "person" and "A person should call the payer" in decision["reason"]
    assert pipeline.notify(call.pk)
    assert "C-1001" in mail.outbox[0].subject


def test_an_action_for_the_practice_flags_the_claim_instead_of_calling(claim):
    call = _call(claim)
    outcome = CallOutcome(
        claim_status="denied",
        denial_code="CO-50",
        call_outcome="action_required",
        human_reached=True,
        next_steps="Send the medical records for the date of service.",
    )
    Call.objects.filter(pk=call.pk).update(outcome=outcome.to_json())
    CallEvent.objects.create(call=call, kind="pipeline-extract", dedupe_key=pipeline.dedupe_key(call.pk))

    pipeline.run_post_call_pipeline(call.pk)

    claim.refresh_from_db()
    assert claim.status == "denied" and claim.denial_code == "CO-50"
    assert claim.next_steps == "Send the medical records for the date of service."
    assert claim.next_follow_up_date == timezone.localdate(timezone=CENTRAL)
    assert "Action needed: Send the medical records" in " ".join(
        ClaimEvent.objects.filter(claim=claim).values_list("message", flat=True)
    )
    assert not ScheduledCall.objects.filter(claim=claim, status="pending").exists()


def test_without_a_date_from_the_payer_the_practices_cadence_decides(claim, practice):
    practice.follow_up_cadence = {"in_process": 21}
    practice.save()
    call = _call(claim)
    outcome = CallOutcome(claim_status="in_process", call_outcome="follow_up", human_reached=True)

    assert pipeline.decide(call, outcome) == pipeline.FollowUp(
        pipeline.FollowUp.CALL, 21, "Check on the claim (in process), the practice's usual interval."
    )
    assert pipeline.decide(call, CallOutcome(claim_status="pending_info", call_outcome="follow_up")).days == 7


def test_a_paid_claim_is_applied_and_nothing_more_is_scheduled(claim):
    pending = ScheduledCall.objects.create(
        practice=claim.practice, claim=claim, call_after=timezone.now() + timedelta(days=3)
    )
    call = _call(claim)
    outcome = CallOutcome(
        claim_status="paid",
        paid_amount=Decimal("312.40"),
        check_or_eft_number="EFT88123",
        call_outcome="resolved",
        human_reached=True,
    )
    Call.objects.filter(pk=call.pk).update(outcome=outcome.to_json())
    CallEvent.objects.create(call=call, kind="pipeline-extract", dedupe_key=pipeline.dedupe_key(call.pk))

    pipeline.run_post_call_pipeline(call.pk)

    claim.refresh_from_db()
    pending.refresh_from_db()
    # The payer's word moves the status; the money waits as an expected payment, off the books.
    assert claim.status == "paid" and claim.paid_amount == Decimal("0.00")
    expected = claim.expected_payments.get()
    assert (expected.amount, expected.reference, expected.call, expected.status) == (
        Decimal("312.40"),
        "EFT88123",
        call,
        "expected",
    )
    assert pending.status == ScheduledCall.Status.CANCELED
    assert "paid $312.40, check/EFT EFT88123" in claim.last_call_outcome


def _paid_call(claim, amount: str = "198.64"):
    call = _call(claim)
    outcome = CallOutcome(
        claim_status="partially_paid",
        paid_amount=Decimal(amount),
        check_or_eft_number="81277",
        payment_date=date(2026, 11, 12),
        call_outcome="follow_up",
        follow_up_days=14,
        human_reached=True,
    )
    Call.objects.filter(pk=call.pk).update(outcome=outcome.to_json())
    CallEvent.objects.create(call=call, kind="pipeline-extract", dedupe_key=pipeline.dedupe_key(call.pk))
    return call, outcome


def test_a_paid_amount_on_a_call_is_recorded_as_an_expected_payment_and_never_posted(claim):
    claim = LedgerClaimFactory(
        practice=claim.practice, patient=claim.patient, payer=claim.payer, total_charge=Decimal("250.00")
    )
    call, _outcome = _paid_call(claim)

    pipeline.run_post_call_pipeline(call.pk)

    claim.refresh_from_db()
    assert (claim.paid_amount, claim.balance, claim.total_charge) == (0, Decimal("250.00"), Decimal("250.00"))
    assert claim.ledger.count() == 1  # the charge, nothing more
    expected = ExpectedPayment.objects.get()
    assert (expected.claim, expected.call, expected.amount) == (claim, call, Decimal("198.64"))
    assert (expected.reference, expected.payment_date, expected.practice) == (
        "81277",
        date(2026, 11, 12),
        claim.practice,
    )
    messages = claim.events.filter(kind=ClaimEvent.Kind.CALL).values_list("message", flat=True)
    assert any("Expected payment of $198.64 recorded" in message for message in messages)


def test_the_expected_payment_is_recorded_once_however_often_the_pipeline_runs(claim):
    call, outcome = _paid_call(claim)

    pipeline.run_post_call_pipeline(call.pk)
    pipeline.run_post_call_pipeline(call.pk)
    CallEvent.objects.filter(dedupe_key=pipeline.dedupe_key(call.pk, pipeline.APPLY)).delete()
    pipeline.apply(call, outcome)  # even with the apply step's record gone, once per call

    assert ExpectedPayment.objects.filter(call=call).count() == 1


def test_an_expected_payment_is_matched_when_the_payer_payment_posts(claim):
    claim = LedgerClaimFactory(
        practice=claim.practice, patient=claim.patient, payer=claim.payer, total_charge=Decimal("250.00")
    )
    call, _outcome = _paid_call(claim)
    pipeline.run_post_call_pipeline(call.pk)

    billing.record_payment(
        claim.practice,
        key="check-81277",
        source=Payment.Source.PRIMARY,
        method=Payment.Method.CHECK,
        amount=Decimal("190.00"),
        payment_date=date(2026, 11, 14),
        allocations=[billing.Allocation(claim, Decimal("190.00"))],
        payer=claim.payer,
    )

    expected = ExpectedPayment.objects.get()
    assert (expected.status, expected.received_amount) == ("different", Decimal("190.00"))


def test_the_email_says_the_payment_is_expected_not_posted(claim, users):
    call, _outcome = _paid_call(claim)
    pipeline.run_post_call_pipeline(call.pk)

    assert pipeline.notify(call.pk)

    body = mail.outbox[0].body
    assert "Payer says:  paid $198.64 on check/EFT 81277 on Nov. 12, 2026" in body
    assert "expected payment, not posted" in body


def test_the_practice_notification_address_wins_over_its_users(claim, practice, users):
    practice.notification_email = "billing@alpha.example"
    practice.save()
    call = _call(claim)
    pipeline.run_post_call_pipeline(call.pk)

    assert pipeline.notify(call.pk)
    assert mail.outbox[0].to == ["billing@alpha.example"]


def test_an_email_failure_is_retried_and_blocks_nothing(claim, users, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens
    call = _call(claim)
    pipeline.run_post_call_pipeline(call.pk)

    with pytest.raises(OSError):
        pipeline.notify(call.pk)

    claim.refresh_from_db()
    assert claim.status == "reprocessing" and claim.notified_at is None
    assert not CallEvent.objects.filter(dedupe_key=pipeline.dedupe_key(call.pk, "notify")).exists()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert pipeline.notify(call.pk)  # the retry goes through
    assert len(mail.outbox) == 1


def test_a_status_the_claim_cannot_take_is_noted_not_forced(claim):
    Claim.objects.filter(pk=claim.pk).update(status="written_off")
    call = _call(claim)
    outcome = CallOutcome(claim_status="in_process", call_outcome="follow_up", follow_up_days=7, human_reached=True)
    Call.objects.filter(pk=call.pk).update(outcome=outcome.to_json())
    CallEvent.objects.create(call=call, kind="pipeline-extract", dedupe_key=pipeline.dedupe_key(call.pk))

    pipeline.run_post_call_pipeline(call.pk)

    claim.refresh_from_db()
    assert claim.status == "written_off"
    assert "a written off claim was left as it is" in ClaimEvent.objects.filter(claim=claim).last().message


def test_it_waits_for_the_report_and_tolerates_a_deleted_call(claim):
    call = _call(claim, report_received_at=None)

    assert pipeline.run_post_call_pipeline(call.pk) == "no report"
    assert pipeline.run_post_call_pipeline(call.pk + 1000) == "no report"
    assert not ClaimEvent.objects.exists()


def test_a_denial_first_heard_on_the_call_gets_its_usual_fix_from_the_knowledge_base(claim, users):
    from ai.models import DenialCode

    Claim.objects.filter(pk=claim.pk).update(status="submitted", denial_code="")
    claim.refresh_from_db()
    entry = DenialCode.objects.get(practice=claim.practice, code="50")  # from the practice's starter set
    call = _call(
        claim,
        transcript=(
            "User: Provider services, this is Dana.\n"
            "AI: Hi Dana, I'm calling about claim C-1001 for Maria Lopez.\n"
            "User: That claim was denied, C O fifty, not medically necessary.\n"
            "AI: What do we need to do?\n"
            "User: Send the office notes with an appeal.\n"
            "AI: And a reference for this call?\n"
            "User: Reference 7 7 0 3 1 1 2.\n"
        ),
    )

    pipeline.run_post_call_pipeline(call.pk)

    call.refresh_from_db()
    outcome = CallOutcome.from_json(call.outcome)
    assert outcome.denial_code == "CO-50" and outcome.call_outcome == "action_required"
    assert f"Usual fix for 50: {entry.remedy}" in outcome.next_steps
    assert outcome.knowledge_used == [f"denial-code:{entry.pk}"]
    claim.refresh_from_db()
    assert claim.denial_reason == entry.description[:300]
