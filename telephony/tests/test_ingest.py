from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection

from billingpulse.tests.factories import PracticeFactory
from claims.tests.factories import ClaimFactory
from telephony import ingest
from telephony.models import Call, CallEvent
from telephony.status import FailureCategory
from telephony.tests.factories import CallFactory
from telephony.tests.fixtures import message, schema, vapi_call

pytestmark = pytest.mark.django_db

VAPI_ID = "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
S = Call.Status


@pytest.fixture
def call():
    practice = PracticeFactory(name="Riverside Family Medicine", npi="1234567893")
    claim = ClaimFactory(practice=practice, claim_number="CLM-2026-000123")
    return CallFactory(
        practice=practice, claim=claim, provider=Call.Provider.VAPI, status=S.DIALING, provider_call_id=VAPI_ID
    )


@pytest.fixture
def pipeline():
    with mock.patch("telephony.tasks.run_post_call_pipeline.delay") as delay:
        yield delay


def _status(call, status, **changes):
    msg = message("status-update-in-progress", call)
    msg.update(status=status, **changes)
    return msg


def _keys(call):
    return list(call.events.values_list("dedupe_key", flat=True))


def test_it_moves_a_call_to_in_progress_and_records_when_it_started(call):
    result = ingest.ingest_message(message("status-update-in-progress", call))

    assert result == ingest.IngestResult(200, {})
    call.refresh_from_db()
    assert call.status == S.IN_PROGRESS
    assert call.started_at == datetime(2026, 1, 15, 17, 2, 9, 480000, tzinfo=UTC)
    assert _keys(call) == [f"{call.pk}:status-update:in-progress"]
    assert call.events.get().payload["message"]["status"] == "in-progress"


def test_it_stores_a_duplicate_status_update_once(call):
    ingest.ingest_message(message("status-update-ringing", call))
    result = ingest.ingest_message(message("status-update-ringing", call))

    assert result == ingest.IngestResult(200, {"duplicate": True})
    assert _keys(call) == [f"{call.pk}:status-update:ringing"]


def test_it_never_moves_a_call_backwards_but_keeps_the_late_event(call):
    ingest.ingest_message(message("status-update-in-progress", call))
    ingest.ingest_message(message("status-update-ringing", call))

    call.refresh_from_db()
    assert call.status == S.IN_PROGRESS
    assert len(_keys(call)) == 2


def test_it_ends_a_call_on_the_ended_status_update(call):
    ingest.ingest_message(message("status-update-ended", call))

    call.refresh_from_db()
    assert call.status == S.ENDED
    assert call.ended_reason == "assistant-ended-call"
    assert call.failure_category == FailureCategory.NONE
    assert call.ended_at == datetime(2026, 1, 15, 17, 24, 41, 905000, tzinfo=UTC)
    assert call.report_received_at is None


def test_it_stores_an_end_of_call_report(call, pipeline, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        result = ingest.ingest_message(message("end-of-call-report", call))

    assert result.status_code == 200
    call.refresh_from_db()
    assert call.status == S.ENDED
    assert call.transcript.startswith("AI: Hi, this is Ava calling for Riverside Family Medicine")
    assert len(call.messages) == 9
    assert call.summary.endswith("Call reference REF-778812.")
    assert call.recording_url.endswith("-mono.wav")
    assert call.stereo_recording_url.endswith("-stereo.wav")
    assert call.cost == Decimal("1.9436")
    assert call.started_at == datetime(2026, 1, 15, 17, 2, 9, 480000, tzinfo=UTC)
    assert call.ended_at == datetime(2026, 1, 15, 17, 24, 41, 905000, tzinfo=UTC)
    assert call.duration_seconds == 1352
    assert call.ended_reason == "assistant-ended-call"
    assert call.failure_category == ""
    assert call.report_received_at is not None
    assert _keys(call) == [f"{call.pk}:end-of-call-report"]
    pipeline.assert_called_once_with(call.pk)


def test_it_computes_the_duration_from_the_timestamps_when_the_report_has_none(call, pipeline):
    msg = message("end-of-call-report", call)
    del msg["durationSeconds"]

    ingest.ingest_message(msg)

    call.refresh_from_db()
    assert call.duration_seconds == 1352


def test_it_keeps_the_times_a_status_update_gave_when_the_report_has_none(call, pipeline):
    ingest.ingest_message(message("status-update-in-progress", call))
    ingest.ingest_message(message("status-update-ended", call))
    report = message("end-of-call-report", call)
    for key in ("startedAt", "endedAt"):
        del report[key]
        del report["call"][key]
    del report["durationSeconds"]

    ingest.ingest_message(report)

    call.refresh_from_db()
    assert call.started_at == datetime(2026, 1, 15, 17, 2, 9, 480000, tzinfo=UTC)
    assert call.ended_at == datetime(2026, 1, 15, 17, 24, 41, 905000, tzinfo=UTC)
    assert call.duration_seconds == 1352


def test_it_falls_back_to_the_reports_top_level_keys(call, pipeline):
    msg = message("end-of-call-report", call)
    msg["artifact"] = {}
    msg["analysis"] = {}

    ingest.ingest_message(msg)

    call.refresh_from_db()
    assert call.transcript == msg["transcript"]
    assert call.summary == msg["summary"]
    assert call.recording_url == msg["recordingUrl"]
    assert call.stereo_recording_url == msg["stereoRecordingUrl"]
    assert call.messages == []


def test_it_takes_the_report_before_the_final_status_and_loses_nothing(call, pipeline):
    ingest.ingest_message(message("end-of-call-report", call))
    ingest.ingest_message(message("status-update-ended", call))
    ingest.ingest_message(message("status-update-ringing", call))

    call.refresh_from_db()
    assert call.status == S.ENDED
    assert call.transcript
    assert sorted(_keys(call)) == sorted(
        [
            f"{call.pk}:end-of-call-report",
            f"{call.pk}:status-update:ended",
            f"{call.pk}:status-update:ringing",
        ]
    )


def test_it_applies_a_duplicate_report_once(call, pipeline, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ingest.ingest_message(message("end-of-call-report", call))
    first = Call.objects.get(pk=call.pk).report_received_at

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = ingest.ingest_message(message("end-of-call-report", call))

    assert result.body == {"duplicate": True}
    assert callbacks == []
    assert Call.objects.get(pk=call.pk).report_received_at == first
    pipeline.assert_called_once_with(call.pk)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
def test_it_applies_a_report_delivered_twice_at_the_same_moment_once(call, pipeline):
    start = threading.Barrier(2)
    results = []

    def deliver():
        try:
            start.wait()
            results.append(ingest.ingest_message(message("end-of-call-report", call)))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(str(result.body) for result in results) == ["{'duplicate': True}", "{}"]
    assert CallEvent.objects.filter(call=call).count() == 1
    pipeline.assert_called_once_with(call.pk)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"endedReason": None}, "message.endedReason is missing."),
        ({"cost": "abc"}, "message.cost must be a number."),
        ({"cost": -1}, "message.cost is out of range."),
        ({"startedAt": "yesterday"}, "message.startedAt must be an ISO 8601 date-time."),
        ({"artifact": ["not", "an", "object"]}, "message.artifact must be an object."),
        ({"durationSeconds": "long"}, "message.durationSeconds must be a number."),
        ({"call": "6f1c2d3e"}, "message.call must be an object."),
    ],
)
def test_it_refuses_a_report_with_fields_of_the_wrong_type(call, pipeline, change, reason):
    msg = message("end-of-call-report", call)
    msg.update(change)

    assert ingest.ingest_message(msg) == ingest.IngestResult(400, {"detail": reason})
    assert not CallEvent.objects.exists()
    assert Call.objects.get(pk=call.pk).report_received_at is None


def test_it_ignores_a_recording_url_that_is_not_a_web_address(call, pipeline):
    msg = message("end-of-call-report", call)
    msg["artifact"]["recording"]["mono"]["combinedUrl"] = "javascript:alert(1)"

    ingest.ingest_message(msg)

    assert Call.objects.get(pk=call.pk).recording_url == ""


def test_it_answers_200_and_creates_nothing_for_an_unknown_call(call, caplog):
    msg = message("status-update-in-progress")
    msg["call"]["id"] = "not-ours"
    msg["call"]["assistantOverrides"]["metadata"] = {"billingpulse_call_id": 999999}

    with caplog.at_level(logging.WARNING, logger="telephony.ingest"):
        result = ingest.ingest_message(msg)

    assert result == ingest.IngestResult(200, {})
    assert not CallEvent.objects.exists()
    assert "for unknown call not-ours" in caplog.text
    assert Call.objects.get(pk=call.pk).status == S.DIALING


def test_it_refuses_a_message_whose_ids_disagree(call):
    other = CallFactory(practice=call.practice, provider=Call.Provider.VAPI, status=S.DIALING)
    msg = message("status-update-in-progress", call)
    msg["call"]["assistantOverrides"]["metadata"]["billingpulse_call_id"] = other.pk

    assert ingest.ingest_message(msg).status_code == 200

    assert not CallEvent.objects.exists()
    assert Call.objects.get(pk=call.pk).status == S.DIALING


def test_it_refuses_a_message_naming_another_practice(call):
    msg = message("status-update-in-progress", call)
    msg["call"]["assistantOverrides"]["metadata"]["practice_id"] = PracticeFactory().pk

    ingest.ingest_message(msg)

    assert not CallEvent.objects.exists()


def test_it_takes_vapis_id_for_a_call_whose_create_answer_was_lost(call):
    call.provider_call_id = None
    call.status = S.QUEUED
    call.save()

    msg = message("status-update-ringing", call)
    msg["call"]["id"] = VAPI_ID
    ingest.ingest_message(msg)

    call.refresh_from_db()
    assert call.provider_call_id == VAPI_ID
    assert call.status == S.RINGING


def test_it_refuses_metadata_naming_a_call_placed_as_another_vapi_call(call):
    msg = message("status-update-ringing", call)
    msg["call"]["id"] = "some-other-vapi-call"

    ingest.ingest_message(msg)

    assert not CallEvent.objects.exists()
    assert Call.objects.get(pk=call.pk).provider_call_id == VAPI_ID


def test_it_finds_the_call_by_the_customers_external_id_without_metadata(call):
    call.provider_call_id = None
    call.save()
    msg = message("status-update-ringing", call)
    del msg["call"]["assistantOverrides"]

    ingest.ingest_message(msg)

    assert Call.objects.get(pk=call.pk).status == S.RINGING


@pytest.mark.parametrize(
    ("msg", "reason"),
    [
        ({}, "message.type is missing."),
        ({"type": ""}, "message.type is missing."),
        ({"type": "status-update", "call": {"id": VAPI_ID}}, "message.status is missing."),
        ({"type": "status-update", "status": "ringing"}, "message.call.id is missing."),
        ({"type": "status-update", "status": 3, "call": {"id": VAPI_ID}}, "message.status must be a non-empty string."),
        ({"type": "tool-calls", "call": {"id": VAPI_ID}}, "tool-calls needs a non-empty message.toolCallList."),
        ({"type": "tool-calls", "toolCallList": [{"id": "t1"}]}, "message.toolCallList[0].function.name is missing."),
    ],
)
def test_it_refuses_a_message_missing_what_it_needs(call, msg, reason):
    assert ingest.ingest_message(msg) == ingest.IngestResult(400, {"detail": reason})
    assert not CallEvent.objects.exists()


def test_it_answers_200_to_messages_it_does_not_use(call):
    assert ingest.ingest_message({"type": "speech-update", "status": "started"}) == ingest.IngestResult(200, {})
    assert not CallEvent.objects.exists()


def test_it_stores_statuses_it_does_not_map_without_changing_the_call(call):
    ingest.ingest_message(_status(call, "scheduled"))

    assert Call.objects.get(pk=call.pk).status == S.DIALING
    assert _keys(call) == [f"{call.pk}:status-update:scheduled"]


def test_it_answers_get_claim_details_with_the_calls_claim(call):
    result = ingest.ingest_message(message("tool-calls", call))

    assert result.status_code == 200
    (answer,) = result.body["results"]
    assert answer["toolCallId"] == "call_Q1w2E3r4T5y6U7i8O9p0"
    assert answer["name"] == "get_claim_details"
    assert "Claim number: CLM-2026-000123" in answer["result"]
    assert "Practice NPI: 1234567893" in answer["result"]
    assert _keys(call) == [f"{call.pk}:tool-calls:call_Q1w2E3r4T5y6U7i8O9p0"]


def test_it_answers_a_repeated_tool_call_again_but_stores_it_once(call):
    ingest.ingest_message(message("tool-calls", call))
    result = ingest.ingest_message(message("tool-calls", call))

    assert "result" in result.body["results"][0]
    assert len(_keys(call)) == 1


def test_it_accepts_tool_arguments_as_an_object_as_vapis_docs_show(call):
    msg = message("tool-calls", call)
    msg["toolCallList"][0]["function"]["arguments"] = {"claimNumber": "CLM-2026-000123"}

    assert "result" in ingest.ingest_message(msg).body["results"][0]


def test_it_answers_an_unknown_tool_with_an_error(call):
    msg = message("tool-calls", call)
    msg["toolCallList"][0]["function"]["name"] = "transfer_money"

    (answer,) = ingest.ingest_message(msg).body["results"]

    assert answer == {
        "toolCallId": "call_Q1w2E3r4T5y6U7i8O9p0",
        "name": "transfer_money",
        "error": "Unknown tool transfer_money.",
    }


def test_it_gives_an_ended_call_no_claim_facts(call):
    Call.objects.filter(pk=call.pk).update(status=S.ENDED)

    (answer,) = ingest.ingest_message(message("tool-calls", call)).body["results"]

    assert answer["error"] == "This call has ended."
    assert "result" not in answer


def test_it_gives_an_unknown_call_no_claim_facts(call):
    msg = message("tool-calls")
    msg["call"]["id"] = "not-ours"
    msg["call"]["assistantOverrides"]["metadata"] = {}

    (answer,) = ingest.ingest_message(msg).body["results"]

    assert answer["error"] == "This call is not known."
    assert not CallEvent.objects.exists()


@pytest.mark.parametrize(
    ("reason", "category"),
    [
        ("assistant-ended-call", FailureCategory.NONE),
        ("customer-ended-call", FailureCategory.NONE),
        ("customer-did-not-answer", FailureCategory.NO_ANSWER),
        ("customer-busy", FailureCategory.NO_ANSWER),
        ("voicemail", FailureCategory.VOICEMAIL),
        ("exceeded-max-duration", FailureCategory.HOLD_TOO_LONG),
        ("silence-timed-out", FailureCategory.HOLD_TOO_LONG),
        ("manually-canceled", FailureCategory.CANCELED),
        ("twilio-reported-customer-misdialed", FailureCategory.OUR_ERROR),
        ("call.start.error-subscription-insufficient-credits", FailureCategory.OUR_ERROR),
        ("call.start.error-subscription-concurrency-limit-reached", FailureCategory.PROVIDER_ERROR),
        ("call.start.error-vapifault-get-org", FailureCategory.PROVIDER_ERROR),
        ("pipeline-error-openai-llm-failed", FailureCategory.PROVIDER_ERROR),
        ("call.in-progress.error-vapifault-openai-429-rate-limit-reached", FailureCategory.PROVIDER_ERROR),
        ("call.in-progress.error-providerfault-eleven-labs-500-server-error", FailureCategory.PROVIDER_ERROR),
        ("twilio-failed-to-connect-call", FailureCategory.PROVIDER_ERROR),
        ("worker-shutdown", FailureCategory.PROVIDER_ERROR),
        ("some-future-error", FailureCategory.PROVIDER_ERROR),
    ],
)
def test_it_sorts_ended_reasons_into_failure_categories(reason, category):
    assert ingest.failure_category(reason) == category


def test_it_knows_every_ended_reason_in_vapis_spec(caplog):
    reasons = schema("ServerMessageEndOfCallReport")["properties"]["endedReason"]["enum"]
    assert len(reasons) > 500

    with caplog.at_level(logging.WARNING, logger="telephony.ingest"):
        categories = {reason: ingest.failure_category(reason) for reason in reasons}

    assert "Unknown Vapi endedReason" not in caplog.text
    assert categories["customer-did-not-answer"] == FailureCategory.NO_ANSWER


def test_it_turns_a_fetched_call_into_the_messages_vapi_would_have_sent(call):
    fetched = vapi_call(call)

    update, report = ingest.messages_from_vapi_call(fetched)

    assert update == {
        "type": "status-update",
        "status": "ended",
        "endedReason": "assistant-ended-call",
        "call": fetched,
    }
    assert report["type"] == "end-of-call-report"
    assert report["artifact"] == fetched["artifact"]
    assert report["analysis"] == fetched["analysis"]
    assert report["cost"] == fetched["cost"]
    assert report["startedAt"] == fetched["startedAt"]


def test_it_turns_a_call_still_in_progress_into_its_status_only(call):
    fetched = vapi_call(call) | {"status": "in-progress"}

    assert [m["type"] for m in ingest.messages_from_vapi_call(fetched)] == ["status-update"]
    assert ingest.messages_from_vapi_call({"id": "x"}) == []


def test_it_stores_a_fetched_call_like_its_webhooks(call, pipeline, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for msg in ingest.messages_from_vapi_call(vapi_call(call)):
            ingest.ingest_message(msg)
        # The real webhooks arrive late: nothing changes twice.
        ingest.ingest_message(message("end-of-call-report", call))
        ingest.ingest_message(message("status-update-ended", call))

    call.refresh_from_db()
    assert call.status == S.ENDED
    assert call.summary.endswith("Call reference REF-778812.")
    assert call.events.count() == 2
    pipeline.assert_called_once_with(call.pk)


def test_it_marks_an_active_call_failed_but_not_an_ended_one(call):
    assert ingest.mark_failed(call, FailureCategory.PROVIDER_ERROR, "Lost.")
    call.refresh_from_db()
    assert (call.status, call.failure_category, call.last_error) == (S.FAILED, "provider_error", "Lost.")

    ended = CallFactory(status=S.ENDED)
    assert not ingest.mark_failed(ended, FailureCategory.PROVIDER_ERROR, "Lost.")
    assert Call.objects.get(pk=ended.pk).status == S.ENDED


def test_it_moves_on_from_the_status_another_delivery_just_wrote(call):
    stale = Call.objects.get(pk=call.pk)
    Call.objects.filter(pk=call.pk).update(status=S.IN_PROGRESS)

    assert ingest.advance_status(stale, S.ENDED)
    assert not ingest.advance_status(Call.objects.get(pk=call.pk), S.RINGING)
    assert Call.objects.get(pk=call.pk).status == S.ENDED
