"""End-of-call reports: the rules of ``test_ingest.py``, for the one-statement path (PostgreSQL) too.

On PostgreSQL a report found by Vapi's id is stored by one SQL statement; on SQLite, and for a
call found only by our metadata, by the ORM. These run on both, so both paths are held to the
same answers.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from unittest import mock

import pytest
from django.db import connection

from billingpulse.tests.factories import PracticeFactory
from claims.tests.factories import ClaimFactory
from telephony import ingest
from telephony.models import Call, CallEvent
from telephony.tests.factories import CallFactory
from telephony.tests.fixtures import message

pytestmark = pytest.mark.django_db

VAPI_ID = "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
S = Call.Status
ON_POSTGRESQL = connection.vendor == "postgresql"


@pytest.fixture
def call():
    practice = PracticeFactory(name="Riverside Family Medicine", npi="1234567893")
    claim = ClaimFactory(practice=practice, claim_number="CLM-2026-000123")
    return CallFactory(
        practice=practice, claim=claim, provider=Call.Provider.VAPI, status=S.IN_PROGRESS, provider_call_id=VAPI_ID
    )


@pytest.fixture
def pipeline():
    with mock.patch("telephony.tasks.run_post_call_pipeline.delay") as delay:
        yield delay


def _report(call, **changes):
    msg = message("end-of-call-report", call)
    msg.update(changes)
    return msg


# The ORM path inside a test's transaction: SELECT, two SAVEPOINTs (the report's atomic block and
# the event's), INSERT, RELEASE, UPDATE, RELEASE.
ORM_QUERIES = 7


def test_it_stores_a_report_in_one_statement_on_postgresql(
    call, pipeline, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        django_assert_max_num_queries(1 if ON_POSTGRESQL else ORM_QUERIES),
    ):
        result = ingest.ingest_message(_report(call))

    assert result == ingest.IngestResult(200, {})
    assert Call.objects.get(pk=call.pk).status == S.ENDED
    pipeline.assert_called_once_with(call.pk)


def test_it_answers_a_duplicate_report_in_one_statement_on_postgresql(call, pipeline, django_assert_max_num_queries):
    ingest.ingest_message(_report(call))

    with django_assert_max_num_queries(1 if ON_POSTGRESQL else ORM_QUERIES):
        result = ingest.ingest_message(_report(call))

    assert result.body == {"duplicate": True}
    assert CallEvent.objects.filter(call=call).count() == 1


def test_it_ends_the_call_and_records_when_the_status_last_changed(call, pipeline):
    ingest.ingest_message(_report(call))

    call.refresh_from_db()
    assert call.status == S.ENDED
    assert call.status_changed_at == call.report_received_at
    assert call.updated_at == call.report_received_at
    event = CallEvent.objects.get(call=call)
    assert event.kind == "end-of-call-report"
    assert event.payload == {"message": _report(call)}


def test_it_keeps_the_status_of_a_call_that_can_no_longer_end(call, pipeline):
    Call.objects.filter(pk=call.pk).update(status=S.FAILED, status_changed_at=datetime(2026, 1, 1, tzinfo=UTC))

    ingest.ingest_message(_report(call))

    call.refresh_from_db()
    assert call.status == S.FAILED
    assert call.status_changed_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert call.transcript
    assert call.report_received_at is not None


@pytest.mark.parametrize(("ended", "seconds"), [("17:00:02.500", 2), ("17:00:03.500", 4), ("16:59:00", 0)])
def test_it_rounds_a_computed_duration_half_to_even(call, pipeline, ended, seconds):
    report = _report(call, startedAt="2026-01-15T17:00:00.000Z", endedAt=f"2026-01-15T{ended}Z")
    del report["durationSeconds"]

    ingest.ingest_message(report)

    assert Call.objects.get(pk=call.pk).duration_seconds == seconds


def test_it_takes_the_calls_start_when_the_report_gives_none(call, pipeline):
    Call.objects.filter(pk=call.pk).update(started_at=datetime(2026, 1, 15, 17, 0, tzinfo=UTC))
    report = _report(call, endedAt="2026-01-15T17:01:40.000Z")
    del report["startedAt"], report["call"]["startedAt"], report["durationSeconds"]

    ingest.ingest_message(report)

    call.refresh_from_db()
    assert call.started_at == datetime(2026, 1, 15, 17, 0, tzinfo=UTC)
    assert call.duration_seconds == 100


def test_it_ends_the_call_when_the_platform_sent_the_report_if_it_gives_no_times(call, pipeline):
    Call.objects.filter(pk=call.pk).update(started_at=None, ended_at=None)
    report = _report(call, timestamp=1768497000000)  # 2026-01-15 17:10:00 UTC, in milliseconds
    for key in ("startedAt", "endedAt"):
        del report[key], report["call"][key]
    del report["durationSeconds"]

    ingest.ingest_message(report)

    call.refresh_from_db()
    assert call.ended_at == datetime(2026, 1, 15, 17, 10, tzinfo=UTC)
    assert call.started_at is None
    assert call.duration_seconds is None


def test_it_creates_nothing_for_a_report_whose_metadata_names_another_call(call, pipeline, caplog):
    other = CallFactory(practice=call.practice, provider=Call.Provider.VAPI, status=S.IN_PROGRESS)
    report = _report(call)
    report["call"]["assistantOverrides"]["metadata"]["billingpulse_call_id"] = other.pk

    with caplog.at_level(logging.WARNING, logger="telephony.ingest"):
        result = ingest.ingest_message(report)

    assert result == ingest.IngestResult(200, {})
    assert not CallEvent.objects.exists()
    assert Call.objects.get(pk=call.pk).status == S.IN_PROGRESS
    assert f"metadata names call {other.pk}" in caplog.text
    pipeline.assert_not_called()


def test_it_creates_nothing_for_a_report_naming_another_practice(call, pipeline):
    report = _report(call)
    report["call"]["assistantOverrides"]["metadata"]["practice_id"] = PracticeFactory().pk

    assert ingest.ingest_message(report) == ingest.IngestResult(200, {})

    assert not CallEvent.objects.exists()
    assert Call.objects.get(pk=call.pk).report_received_at is None


def test_it_creates_nothing_for_a_report_about_an_unknown_call(call, pipeline, caplog):
    report = _report(call)
    report["call"]["id"] = "not-ours"
    report["call"]["assistantOverrides"]["metadata"] = {}
    report["call"]["customer"].pop("externalId", None)

    with caplog.at_level(logging.WARNING, logger="telephony.ingest"):
        result = ingest.ingest_message(report)

    assert result == ingest.IngestResult(200, {})
    assert not CallEvent.objects.exists()
    assert "for unknown call not-ours" in caplog.text
    pipeline.assert_not_called()


def test_it_takes_vapis_id_from_a_report_for_a_call_whose_create_answer_was_lost(
    call, pipeline, django_capture_on_commit_callbacks
):
    Call.objects.filter(pk=call.pk).update(provider_call_id=None, status=S.QUEUED)

    with django_capture_on_commit_callbacks(execute=True):
        result = ingest.ingest_message(_report(call))

    assert result == ingest.IngestResult(200, {})
    call.refresh_from_db()
    assert call.provider_call_id == VAPI_ID
    assert call.status == S.ENDED
    pipeline.assert_called_once_with(call.pk)


def test_it_enqueues_the_pipeline_only_once_the_report_is_committed(call, pipeline, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        ingest.ingest_message(_report(call))
        pipeline.assert_not_called()

    assert len(callbacks) == 1
    callbacks[0]()
    pipeline.assert_called_once_with(call.pk)
