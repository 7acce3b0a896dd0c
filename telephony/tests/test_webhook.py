from __future__ import annotations

import json
import logging
import time
from unittest import mock

import pytest
from django.test import RequestFactory

from billingpulse.tests.factories import PatientFactory, PracticeFactory
from claims.tests.factories import ClaimFactory
from telephony import webhook
from telephony.models import Call, CallEvent
from telephony.tests.factories import CallFactory
from telephony.tests.fixtures import load, message, schema_errors

pytestmark = pytest.mark.django_db

URL = "/api/webhooks/vapi"
S = Call.Status


@pytest.fixture(autouse=True)
def secrets(settings):
    settings.VAPI_WEBHOOK_SECRET = "shared-secret"
    settings.VAPI_WEBHOOK_HMAC_SECRET = "hmac-secret"
    settings.VAPI_WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS = 300
    settings.VAPI_WEBHOOK_MAX_BYTES = 64 * 1024


@pytest.fixture
def call():
    practice = PracticeFactory(name="Alpha Family Clinic", npi="1234567893")
    patient = PatientFactory(practice=practice, first_name="Maria", last_name="Lopez")
    claim = ClaimFactory(practice=practice, patient=patient, claim_number="CLM-ALPHA-1")
    return CallFactory(
        practice=practice, claim=claim, provider=Call.Provider.VAPI, status=S.DIALING, provider_call_id="vapi-alpha"
    )


@pytest.fixture
def pipeline():
    with mock.patch("telephony.tasks.run_post_call_pipeline.delay") as delay:
        yield delay


def _body(name: str, call) -> bytes:
    return json.dumps({"message": message(name, call)}).encode()


def _post(client, body: bytes, headers: dict | None = None):
    return client.post(URL, data=body, content_type="application/json", headers=headers)


def _deliver(client, body: bytes):
    """A delivery signed as Vapi would sign it under the current settings."""
    return _post(client, body, webhook.sign(body))


@pytest.mark.parametrize(
    ("name", "schema_name"),
    [
        ("status-update-ringing", "ServerMessageStatusUpdate"),
        ("status-update-in-progress", "ServerMessageStatusUpdate"),
        ("status-update-ended", "ServerMessageStatusUpdate"),
        ("end-of-call-report", "ServerMessageEndOfCallReport"),
        ("tool-calls", "ServerMessageToolCalls"),
        ("vapi-call-ended", "Call"),
    ],
)
def test_it_uses_payload_fixtures_that_match_vapis_schemas(name, schema_name):
    payload = load(name)
    assert schema_errors(payload.get("message", payload), schema_name) == []


def test_it_checks_fixtures_against_the_schema_for_real():
    broken = message("end-of-call-report")
    broken["cost"] = "a lot"
    del broken["analysis"]

    assert sorted(schema_errors(broken, "ServerMessageEndOfCallReport")) == [
        "(root): 'analysis' is a required property",
        "cost: 'a lot' is not of type 'number'",
    ]


def test_it_accepts_a_delivery_with_the_shared_secret_and_a_signature(client, call):
    response = _deliver(client, _body("status-update-ringing", call))

    assert response.status_code == 200
    assert Call.objects.get(pk=call.pk).status == S.RINGING


@pytest.mark.parametrize(
    "headers", [{"Authorization": "Bearer shared-secret"}, {"X-Vapi-Secret": "shared-secret"}], ids=["bearer", "x-vapi"]
)
def test_it_accepts_the_shared_secret_alone_when_no_signature_is_configured(client, call, settings, headers):
    settings.VAPI_WEBHOOK_HMAC_SECRET = ""

    response = _post(client, _body("status-update-ringing", call), headers)

    assert response.status_code == 200


@pytest.mark.parametrize("scale", [1, 1000], ids=["seconds", "milliseconds"])
def test_it_accepts_a_signature_alone_when_no_shared_secret_is_configured(client, call, settings, scale):
    settings.VAPI_WEBHOOK_SECRET = ""
    body = _body("status-update-ringing", call)

    response = _post(client, body, webhook.sign(body, timestamp=int(time.time() * scale)))

    assert response.status_code == 200


def _without(headers: dict, name: str) -> dict:
    return {key: value for key, value in headers.items() if key != name}


REFUSED = {
    "no headers": lambda body: {},
    "secret without signature": lambda body: {"X-Vapi-Secret": "shared-secret"},
    "signature without secret": lambda body: _without(webhook.sign(body), "X-Vapi-Secret"),
    "wrong secret": lambda body: webhook.sign(body) | {"X-Vapi-Secret": "wrong-secret"},
    "secret with another scheme": lambda body: (
        _without(webhook.sign(body), "X-Vapi-Secret") | {"Authorization": "Token shared-secret"}
    ),
    "bad signature": lambda body: webhook.sign(body) | {"x-signature": "0" * 64},
    "no timestamp": lambda body: _without(webhook.sign(body), "x-timestamp"),
    "timestamp not a number": lambda body: webhook.sign(body) | {"x-timestamp": "soon"},
}


@pytest.mark.parametrize("headers_for", REFUSED.values(), ids=REFUSED.keys())
def test_it_refuses_a_delivery_that_fails_a_check_and_says_nothing(client, call, headers_for):
    body = _body("status-update-ringing", call)

    response = _post(client, body, headers_for(body))

    assert response.status_code == 401
    assert response.content == b""
    assert not CallEvent.objects.exists()


# A minute past the 300 s window either way, so a slow test run cannot drift into it.
@pytest.mark.parametrize("offset", [-360, 360], ids=["replayed", "from the future"])
def test_it_refuses_a_signature_outside_the_time_window(client, call, offset):
    body = _body("status-update-ringing", call)

    response = _post(client, body, webhook.sign(body, timestamp=int(time.time()) + offset))

    assert response.status_code == 401
    assert response.content == b""


def test_it_refuses_a_body_changed_after_signing(client, call):
    body = _body("status-update-ringing", call)
    headers = webhook.sign(body)

    response = _post(client, body.replace(b"ringing", b"in-progress"), headers)

    assert response.status_code == 401


def test_it_refuses_everything_when_no_secret_is_configured(client, call, settings, caplog):
    settings.APP_ENV = "production"
    settings.VAPI_WEBHOOK_SECRET = ""
    settings.VAPI_WEBHOOK_HMAC_SECRET = ""
    body = _body("status-update-ringing", call)

    with caplog.at_level(logging.WARNING, logger="telephony.webhook"):
        response = _post(client, body, {"X-Vapi-Secret": "", "Authorization": "Bearer "})

    assert response.status_code == 401
    assert response.content == b""
    assert "set VAPI_WEBHOOK_SECRET or VAPI_WEBHOOK_HMAC_SECRET" in caplog.text
    assert Call.objects.get(pk=call.pk).status == S.DIALING


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            b'{"message": {"type": "status-update"',
            "This is not valid JSON: Expecting ',' delimiter at line 1, column 37.",
        ),
        (b"\xff\xfe", "This is not valid JSON: Expecting value at line 1, column 1."),
        (b"[" * 50_000, "The JSON is nested more than 32 levels deep."),
        (b"[" * 1_000 + b"]" * 1_000, "The JSON is nested more than 32 levels deep."),
        (b'{"message": {"type": "status-update", "cost": NaN}}', "NaN is not a JSON number."),
        (b'{"message": {"type": "status-update", "cost": -Infinity}}', "-Infinity is not a JSON number."),
        (b'{"message": {"type": "status-update", "cost": 1e400}}', "The number 1e400 is too large."),
        (
            b'{"message": {"type": "status-update", "text": "ab\\ud800cd"}}',
            "The JSON holds text with an invalid character (a lone surrogate).",
        ),
        (b'["message"]', 'Expected a JSON object {"message": {...}}.'),
        (b'{"type": "status-update"}', 'Expected a JSON object {"message": {...}}.'),
        (b'{"message": {"status": "ringing"}}', "message.type is missing."),
    ],
    ids=[
        "truncated",
        "not utf-8",
        "too deep",
        "deep but closed",
        "NaN",
        "-Infinity",
        "beyond a float",
        "lone surrogate",
        "a list",
        "no envelope",
        "no type",
    ],
)
def test_it_answers_400_with_a_reason_for_a_malformed_delivery(client, call, body, detail):
    response = _deliver(client, body)

    assert response.status_code == 400
    assert response.json() == {"detail": detail}


@pytest.mark.parametrize(
    ("field", "value"),
    [("cost", 1e300), ("cost", -1), ("durationSeconds", 1e300), ("durationSeconds", -5)],
)
def test_it_answers_400_for_a_report_number_out_of_range_and_leaves_the_call(client, call, field, value, pipeline):
    report = message("end-of-call-report", call)
    report[field] = value

    response = _deliver(client, json.dumps({"message": report}).encode())

    assert response.status_code == 400
    assert response.json() == {"detail": f"message.{field} is out of range."}
    assert Call.objects.get(pk=call.pk).status == S.DIALING
    pipeline.assert_not_called()


def test_it_answers_413_when_content_length_is_over_the_limit(client, call, settings):
    settings.VAPI_WEBHOOK_MAX_BYTES = 1024
    body = json.dumps({"message": {"type": "status-update", "padding": "x" * 2000}}).encode()

    response = _deliver(client, body)

    assert response.status_code == 413


def test_it_answers_413_when_the_body_is_longer_than_content_length_says(call, settings):
    settings.VAPI_WEBHOOK_MAX_BYTES = 1024
    body = json.dumps({"message": {"type": "status-update", "padding": "x" * 2000}}).encode()
    request = RequestFactory().post(URL, data=body, content_type="application/json", headers=webhook.sign(body))
    request.META["CONTENT_LENGTH"] = "100"

    response = webhook.vapi_webhook(request)

    assert response.status_code == 413


def test_it_answers_200_to_a_message_type_it_does_not_use(client, call):
    response = _deliver(client, json.dumps({"message": {"type": "speech-update", "status": "started"}}).encode())

    assert response.status_code == 200
    assert not CallEvent.objects.exists()


def test_it_answers_200_for_an_unknown_call_and_creates_nothing(client, call):
    msg = message("status-update-ringing")
    msg["call"]["id"] = "vapi-unknown"
    msg["call"]["assistantOverrides"]["metadata"] = {"billingpulse_call_id": call.pk + 1000}

    response = _deliver(client, json.dumps({"message": msg}).encode())

    assert response.status_code == 200
    assert not CallEvent.objects.exists()
    assert Call.objects.count() == 1


def test_it_stores_a_duplicate_status_update_once(client, call):
    body = _body("status-update-in-progress", call)

    assert _deliver(client, body).status_code == 200
    assert _deliver(client, body).status_code == 200

    assert CallEvent.objects.filter(call=call).count() == 1
    assert Call.objects.get(pk=call.pk).status == S.IN_PROGRESS


def test_it_ends_the_call_on_a_report_before_the_final_status_and_never_goes_back(client, call, pipeline):
    _deliver(client, _body("end-of-call-report", call))
    _deliver(client, _body("status-update-ended", call))
    _deliver(client, _body("status-update-ringing", call))

    call.refresh_from_db()
    assert call.status == S.ENDED
    assert call.report_received_at is not None
    assert call.transcript
    assert call.events.count() == 3


def test_it_enqueues_the_post_call_pipeline_once_for_a_duplicate_report(
    client, call, pipeline, django_capture_on_commit_callbacks
):
    body = _body("end-of-call-report", call)

    with django_capture_on_commit_callbacks(execute=True):
        first = _deliver(client, body)
        second = _deliver(client, body)

    assert (first.status_code, second.status_code) == (200, 200)
    pipeline.assert_called_once_with(call.pk)
    assert CallEvent.objects.filter(call=call, kind="end-of-call-report").count() == 1


def test_it_answers_get_claim_details_with_that_calls_claim_only(client, call):
    practice_b = PracticeFactory(name="Bravo Orthopedics", npi="1987654328")
    patient_b = PatientFactory(practice=practice_b, first_name="Walter", last_name="Brightwood")
    claim_b = ClaimFactory(practice=practice_b, patient=patient_b, claim_number="CLM-BRAVO-9")
    call_b = CallFactory(
        practice=practice_b, claim=claim_b, provider=Call.Provider.VAPI, status=S.IN_PROGRESS, provider_call_id="vapi-b"
    )

    response = _deliver(client, _body("tool-calls", call))

    assert response.status_code == 200
    (answer,) = response.json()["results"]
    assert answer["toolCallId"] == "call_Q1w2E3r4T5y6U7i8O9p0"
    assert "Claim number: CLM-ALPHA-1" in answer["result"]
    assert "Patient name: Maria Lopez" in answer["result"]
    for text in ["Bravo", "CLM-BRAVO-9", "Brightwood", "1987654328"]:
        assert text not in response.content.decode()
    (answer_b,) = _deliver(client, _body("tool-calls", call_b)).json()["results"]
    assert "CLM-BRAVO-9" in answer_b["result"]
    assert "CLM-ALPHA-1" not in answer_b["result"]


def test_it_answers_405_to_other_methods(client):
    assert client.get(URL).status_code == 405


def test_it_signs_with_the_headers_the_settings_ask_for(settings):
    settings.VAPI_WEBHOOK_SECRET = ""
    assert set(webhook.sign(b"{}", timestamp=1)) == {"x-timestamp", "x-signature"}

    settings.VAPI_WEBHOOK_SECRET = "shared-secret"
    settings.VAPI_WEBHOOK_HMAC_SECRET = ""
    assert webhook.sign(b"{}") == {"X-Vapi-Secret": "shared-secret"}
