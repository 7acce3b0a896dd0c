"""The Vapi client against a fake Vapi API on loopback: real httpx, real requests, real timeouts."""

from __future__ import annotations

import json
import socket
import threading
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from billingpulse.tests.factories import PatientFactory, PracticeFactory
from claims.tests.factories import ClaimFactory, PayerFactory
from telephony import vapi
from telephony.models import Call
from telephony.providers import AmbiguousProviderError, ProviderError
from telephony.tests.factories import CallFactory
from telephony.tests.fixtures import schema_errors

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def server():
    # Threaded, so a slow answer does not hold back a second request: a retry would show at once.
    fake = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    fake.start()
    yield fake
    fake.clear()
    fake.stop()


@pytest.fixture
def fake_vapi(server, settings, monkeypatch):
    server.clear()
    settings.VAPI_BASE_URL = server.url_for("/").rstrip("/")
    settings.VAPI_API_KEY = "test-private-key"
    settings.VAPI_PHONE_NUMBER_ID = "pn-0001"
    settings.VAPI_ASSISTANT_ID = "asst-0001"
    settings.VAPI_TIMEOUT_SECONDS = 2
    settings.SITE_URL = "https://billing.example.org"
    monkeypatch.setattr(vapi, "READ_BACKOFF_SECONDS", 0)
    yield server
    server.clear()


@pytest.fixture
def call():
    practice = PracticeFactory(name="Riverside Family Medicine", npi="1234567893", tax_id="12-3456789")
    payer = PayerFactory(practice=practice, name="Example Health Plan", phone="+18005550142", phone_extension="204")
    patient = PatientFactory(practice=practice, first_name="Maria", last_name="Lopez")
    claim = ClaimFactory(practice=practice, patient=patient, payer=payer)
    return CallFactory(
        practice=practice,
        claim=claim,
        provider=Call.Provider.VAPI,
        status=Call.Status.QUEUED,
        provider_call_id=None,
        placed_at=datetime(2026, 1, 15, 17, 2, 3, tzinfo=UTC),
    )


def _sent(server: HTTPServer) -> list[dict]:
    return [json.loads(request.get_data()) for request, _response in server.log]


def test_it_places_a_call_with_the_saved_assistant_and_per_call_overrides(fake_vapi, call):
    fake_vapi.expect_request("/call", method="POST").respond_with_json(
        {"id": "vapi-call-1", "orgId": "org", "status": "queued"}, status=201
    )

    provider_call_id = vapi.VapiProvider().start_call(call)

    assert provider_call_id == "vapi-call-1"
    ((request, _response),) = fake_vapi.log
    assert request.headers["Authorization"] == "Bearer test-private-key"
    body = request.get_json()
    assert body["assistantId"] == "asst-0001"
    assert body["phoneNumberId"] == "pn-0001"
    assert body["customer"] == {
        "number": "+18005550142",
        "extension": "204",
        "name": "Example Health Plan",
        "externalId": f"billingpulse-call-{call.pk}",
    }
    overrides = body["assistantOverrides"]
    assert overrides["metadata"] == {"billingpulse_call_id": call.pk, "practice_id": call.practice_id}
    assert overrides["firstMessageMode"] == "assistant-waits-for-user"
    assert overrides["maxDurationSeconds"] == 45 * 60
    assert overrides["voicemailDetection"] == "off"
    assert overrides["serverMessages"] == ["status-update", "end-of-call-report", "tool-calls", "hang"]
    assert [tool["type"] for tool in overrides["tools:append"]] == ["dtmf", "endCall", "function"]
    claim_tool = overrides["tools:append"][2]
    assert claim_tool["function"]["name"] == "get_claim_details"
    assert claim_tool["server"]["url"] == "https://billing.example.org/api/webhooks/vapi"
    assert "Maria Lopez" in overrides["variableValues"]["callBrief"]
    assert len(body["name"]) <= 40


def test_it_places_a_call_with_a_transient_assistant_when_none_is_saved(fake_vapi, call, settings):
    settings.VAPI_ASSISTANT_ID = ""
    fake_vapi.expect_request("/call", method="POST").respond_with_json({"id": "vapi-call-2"}, status=201)

    vapi.VapiProvider().start_call(call)

    (body,) = _sent(fake_vapi)
    assert "assistantId" not in body
    assistant = body["assistant"]
    assert assistant["firstMessageMode"] == "assistant-waits-for-user"
    assert assistant["maxDurationSeconds"] == 45 * 60
    assert assistant["voicemailDetection"] == "off"
    assert [tool["type"] for tool in assistant["model"]["tools"]] == ["dtmf", "endCall", "function"]
    assert "Maria Lopez" in assistant["model"]["messages"][0]["content"]
    assert body["assistantOverrides"] == {
        "metadata": {"billingpulse_call_id": call.pk, "practice_id": call.practice_id}
    }


@pytest.mark.parametrize("assistant_id", ["asst-0001", ""])
def test_it_sends_a_body_that_matches_vapis_create_call_schema(fake_vapi, call, settings, assistant_id):
    settings.VAPI_ASSISTANT_ID = assistant_id
    settings.VAPI_WEBHOOK_SECRET = "shared-secret"
    fake_vapi.expect_request("/call", method="POST").respond_with_json({"id": "vapi-call-3"}, status=201)

    vapi.VapiProvider().start_call(call)

    (body,) = _sent(fake_vapi)
    assert schema_errors(body, "CreateCallDTO") == []


def test_it_leaves_out_the_extension_when_the_payer_has_none(fake_vapi, call):
    call.payer.phone_extension = ""
    fake_vapi.expect_request("/call", method="POST").respond_with_json({"id": "vapi-call-4"}, status=201)

    vapi.VapiProvider().start_call(call)

    (body,) = _sent(fake_vapi)
    assert "extension" not in body["customer"]


def test_it_reports_vapis_refusal_with_its_message(fake_vapi, call, caplog):
    fake_vapi.expect_request("/call", method="POST").respond_with_json(
        {"message": ["customer.number must be a valid phone number in the E.164 format"], "statusCode": 400},
        status=400,
    )

    with pytest.raises(ProviderError) as raised:
        vapi.VapiProvider().start_call(call)

    assert type(raised.value) is ProviderError
    assert "HTTP 400" in str(raised.value)
    assert "E.164" in str(raised.value)
    assert len(fake_vapi.log) == 1
    assert "E.164" in caplog.text
    assert "Maria Lopez" not in caplog.text


def test_it_reports_a_server_error_as_a_definite_failure(fake_vapi, call):
    fake_vapi.expect_request("/call", method="POST").respond_with_data("Internal Server Error", status=500)

    with pytest.raises(ProviderError) as raised:
        vapi.VapiProvider().start_call(call)

    assert type(raised.value) is ProviderError
    assert len(fake_vapi.log) == 1


def test_it_sends_the_create_once_and_reports_a_timeout_as_ambiguous(fake_vapi, call, settings):
    settings.VAPI_TIMEOUT_SECONDS = 0.2
    received = []
    answered = threading.Event()

    def slow(request):
        received.append(request.path)
        time.sleep(0.6)
        answered.set()
        return Response(json.dumps({"id": "too-late"}), status=201, content_type="application/json")

    fake_vapi.expect_request("/call", method="POST").respond_with_handler(slow)

    with pytest.raises(AmbiguousProviderError):
        vapi.VapiProvider().start_call(call)

    assert answered.wait(2)
    time.sleep(0.05)
    assert received == ["/call"]


def test_it_reports_a_gateway_timeout_as_ambiguous(fake_vapi, call):
    fake_vapi.expect_request("/call", method="POST").respond_with_data("Gateway Timeout", status=504)

    with pytest.raises(AmbiguousProviderError):
        vapi.VapiProvider().start_call(call)

    assert len(fake_vapi.log) == 1


def test_it_reports_an_answer_without_a_call_id_as_ambiguous(fake_vapi, call):
    fake_vapi.expect_request("/call", method="POST").respond_with_data("<html>ok</html>", status=201)

    with pytest.raises(AmbiguousProviderError):
        vapi.VapiProvider().start_call(call)


def test_it_reports_an_unreachable_vapi_as_a_definite_failure(fake_vapi, call, settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.VAPI_BASE_URL = f"http://127.0.0.1:{closed_port}"

    with pytest.raises(ProviderError) as raised:
        vapi.VapiProvider().start_call(call)

    assert type(raised.value) is ProviderError


@pytest.mark.parametrize("missing", ["VAPI_API_KEY", "VAPI_PHONE_NUMBER_ID"])
def test_it_sends_nothing_without_its_settings(fake_vapi, call, settings, missing):
    setattr(settings, missing, "")

    with pytest.raises(ProviderError, match=missing):
        vapi.VapiProvider().start_call(call)

    assert fake_vapi.log == []


def test_it_fetches_a_call(fake_vapi):
    fake_vapi.expect_request("/call/vapi-call-1", method="GET").respond_with_json(
        {"id": "vapi-call-1", "status": "ended"}
    )

    assert vapi.VapiProvider().fetch_call("vapi-call-1") == {"id": "vapi-call-1", "status": "ended"}
    ((request, _response),) = fake_vapi.log
    assert request.headers["Authorization"] == "Bearer test-private-key"


def test_it_fetches_nothing_for_a_call_vapi_does_not_know(fake_vapi):
    fake_vapi.expect_request("/call/nope", method="GET").respond_with_json({"message": "Not Found"}, status=404)

    assert vapi.VapiProvider().fetch_call("nope") is None


def test_it_retries_a_read_after_a_server_error(fake_vapi):
    fake_vapi.expect_ordered_request("/call/vapi-call-1").respond_with_data("busy", status=503)
    fake_vapi.expect_ordered_request("/call/vapi-call-1").respond_with_json({"id": "vapi-call-1"})

    assert vapi.VapiProvider().fetch_call("vapi-call-1") == {"id": "vapi-call-1"}
    assert len(fake_vapi.log) == 2


def test_it_gives_up_reading_after_a_few_attempts(fake_vapi):
    fake_vapi.expect_request("/call/vapi-call-1").respond_with_data("busy", status=503)

    with pytest.raises(ProviderError):
        vapi.VapiProvider().fetch_call("vapi-call-1")

    assert len(fake_vapi.log) == vapi.READ_ATTEMPTS


def test_it_does_not_retry_a_refused_read(fake_vapi):
    fake_vapi.expect_request("/call/vapi-call-1").respond_with_json({"message": "Unauthorized"}, status=401)

    with pytest.raises(ProviderError, match="HTTP 401"):
        vapi.VapiProvider().fetch_call("vapi-call-1")

    assert len(fake_vapi.log) == 1


def test_it_finds_a_call_placed_without_an_answer_by_its_metadata(fake_vapi, call):
    ours = {
        "id": "vapi-call-9",
        "createdAt": "2026-01-15T17:02:04.000Z",
        "assistantOverrides": {"metadata": {"billingpulse_call_id": call.pk, "practice_id": call.practice_id}},
    }
    other = {"id": "vapi-call-8", "assistantOverrides": {"metadata": {"billingpulse_call_id": call.pk + 1}}}
    fake_vapi.expect_request("/call", method="GET").respond_with_json([other, ours, {"id": "vapi-call-7"}])

    assert vapi.VapiProvider().find_call(call) == ours
    ((request, _response),) = fake_vapi.log
    query = parse_qs(request.query_string.decode())
    assert query["phoneNumberId"] == ["pn-0001"]
    assert query["createdAtGe"] == ["2026-01-15T16:52:03.000Z"]
    assert query["createdAtLe"] == ["2026-01-15T17:12:03.000Z"]
    assert query["limit"] == ["100"]


def test_it_finds_nothing_when_vapi_has_no_such_call(fake_vapi, call):
    fake_vapi.expect_request("/call", method="GET").respond_with_json([{"id": "vapi-call-7"}])

    assert vapi.VapiProvider().find_call(call) is None
