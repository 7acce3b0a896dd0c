from __future__ import annotations

from unittest import mock

import pytest
from django.utils import timezone

from claims.models import ClaimEvent
from telephony import ingest, pipeline
from telephony.models import Call, CallEvent
from telephony.status import FailureCategory
from telephony.tests.factories import CallFactory
from telephony.tests.fixtures import message

pytestmark = pytest.mark.django_db

SUMMARY = "Provider services (Dana) confirmed the claim was paid $142.50 on 2026-01-20"


@pytest.fixture
def call():
    return CallFactory(
        provider=Call.Provider.VAPI,
        status=Call.Status.ENDED,
        summary=SUMMARY,
        transcript="User: Sure, the reference number is REF-778812.",
        report_received_at=timezone.now(),
    )


def test_it_notes_the_call_on_the_claims_timeline_and_keeps_its_summary(call):
    assert pipeline.run_post_call_pipeline(call.pk)

    event = ClaimEvent.objects.get(claim=call.claim)
    assert event.kind == ClaimEvent.Kind.CALL
    assert event.source == "call"
    assert event.message == f"Call ended: {SUMMARY}, reference REF-778812."
    call.claim.refresh_from_db()
    assert call.claim.last_call_outcome == SUMMARY


def test_it_runs_once_per_call(call):
    assert pipeline.run_post_call_pipeline(call.pk)
    assert not pipeline.run_post_call_pipeline(call.pk)

    assert ClaimEvent.objects.filter(claim=call.claim).count() == 1
    assert CallEvent.objects.filter(call=call, kind=pipeline.EVENT_KIND).count() == 1


def test_it_applies_the_failure_policy_to_the_call(call):
    with mock.patch("telephony.services.handle_call_end") as handle_call_end:
        pipeline.run_post_call_pipeline(call.pk)

    handle_call_end.assert_called_once_with(call.pk)


def test_it_waits_for_the_report_and_tolerates_a_deleted_call(call):
    Call.objects.filter(pk=call.pk).update(report_received_at=None)

    assert not pipeline.run_post_call_pipeline(call.pk)
    assert not pipeline.run_post_call_pipeline(call.pk + 1000)
    assert not ClaimEvent.objects.exists()


def test_it_reads_the_reference_number_from_vapis_analysis(call):
    report = message("end-of-call-report", call)
    report["analysis"]["structuredData"]["referenceNumber"] = "REF-111222"
    CallEvent.objects.create(call=call, kind="end-of-call-report", dedupe_key="r", payload={"message": report})

    assert pipeline.reference_number(call) == "REF-111222"


@pytest.mark.parametrize(
    ("text", "reference"),
    [
        ("the reference number is REF-778812.", "REF-778812"),
        ("Call reference: 4471-A", "4471-A"),
        ("Could I get a reference number for this call?", ""),
        ("reference number please", ""),
    ],
)
def test_it_finds_a_reference_number_said_in_the_call(call, text, reference):
    call.summary, call.transcript = "", text

    assert pipeline.reference_number(call) == reference


def test_it_says_how_a_call_without_a_summary_ended(call):
    call.summary, call.transcript = "", ""
    call.failure_category, call.ended_reason = FailureCategory.NO_ANSWER, "customer-did-not-answer"

    assert pipeline.outcome_line(call) == "Call ended: No answer or busy (customer-did-not-answer)."


def test_it_runs_after_a_report_is_ingested(call, django_capture_on_commit_callbacks):
    fresh = CallFactory(provider=Call.Provider.VAPI, status=Call.Status.IN_PROGRESS)
    with (
        mock.patch("telephony.tasks.run_post_call_pipeline.delay", pipeline.run_post_call_pipeline),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ingest.ingest_message(message("end-of-call-report", fresh))

    assert ClaimEvent.objects.get(claim=fresh.claim).message.endswith("Call reference REF-778812.")
