"""The reconciler against a fake Vapi API on loopback: lost webhooks and lost create answers."""

from __future__ import annotations

import uuid
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone
from pytest_httpserver import HTTPServer

from telephony import pipeline, reconcile, vapi
from telephony.ingest import ingest_message
from telephony.models import Call, CallEvent
from telephony.tests.factories import CallFactory
from telephony.tests.fixtures import message, vapi_call

pytestmark = pytest.mark.django_db

S = Call.Status


@pytest.fixture(scope="module")
def server():
    fake = HTTPServer(host="127.0.0.1", port=0)
    fake.start()
    yield fake
    fake.clear()
    fake.stop()


@pytest.fixture
def fake_vapi(server, settings, monkeypatch):
    server.clear()
    settings.TELEPHONY_PROVIDER = "vapi"
    settings.VAPI_BASE_URL = server.url_for("/").rstrip("/")
    settings.VAPI_API_KEY = "test-private-key"
    settings.VAPI_PHONE_NUMBER_ID = "pn-0001"
    settings.CALL_MAX_DURATION_SECONDS = 45 * 60
    monkeypatch.setattr(vapi, "READ_BACKOFF_SECONDS", 0)
    yield server
    server.clear()


@pytest.fixture
def delay():
    with mock.patch("telephony.tasks.run_post_call_pipeline.delay") as delay:
        yield delay


@pytest.fixture
def now():
    return timezone.now()


def _call(now, *, ago: timedelta, **fields) -> Call:
    fields.setdefault("status", S.IN_PROGRESS)
    fields.setdefault("provider_call_id", f"vapi-{uuid.uuid4()}")
    return CallFactory(provider=Call.Provider.VAPI, placed_at=now - ago, transcript="", **fields)


def _fetched(server: HTTPServer) -> list[str]:
    return [request.path for request, _response in server.log]


def test_it_ingests_the_end_of_a_call_whose_webhooks_were_lost(
    fake_vapi, delay, now, django_capture_on_commit_callbacks
):
    call = _call(now, ago=timedelta(hours=2))
    fake_vapi.expect_request(f"/call/{call.provider_call_id}").respond_with_json(vapi_call(call))

    with django_capture_on_commit_callbacks(execute=True):
        summary = reconcile.reconcile_calls(now)

    assert (summary.checked, summary.updated, summary.failed, summary.errors) == (1, 1, 0, 0)
    call.refresh_from_db()
    assert call.status == S.ENDED
    assert call.report_received_at is not None
    assert call.summary.endswith("Call reference REF-778812.")
    assert call.duration_seconds == 1352
    assert set(call.events.values_list("kind", flat=True)) == {"status-update", "end-of-call-report"}
    delay.assert_called_once_with(call.pk)


def test_it_changes_nothing_twice_when_the_lost_webhooks_arrive_after_all(
    fake_vapi, delay, now, django_capture_on_commit_callbacks
):
    call = _call(now, ago=timedelta(hours=2))
    fake_vapi.expect_request(f"/call/{call.provider_call_id}").respond_with_json(vapi_call(call))

    with django_capture_on_commit_callbacks(execute=True):
        reconcile.reconcile_calls(now)
        ingest_message(message("end-of-call-report", call))
        ingest_message(message("status-update-ended", call))

    assert call.events.count() == 2
    delay.assert_called_once_with(call.pk)


def test_it_fetches_an_ended_call_whose_report_never_came(fake_vapi, delay, now):
    call = _call(now, ago=timedelta(minutes=40), status=S.ENDED, ended_at=now - timedelta(minutes=20))
    fake_vapi.expect_request(f"/call/{call.provider_call_id}").respond_with_json(vapi_call(call))

    reconcile.reconcile_calls(now)

    assert Call.objects.get(pk=call.pk).report_received_at is not None


def test_it_marks_a_call_vapi_does_not_know_as_failed_and_applies_the_failure_policy(fake_vapi, now):
    call = _call(now, ago=timedelta(hours=2))
    fake_vapi.expect_request(f"/call/{call.provider_call_id}").respond_with_json({"message": "Not Found"}, status=404)

    summary = reconcile.reconcile_calls(now)

    assert summary.failed == 1
    call.refresh_from_db()
    assert (call.status, call.failure_category) == (S.FAILED, "provider_error")
    assert call.last_error == "The platform does not know this call."
    assert CallEvent.objects.filter(call=call, kind="failure-policy").exists()


def test_it_leaves_calls_alone_that_may_still_be_running_or_are_done(fake_vapi, now):
    _call(now, ago=timedelta(minutes=50))
    _call(now, ago=timedelta(hours=2), status=S.ENDED, report_received_at=now - timedelta(hours=1))
    _call(now, ago=timedelta(minutes=30), status=S.ENDED, ended_at=now - timedelta(minutes=5))
    _call(now, ago=timedelta(days=3))
    _call(now, ago=timedelta(hours=2), status=S.FAILED)

    summary = reconcile.reconcile_calls(now)

    assert summary.checked == 0
    assert _fetched(fake_vapi) == []


def test_it_goes_on_after_vapi_fails_to_answer_about_one_call(fake_vapi, delay, now):
    troubled = _call(now, ago=timedelta(hours=3))
    fine = _call(now, ago=timedelta(hours=2))
    fake_vapi.expect_request(f"/call/{troubled.provider_call_id}").respond_with_data("down", status=503)
    fake_vapi.expect_request(f"/call/{fine.provider_call_id}").respond_with_json(vapi_call(fine))

    summary = reconcile.reconcile_calls(now)

    assert (summary.checked, summary.updated, summary.errors) == (2, 1, 1)
    assert Call.objects.get(pk=troubled.pk).status == S.IN_PROGRESS
    assert Call.objects.get(pk=fine.pk).status == S.ENDED


def test_it_adopts_the_vapi_call_placed_without_an_answer(fake_vapi, now):
    call = _call(now, ago=timedelta(minutes=5), status=S.QUEUED, provider_call_id=None)
    found = vapi_call(call) | {"id": "vapi-found", "status": "in-progress"}
    fake_vapi.expect_request("/call", method="GET").respond_with_json([found])

    summary = reconcile.reconcile_calls(now)

    assert summary.updated == 1
    call.refresh_from_db()
    assert call.provider_call_id == "vapi-found"
    assert call.status == S.IN_PROGRESS


def test_it_fails_a_call_placed_without_an_answer_that_vapi_never_got(fake_vapi, now):
    call = _call(now, ago=timedelta(minutes=5), status=S.QUEUED, provider_call_id=None)
    fake_vapi.expect_request("/call", method="GET").respond_with_json([])

    summary = reconcile.reconcile_calls(now)

    assert summary.failed == 1
    call.refresh_from_db()
    assert (call.status, call.failure_category) == (S.FAILED, "provider_error")
    assert CallEvent.objects.filter(call=call, kind="failure-policy").exists()


def test_it_gives_a_create_answer_a_moment_before_looking(fake_vapi, now):
    _call(now, ago=timedelta(seconds=30), status=S.QUEUED, provider_call_id=None)
    CallFactory(provider=Call.Provider.VAPI, status=S.QUEUED, provider_call_id=None, placed_at=None)

    assert reconcile.reconcile_calls(now).checked == 0
    assert _fetched(fake_vapi) == []


def test_it_enqueues_the_pipeline_again_for_a_report_it_never_ran_for(fake_vapi, delay, now):
    stalled = _call(now, ago=timedelta(hours=2), status=S.ENDED, report_received_at=now - timedelta(minutes=30))
    done = _call(now, ago=timedelta(hours=2), status=S.ENDED, report_received_at=now - timedelta(minutes=30))
    CallEvent.objects.create(call=done, kind=pipeline.EVENT_KIND, dedupe_key=pipeline.dedupe_key(done.pk))
    _call(now, ago=timedelta(hours=1), status=S.ENDED, report_received_at=now - timedelta(minutes=2))

    summary = reconcile.reconcile_calls(now)

    assert summary.pipelines == 1
    delay.assert_called_once_with(stalled.pk)


def test_it_prints_a_readable_summary():
    summary = reconcile.ReconcileSummary(checked=3, updated=1, failed=1, errors=1, pipelines=2)

    assert str(summary) == "3 calls checked, 1 updated, 1 marked failed, 1 lookups failed, 2 pipelines enqueued"


def test_it_goes_on_after_an_unexpected_error_about_one_call(fake_vapi, delay, now):
    broken = _call(now, ago=timedelta(hours=3))
    fine = _call(now, ago=timedelta(hours=2))
    real = vapi.VapiProvider()

    def fetch_call(provider_call_id):
        if provider_call_id == broken.provider_call_id:
            raise RuntimeError("boom")
        return real.client.get_call(provider_call_id)

    fake_vapi.expect_request(f"/call/{fine.provider_call_id}").respond_with_json(vapi_call(fine))
    with mock.patch.object(vapi.VapiProvider, "fetch_call", side_effect=fetch_call):
        summary = reconcile.reconcile_calls(now)

    assert (summary.checked, summary.updated, summary.errors) == (2, 1, 1)
    assert Call.objects.get(pk=fine.pk).status == S.ENDED
