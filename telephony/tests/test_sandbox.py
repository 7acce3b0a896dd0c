"""The sandbox provider: simulated calls about one claim, reported through the real webhook."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from unittest import mock

import httpx
import pytest
import time_machine
from django.test import Client

from billingpulse.tests.factories import PatientFactory, PracticeFactory, ProviderFactory
from claims.tests.factories import ClaimFactory, ClaimLineFactory, InsurancePolicyFactory, PayerFactory
from telephony import sandbox
from telephony.models import Call, CallEvent
from telephony.sandbox.script import FAILURES, ClaimFacts, write_call
from telephony.tests.factories import CallFactory
from telephony.tests.fixtures import schema_errors

pytestmark = pytest.mark.django_db

PLACED = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
IDS = [f"sbx-test-{n:03d}" for n in range(60)]


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.SANDBOX_EVENT_DELAY_SECONDS = 3
    settings.VAPI_WEBHOOK_SECRET = "sandbox-shared-secret"
    settings.VAPI_WEBHOOK_HMAC_SECRET = "sandbox-hmac-secret"


@pytest.fixture
def claim():
    practice = PracticeFactory(name="Lakeview Family Medicine", npi="1457392816", tax_id="364817259")
    patient = PatientFactory(
        practice=practice, first_name="Eleanor", last_name="Whitfield", date_of_birth=date(1954, 3, 14)
    )
    payer = PayerFactory(
        practice=practice,
        name="Aetna",
        phone="+18005550142",
        ivr_config={
            "steps": [
                {
                    "prompt": "For eligibility press 1, for claim status press 2",
                    "options": {"1": "eligibility", "2": "claims"},
                },
                {"prompt": "Please say the reason for your call", "say": "Claim status"},
            ]
        },
    )
    claim = ClaimFactory(
        practice=practice,
        patient=patient,
        payer=payer,
        provider=ProviderFactory(practice=practice, npi="1093817465"),
        policy=InsurancePolicyFactory(practice=practice, patient=patient, payer=payer, member_id="W482019375"),
        claim_number="RB-24017",
        service_date_from=date(2026, 9, 3),
        total_charge=Decimal("285.00"),
    )
    ClaimLineFactory(claim=claim, line_number=1, procedure_code="99213", charge=Decimal("150.00"))
    ClaimLineFactory(claim=claim, line_number=2, procedure_code="93000", charge=Decimal("135.00"))
    return claim


@pytest.fixture
def other_claim(claim):
    patient = PatientFactory(practice=claim.practice, first_name="Gregory", last_name="Lindqvist")
    return ClaimFactory(
        practice=claim.practice,
        patient=patient,
        payer=claim.payer,
        policy=InsurancePolicyFactory(
            practice=claim.practice, patient=patient, payer=claim.payer, member_id="X99887766"
        ),
        claim_number="ZZ-99001",
    )


def _call(claim, **fields) -> Call:
    fields.setdefault("status", Call.Status.DIALING)
    fields.setdefault("placed_at", PLACED)
    fields.setdefault("provider_call_id", None)
    return CallFactory(practice=claim.practice, claim=claim, transcript="", **fields)


def _scripts(claim, ids=IDS):
    facts = ClaimFacts.for_claim(claim)
    return {provider_id: write_call(facts, provider_id, call_date=date(2026, 11, 20)) for provider_id in ids}


def _spoken_text(script) -> str:
    return "\n".join(turn.text for turn in script.turns)


# The conversation


def test_it_speaks_the_claims_facts_and_gets_a_reference_number(claim):
    answered = [script for script in _scripts(claim).values() if script.outcome not in FAILURES]

    assert len(answered) > 20
    for script in answered:
        text = _spoken_text(script)
        assert "Eleanor Whitfield" in text
        assert "RB-24017" in text
        assert "1-0-9-3-8-1-7-4-6-5" in text  # the rendering provider's NPI, digit by digit
        assert "W-4-8-2-0-1-9-3-7-5" in text
        assert "Lakeview Family Medicine" in text
        assert script.rep_name and script.rep_name in text
        assert script.reference_number.isalnum() and script.reference_number.upper() == script.reference_number
        assert script.reference_spoken in text
        assert script.reference_number in script.summary


def test_it_spells_some_reference_numbers_phonetically(claim):
    spoken = [script.reference_spoken for script in _scripts(claim).values() if script.reference_spoken]

    assert any(" as in " in text for text in spoken)
    assert any(" as in " not in text for text in spoken)


def test_it_is_deterministic_per_call_id(claim):
    first, second = _scripts(claim, IDS[:5]), _scripts(claim, IDS[:5])

    assert first == second


def test_it_gives_different_outcomes_for_different_calls(claim):
    outcomes = Counter(script.outcome for script in _scripts(claim).values())

    assert len(outcomes) >= 6
    assert {"paid", "denied", "in_process"} <= set(outcomes)


def test_it_never_speaks_another_claims_data(claim, other_claim):
    for script in _scripts(claim).values():
        text = _spoken_text(script) + script.summary
        for fact in ["Gregory", "Lindqvist", "ZZ-99001", "X99887766", "X-9-9-8-8-7-7-6-6"]:
            assert fact not in text


def test_it_follows_the_payers_phone_menu(claim):
    script = next(s for s in _scripts(claim).values() if s.outcome not in {"no_answer", "voicemail", "ivr_failure"})
    turns = [(turn.role, turn.text) for turn in script.turns]

    menu = turns.index(("user", "For eligibility press 1, for claim status press 2"))
    assert turns[menu + 1] == ("dtmf", "2")
    assert turns[menu + 2] == ("user", "Please say the reason for your call")
    assert turns[menu + 3] == ("bot", "Claim status")


def test_it_reports_the_claims_own_denial_code(claim):
    claim.denial_code = "CO-97"
    claim.save()
    denied = [s for s in _scripts(claim).values() if s.outcome == "denied"]

    assert denied
    assert all("CO-97" in script.summary for script in denied)


def test_it_says_when_to_call_back(claim):
    later = [s for s in _scripts(claim).values() if s.outcome in {"in_process", "reprocessing"}]

    assert later
    for script in later:
        assert script.facts_said["follow_up_days"] in {7, 10, 14, 15, 21, 30}
        assert f"call back in {script.facts_said['follow_up_days']} days" in script.summary


def test_it_sometimes_fails_like_real_calls(claim):
    failures = {s.outcome: s for s in _scripts(claim, [f"sbx-fail-{n}" for n in range(300)]).values()}

    assert failures["no_answer"].ended_reason in {"customer-did-not-answer", "customer-busy"}
    assert failures["no_answer"].turns == []
    assert failures["voicemail"].ended_reason == "voicemail"
    assert "leave your name" in _spoken_text(failures["voicemail"])
    assert failures["hold_too_long"].ended_reason == "exceeded-max-duration"
    assert "couldn't find that provider" in _spoken_text(failures["ivr_failure"])


# The messages


def _messages(call, provider_id) -> list[dict]:
    with time_machine.travel(PLACED + timedelta(seconds=1), tick=False):
        steps = len(sandbox._plan(sandbox.simulate(call, provider_id)[0]))
        return [sandbox.event_message(call, provider_id, step) for step in range(1, steps + 1)]


def test_its_messages_match_vapis_schemas(claim):
    call = _call(claim)
    for provider_id in IDS[:12]:
        for message in _messages(call, provider_id):
            schema = (
                "ServerMessageStatusUpdate" if message["type"] == "status-update" else "ServerMessageEndOfCallReport"
            )
            assert schema_errors(message, schema) == []
            assert schema_errors(message["call"], "Call") == []


def test_it_sends_ringing_in_progress_ended_and_the_report(claim):
    call = _call(claim)
    provider_id = next(i for i, s in _scripts(claim).items() if s.outcome == "paid")

    messages = _messages(call, provider_id)

    assert [(m["type"], m.get("status")) for m in messages] == [
        ("status-update", "ringing"),
        ("status-update", "in-progress"),
        ("status-update", "ended"),
        ("end-of-call-report", None),
    ]
    report = messages[-1]
    assert report["call"]["id"] == provider_id
    assert report["call"]["assistantOverrides"]["metadata"]["billingpulse_call_id"] == call.pk
    assert report["endedReason"] in {"assistant-ended-call", "customer-ended-call"}
    assert report["startedAt"] == "2026-11-20T16:00:06.000Z"  # placed, plus two event delays
    assert report["cost"] > 0
    transcript = report["artifact"]["transcript"]
    assert transcript.startswith("User: ") and "\nAI: " in transcript
    roles = {m["role"] for m in report["artifact"]["messages"]}
    assert {"system", "bot", "user", "tool_calls", "tool_call_result"} <= roles
    dtmf = next(m for m in report["artifact"]["messages"] if m["role"] == "tool_calls")
    assert json.loads(dtmf["toolCalls"][0]["function"]["arguments"]) == {"keys": "2"}
    assert "RB-24017" in report["analysis"]["summary"]


def test_a_call_nobody_answers_skips_in_progress(claim):
    call = _call(claim)
    provider_id = next(
        i for i, s in _scripts(claim, [f"sbx-na-{n}" for n in range(300)]).items() if s.outcome == "no_answer"
    )

    messages = _messages(call, provider_id)

    assert [m.get("status") for m in messages] == ["ringing", "ended", None]
    assert messages[1]["endedReason"] in {"customer-did-not-answer", "customer-busy"}
    assert messages[-1]["artifact"] == {"messages": [], "transcript": ""}


# The provider


def test_it_starts_a_call_and_schedules_its_events_after_commit(claim, django_capture_on_commit_callbacks):
    call = _call(claim)
    with mock.patch("telephony.sandbox.deliver_event.apply_async") as apply_async:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            provider_id = sandbox.SandboxProvider().start_call(call)
        assert apply_async.call_count == 0
        for callback in callbacks:
            callback()

    assert provider_id.startswith("sbx-")
    script = sandbox.simulate(call, provider_id)[0]
    expected = 4 if script.answered else 3
    assert [c.kwargs for c in apply_async.call_args_list] == [
        {"args": (call.pk, provider_id, step), "countdown": 3 * step} for step in range(1, expected + 1)
    ]


def test_fetch_call_answers_like_vapi_as_the_call_goes_on(claim):
    provider_id = next(i for i, s in _scripts(claim).items() if s.outcome == "paid")
    _call(claim, provider_call_id=provider_id)
    provider = sandbox.SandboxProvider()

    with time_machine.travel(PLACED + timedelta(seconds=7), tick=False):
        assert provider.fetch_call(provider_id)["status"] == "in-progress"
    with time_machine.travel(PLACED + timedelta(seconds=10), tick=False):
        ended = provider.fetch_call(provider_id)

    assert ended["status"] == "ended"
    assert "RB-24017" in ended["analysis"]["summary"]
    assert ended["artifact"]["transcript"]
    assert schema_errors(ended, "Call") == []
    assert provider.fetch_call("sbx-unknown") is None
    assert provider.find_call(Call.objects.get(provider_call_id=provider_id)) is None


# Delivery through the webhook


@pytest.fixture
def through_the_webhook(monkeypatch):
    """Deliveries go through Django's test client to the real webhook view (signature checks included)."""
    client, answers = Client(), []

    def deliver(body: bytes, headers: dict) -> None:
        response = client.post("/api/webhooks/vapi", data=body, content_type="application/json", headers=headers)
        answers.append(response.status_code)

    monkeypatch.setattr(sandbox, "deliver", deliver)
    with mock.patch("telephony.tasks.run_post_call_pipeline.delay"):
        yield answers


def test_its_events_end_the_call_with_the_report_stored(claim, through_the_webhook):
    provider_id = next(i for i, s in _scripts(claim).items() if s.outcome == "denied")
    call = _call(claim, provider_call_id=provider_id)

    for step in range(1, 5):
        with time_machine.travel(PLACED + timedelta(seconds=3 * step), tick=False):
            sandbox.deliver_event(call.pk, provider_id, step)

    assert through_the_webhook == [200, 200, 200, 200]
    call.refresh_from_db()
    assert call.status == Call.Status.ENDED
    assert call.started_at == PLACED + timedelta(seconds=6)
    assert call.report_received_at is not None
    assert "Eleanor Whitfield" in call.transcript
    assert call.messages[0]["role"] == "system"
    assert "denied" in call.summary
    assert call.duration_seconds > 60
    assert call.cost > 0
    assert list(CallEvent.objects.filter(call=call).values_list("kind", flat=True)) == [
        "status-update",
        "status-update",
        "status-update",
        "end-of-call-report",
    ]


def test_a_forged_delivery_is_refused(claim, through_the_webhook, monkeypatch):
    provider_id = IDS[0]
    call = _call(claim, provider_call_id=provider_id)
    monkeypatch.setattr("telephony.webhook.sign", lambda body: {"x-timestamp": "1", "x-signature": "0" * 64})

    sandbox.deliver_event(call.pk, provider_id, 1)

    assert through_the_webhook == [401]
    assert not CallEvent.objects.filter(call=call).exists()


def test_it_drops_events_of_a_deleted_call(claim, through_the_webhook):
    call = _call(claim, provider_call_id=IDS[0])
    call_id = call.pk
    call.delete()

    sandbox.deliver_event(call_id, IDS[0], 1)

    assert through_the_webhook == []


def test_it_retries_while_the_web_server_is_not_answering(monkeypatch):
    attempts = []

    def deliver(body, headers):
        attempts.append(body)
        if len(attempts) < 3:
            raise httpx.ConnectError("connection refused")

    monkeypatch.setattr(sandbox, "deliver", deliver)
    monkeypatch.setattr(sandbox.time, "sleep", lambda seconds: None)

    sandbox.send(b"{}", {})

    assert len(attempts) == 3


def test_it_gives_up_after_its_retries(monkeypatch):
    monkeypatch.setattr(sandbox, "deliver", mock.Mock(side_effect=httpx.ConnectError("connection refused")))
    monkeypatch.setattr(sandbox.time, "sleep", lambda seconds: None)

    with pytest.raises(httpx.ConnectError):
        sandbox.send(b"{}", {})

    assert sandbox.deliver.call_count == len(sandbox.RETRY_PAUSES) + 1


def test_deliver_posts_to_the_webhook_url(settings, httpserver):
    settings.SITE_URL = httpserver.url_for("").rstrip("/")
    httpserver.expect_oneshot_request(
        "/api/webhooks/vapi", method="POST", headers={"x-signature": "abc"}
    ).respond_with_data("{}")

    sandbox.deliver(b'{"message": {}}', {"x-signature": "abc"})

    httpserver.check_assertions()


def test_deliver_raises_on_a_server_error_so_it_is_retried(settings, httpserver):
    settings.SITE_URL = httpserver.url_for("").rstrip("/")
    httpserver.expect_request("/api/webhooks/vapi").respond_with_data("starting", status=503)

    with pytest.raises(sandbox.DeliveryError):
        sandbox.deliver(b"{}", {})
