"""The sandbox voice platform: simulated payer calls that report back through our own webhook.

With no Vapi keys, ``SandboxProvider`` stands in for Vapi end to end:

1. ``start_call`` returns an id (``sbx-<uuid>``) and, once the caller's transaction
   commits, schedules one ``deliver_event`` task per event, ``SANDBOX_EVENT_DELAY_SECONDS``
   apart: ``status-update`` ringing, in-progress and ended, then the ``end-of-call-report``
   (a call nobody answers skips in-progress).
2. Each task rebuilds the simulated call from the claim and the id (``script.write_call``
   is deterministic), builds the message in Vapi's shape, signs it with
   ``telephony.webhook.sign`` and POSTs it to ``SITE_URL + /api/webhooks/vapi``: the same
   view, verification and ingestion as a real Vapi delivery.
3. ``fetch_call`` answers like ``GET /call/{id}`` from the same simulation, so the
   reconciler also works for sandbox calls whose events were lost.

Only ids travel through the broker; the claim's facts are read when an event is built.
Tests replace ``deliver`` (the HTTP POST), ``schedule`` (the Celery scheduling) or
``new_call_id`` (to pick the simulated call).

The simulated call keeps a real call's length (a payer call with hold takes minutes) but
its events arrive seconds apart, so the call's timeline is compressed: it starts when the
in-progress event is sent and its ``endedAt`` may lie some minutes ahead of the clock.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from zoneinfo import ZoneInfo

import httpx
from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billingpulse.lib.tasks import TRANSIENT_ERRORS
from telephony.models import Call
from telephony.prompts import call_metadata, webhook_url
from telephony.sandbox.script import ClaimFacts, ScriptedCall, write_call

logger = logging.getLogger(__name__)

# Pauses between delivery attempts when the web server does not answer (it may be starting).
RETRY_PAUSES = (0.5, 1.0, 2.0, 4.0, 8.0)
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://billingpulse.example/telephony/sandbox")
ORG_ID = str(uuid.uuid5(_NAMESPACE, "org"))
ASSISTANT_ID = str(uuid.uuid5(_NAMESPACE, "assistant"))
PHONE_NUMBER_ID = str(uuid.uuid5(_NAMESPACE, "phone-number"))
PHONE_NUMBER = {
    "id": PHONE_NUMBER_ID,
    "orgId": ORG_ID,
    "provider": "vapi",
    "number": "+15555550100",
    "name": "Sandbox outbound line",
}
SYSTEM_PROMPT = (
    "You call health plan provider services on behalf of a medical practice to check the status of one claim. "
    "Navigate the phone menu with the dtmf tool, wait on hold silently, verify with the claim facts you were "
    "given and nothing else, and always get the representative's name and a call reference number."
)
# USD per minute: the phone line, and Vapi's platform fee (model, voice and transcriber included here).
RATES = {"transport": "0.0140", "vapi": "0.1160"}


class DeliveryError(Exception):
    """The webhook answered with a server error; worth another try."""


class SandboxProvider:
    name = "sandbox"

    def start_call(self, call: Call) -> str:
        provider_call_id = new_call_id()
        steps = len(_plan(simulate(call, provider_call_id)[0]))
        # After commit: the caller stores the id with the call, and the events must find it.
        transaction.on_commit(partial(schedule, call.pk, provider_call_id, steps))
        return provider_call_id

    def fetch_call(self, provider_call_id: str) -> dict | None:
        call = _load(Call.objects.filter(provider_call_id=provider_call_id))
        if call is None:
            return None
        script, times = simulate(call, provider_call_id)
        status = times.status_at(timezone.now())
        body = _call_object(call, provider_call_id, script, times, status)
        if status == "ended":
            body |= _report_fields(script, times, provider_call_id)
        return body

    def find_call(self, call: Call) -> dict | None:
        # start_call cannot fail half-way: there is never a sandbox call we did not hear about.
        return None


def new_call_id() -> str:
    """A fresh sandbox call id; the simulated call is derived from it."""
    return f"sbx-{uuid.uuid4()}"


def schedule(call_id: int, provider_call_id: str, steps: int) -> None:
    """Queue the call's events, one Celery task each, spaced by the sandbox delay."""
    delay = max(settings.SANDBOX_EVENT_DELAY_SECONDS, 0)
    for step in range(1, steps + 1):
        deliver_event.apply_async(args=(call_id, provider_call_id, step), countdown=delay * step)


# The event is built from the database; a locked or lost one is worth another try.
@shared_task(
    name="telephony.sandbox.deliver_event",
    ignore_result=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
)
def deliver_event(call_id: int, provider_call_id: str, step: int) -> None:
    """Build event number ``step`` of a sandbox call and post it to our webhook, signed."""
    body = event_body(call_id, provider_call_id, step)
    if body is None:
        return
    from telephony.webhook import sign

    send(body, sign(body))


def event_body(call_id: int, provider_call_id: str, step: int) -> bytes | None:
    """The JSON body of event ``step`` (1-based), or None if the call or the step is gone."""
    call = _load(Call.objects.filter(pk=call_id))
    if call is None:
        logger.info("Sandbox call %s no longer exists; event %s dropped", call_id, step)
        return None
    message = event_message(call, provider_call_id, step)
    return None if message is None else json.dumps({"message": message}).encode()


def event_message(call: Call, provider_call_id: str, step: int) -> dict | None:
    script, times = simulate(call, provider_call_id)
    plan = _plan(script)
    if not 1 <= step <= len(plan):
        return None
    kind, status = plan[step - 1]
    message = {
        "timestamp": int(timezone.now().timestamp() * 1000),
        "type": kind,
        "call": _call_object(call, provider_call_id, script, times, status),
        "phoneNumber": PHONE_NUMBER,
        "customer": _customer(call),
    }
    if kind == "status-update":
        message["status"] = status
        if status == "ended":
            message["endedReason"] = script.ended_reason
    else:
        message |= _report_fields(script, times, provider_call_id)
    return message


def send(body: bytes, headers: dict[str, str]) -> None:
    """``deliver`` with retries: the web server may be starting or restarting."""
    for pause in (*RETRY_PAUSES, None):
        try:
            deliver(body, headers)
            return
        except (httpx.TransportError, DeliveryError) as error:
            if pause is None:
                raise
            logger.warning("Sandbox webhook delivery failed (%s); retrying in %ss", error, pause)
            time.sleep(pause)


def deliver(body: bytes, headers: dict[str, str]) -> None:
    """POST one event to our webhook as Vapi would. Tests replace this function."""
    response = httpx.post(
        webhook_url(),
        content=body,
        headers={"Content-Type": "application/json", **headers},
        timeout=10,
    )
    if response.status_code >= 500:
        raise DeliveryError(f"webhook answered {response.status_code}")
    if response.status_code >= 400:
        # Our own webhook refused it (secrets, payload): retrying will not help.
        logger.error("Sandbox webhook delivery refused: %s %s", response.status_code, response.text[:200])


# -- The simulation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Timeline:
    """When a sandbox call's events happen, from the moment it was placed."""

    placed: datetime
    delay: int
    answered: bool
    ring_seconds: float
    duration_seconds: float

    @property
    def started(self) -> datetime:
        return self.placed + timedelta(seconds=2 * self.delay)

    @property
    def ended(self) -> datetime:
        if not self.answered:
            return self.placed + timedelta(seconds=self.delay + self.ring_seconds)
        return self.started + timedelta(seconds=self.duration_seconds)

    @property
    def ended_event_at(self) -> datetime:
        return self.placed + timedelta(seconds=self.delay * (3 if self.answered else 2))

    def status_at(self, moment: datetime) -> str:
        if moment >= self.ended_event_at:
            return "ended"
        if self.answered and moment >= self.started:
            return "in-progress"
        return "ringing" if moment >= self.placed + timedelta(seconds=self.delay) else "queued"


def simulate(call: Call, provider_call_id: str) -> tuple[ScriptedCall, Timeline]:
    """The whole simulated call: what is said, and when. Same call and id, same result."""
    placed = call.placed_at or call.created_at or timezone.now()
    call_date = timezone.localtime(placed, ZoneInfo(call.practice.time_zone)).date()
    script = write_call(
        ClaimFacts.for_claim(call.claim),
        provider_call_id,
        call_date=call_date,
        max_duration=settings.CALL_MAX_DURATION_SECONDS,
    )
    times = Timeline(
        placed=placed,
        delay=max(settings.SANDBOX_EVENT_DELAY_SECONDS, 0),
        answered=script.answered,
        ring_seconds=script.ring_seconds,
        duration_seconds=script.duration_seconds,
    )
    return script, times


def _plan(script: ScriptedCall) -> list[tuple[str, str]]:
    steps = [("status-update", "ringing")]
    if script.answered:
        steps.append(("status-update", "in-progress"))
    return [*steps, ("status-update", "ended"), ("end-of-call-report", "ended")]


def _load(queryset) -> Call | None:
    return queryset.select_related("practice", "payer", "claim__practice", "claim__payer", "claim__patient").first()


def _customer(call: Call) -> dict:
    customer = {"number": call.payer.phone or "+15555550199", "name": call.payer.name}
    if call.payer.phone_extension:
        customer["extension"] = call.payer.phone_extension
    return customer


def _call_object(call: Call, provider_call_id: str, script: ScriptedCall, times: Timeline, status: str) -> dict:
    """Vapi's ``Call`` as it stands at ``status``; our call id comes back in the overrides' metadata."""
    body = {
        "id": provider_call_id,
        "orgId": ORG_ID,
        "type": "outboundPhoneCall",
        "createdAt": _iso(times.placed),
        "updatedAt": _iso(max(times.placed, timezone.now())),
        "status": status,
        "phoneCallProvider": "vapi",
        "phoneCallTransport": "pstn",
        "assistantId": ASSISTANT_ID,
        "assistantOverrides": {"metadata": call_metadata(call)},
        "phoneNumberId": PHONE_NUMBER_ID,
        "customer": _customer(call),
        "name": f"claim-status {call.pk}",
    }
    if script.answered and status in {"in-progress", "ended"}:
        body["startedAt"] = _iso(times.started)
    if status == "ended":
        body |= {"endedAt": _iso(times.ended), "endedReason": script.ended_reason}
    return body


def _report_fields(script: ScriptedCall, times: Timeline, provider_call_id: str) -> dict:
    """What an end-of-call report (and a finished ``GET /call``) adds: artifact, analysis, cost."""
    messages = _messages(script, times, provider_call_id)
    transcript = "".join(
        f"{'AI' if turn.role == 'bot' else 'User'}: {turn.text}\n" for turn in script.turns if turn.role != "dtmf"
    )
    minutes = Decimal(str(script.duration_seconds)) / 60
    costs = [
        {"type": kind, "minutes": round(float(minutes), 4), "cost": round(float(minutes * Decimal(rate)), 4)}
        for kind, rate in RATES.items()
    ]
    costs[0]["provider"], costs[1]["subType"] = "twilio", "normal"
    # Vapi skips the analysis when a call has too few messages (a call nobody answered).
    analysis = {"summary": script.summary, "successEvaluation": "true"} if script.answered else {}
    if script.outcome in {"voicemail", "ivr_failure", "hold_too_long"}:
        analysis["successEvaluation"] = "false"
    started = _iso(times.started) if script.answered else _iso(times.ended)
    return {
        "endedReason": script.ended_reason,
        "startedAt": started,
        "endedAt": _iso(times.ended),
        "cost": round(sum(item["cost"] for item in costs), 4),
        "costs": costs,
        "artifact": {"messages": messages, "transcript": transcript},
        "analysis": analysis,
        "durationSeconds": script.duration_seconds,
        "durationMs": int(script.duration_seconds * 1000),
        "durationMinutes": round(float(minutes), 4),
        "summary": analysis.get("summary", ""),
        "transcript": transcript,
    }


def _messages(script: ScriptedCall, times: Timeline, provider_call_id: str) -> list[dict]:
    """``artifact.messages``: the prompt, each spoken turn, and the DTMF and end-call tool calls."""
    if not script.answered:
        return []
    start_ms = int(times.started.timestamp() * 1000)
    messages: list[dict] = [
        {"role": "system", "message": SYSTEM_PROMPT, "time": start_ms, "secondsFromStart": 0},
    ]
    for index, turn in enumerate(script.turns):
        at = start_ms + int(turn.seconds_from_start * 1000)
        if turn.role == "dtmf":
            tool_call = _tool_call(f"{provider_call_id}:{index}", "dtmf", {"keys": turn.text}, "Sent.")
            messages.extend(_stamped(tool_call, start_ms, turn.seconds_from_start))
            continue
        message = {
            "role": turn.role,
            "message": turn.text,
            "time": at,
            "endTime": at + int(turn.duration * 1000),
            "secondsFromStart": turn.seconds_from_start,
            "duration": int(turn.duration * 1000),
        }
        if turn.role == "bot":
            message["source"] = ""
        messages.append(message)
    if script.ended_reason == "assistant-ended-call" and script.turns:
        last = script.turns[-1]
        tool_call = _tool_call(f"{provider_call_id}:end", "endCall", {}, "Call ended.")
        messages.extend(_stamped(tool_call, start_ms, last.seconds_from_start + last.duration + 0.4))
    return messages


def _tool_call(key: str, name: str, arguments: dict, result: str) -> list[dict]:
    """A tool call and its result, as ``artifact.messages`` records them (arguments as a JSON string)."""
    tool_call_id = "call_" + hashlib.sha256(key.encode()).hexdigest()[:24]
    function = {"name": name, "arguments": json.dumps(arguments)}
    return [
        {
            "role": "tool_calls",
            "message": "",
            "toolCalls": [{"id": tool_call_id, "type": "function", "function": function}],
        },
        {"role": "tool_call_result", "toolCallId": tool_call_id, "name": name, "result": result},
    ]


def _stamped(messages: list[dict], start_ms: int, seconds: float) -> list[dict]:
    """Give each message its time, a moment apart."""
    return [
        {**message, "time": start_ms + int((seconds + 0.3 * n) * 1000), "secondsFromStart": round(seconds + 0.3 * n, 2)}
        for n, message in enumerate(messages)
    ]


def _iso(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
