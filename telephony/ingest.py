"""Turn a voice-platform message into stored events and call updates.

The one code path for what Vapi (or the sandbox) tells us about a call: the webhook view
calls ``ingest_message`` after verifying a delivery, the reconciler after fetching a call
whose webhooks were lost (``messages_from_vapi_call``), and the sandbox for its simulated
calls. The rules hold whoever calls:

* every message is stored once as a ``CallEvent`` (``dedupe_key``); a duplicate delivery
  answers 200 and changes nothing;
* status only moves forward along ``telephony.status`` (an UPDATE conditional on the call
  being in a status that may move there), so a late ``ringing`` never undoes ``ended``;
* the end-of-call report is applied once, whatever order it arrives in, and only then is the
  post-call pipeline enqueued (after commit).
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from django.db import IntegrityError, connections, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from billingpulse.encryption import json_text_to_stored, to_stored
from telephony import prompts
from telephony.models import Call, CallEvent
from telephony.status import ACTIVE, CallStatus, FailureCategory, can_move

logger = logging.getLogger(__name__)

# Vapi's call statuses → ours. Others (scheduled, not-found, deletion-failed) are stored only.
VAPI_STATUS = {
    "queued": CallStatus.DIALING,
    "ringing": CallStatus.RINGING,
    "in-progress": CallStatus.IN_PROGRESS,
    "forwarding": CallStatus.IN_PROGRESS,
    "ended": CallStatus.ENDED,
}
MAX_COST = Decimal("999999.9999")
# A week: longer than any call, and within the duration column's range.
MAX_DURATION_SECONDS = 7 * 24 * 60 * 60


@dataclass(frozen=True)
class IngestResult:
    status_code: int
    body: dict


class BadMessage(ValueError):
    """A message we recognise but cannot use: answered 400 with this reason."""


def ingest_message(message: Any) -> IngestResult:
    """Apply one server message (the ``message`` object of a Vapi delivery); return the HTTP answer."""
    if not isinstance(message, dict) or not isinstance(message.get("type"), str) or not message["type"]:
        return IngestResult(400, {"detail": "message.type is missing."})
    handler = _HANDLERS.get(message["type"])
    if handler is None:
        return IngestResult(200, {})
    try:
        return handler(message)
    except BadMessage as error:
        logger.info("Vapi %s message refused: %s", message["type"], error)
        return IngestResult(400, {"detail": str(error)})


def messages_from_vapi_call(vapi_call: dict) -> list[dict]:
    """The messages Vapi would have sent about ``vapi_call`` (a ``GET /call/{id}`` answer) by now.

    A status update for its current status and, once it has ended, the end-of-call report
    built from the same fields; their dedupe keys match the real webhooks', so whichever
    arrives second changes nothing.
    """
    status = vapi_call.get("status")
    if not isinstance(status, str) or not status:
        return []
    update: dict = {"type": "status-update", "status": status, "call": vapi_call}
    if status != "ended":
        return [update]
    ended_reason = vapi_call.get("endedReason") or "unknown"
    update["endedReason"] = ended_reason
    report = {
        "type": "end-of-call-report",
        "endedReason": ended_reason,
        "artifact": vapi_call.get("artifact") or {},
        "analysis": vapi_call.get("analysis") or {},
        "call": vapi_call,
    }
    for key in ("cost", "costs", "startedAt", "endedAt"):
        if vapi_call.get(key) is not None:
            report[key] = vapi_call[key]
    return [update, report]


def our_call_id(vapi_call: Any) -> tuple[int | None, int | None]:
    """Our call id and practice id from the metadata we sent with the call, if it carries them."""
    if not isinstance(vapi_call, dict):
        return None, None
    for holder in ("assistantOverrides", "assistant"):
        section = vapi_call.get(holder)
        metadata = section.get("metadata") if isinstance(section, dict) else None
        if isinstance(metadata, dict) and prompts.CALL_ID_KEY in metadata:
            return _int_or_none(metadata.get(prompts.CALL_ID_KEY)), _int_or_none(metadata.get(prompts.PRACTICE_ID_KEY))
    # Should Vapi ever stop echoing the overrides, the customer's external id still names the call.
    customer = vapi_call.get("customer")
    external_id = customer.get("externalId") if isinstance(customer, dict) else None
    if isinstance(external_id, str) and external_id.startswith(prompts.EXTERNAL_ID_PREFIX):
        return _int_or_none(external_id.removeprefix(prompts.EXTERNAL_ID_PREFIX)), None
    return None, None


def failure_category(ended_reason: str) -> FailureCategory:
    """The bucket a call's ending falls into, from Vapi's ``endedReason`` (over 600 values, in families)."""
    category = _ENDED_REASONS.get(ended_reason)
    if category is not None:
        return category
    for prefix, family_category in _ENDED_REASON_FAMILIES:
        if ended_reason.startswith(prefix):
            return family_category
    if any(word in ended_reason for word in ("error", "fault", "failed")):
        return FailureCategory.PROVIDER_ERROR
    logger.warning("Unknown Vapi endedReason %r, treated as a normal end", ended_reason)
    return FailureCategory.NONE


def advance_status(call: Call, target: str, **fields: Any) -> bool:
    """Move ``call`` to ``target`` (with ``fields``) if the status machine allows it from where it is now.

    One UPDATE whose condition is every status that may move to ``target``: the database
    checks it against the row as it is when the row is locked, so two deliveries racing
    each other cannot move the call backwards, and nothing is read first.
    """
    now = timezone.now()
    changed = Call.objects.filter(pk=call.pk, status__in=_sources(target)).update(
        status=target, status_changed_at=now, updated_at=now, **fields
    )
    if changed:
        call.status = target
    return bool(changed)


def mark_failed(call: Call, category: str, error: str) -> bool:
    """End an active call as failed (it was never placed, or the platform lost it)."""
    return advance_status(call, CallStatus.FAILED, failure_category=category, last_error=error, ended_at=timezone.now())


def _status_update(message: dict) -> IngestResult:
    status = _str(message, "status", required=True)
    call_obj = _call_object(message)
    target = VAPI_STATUS.get(status)
    fields = _status_fields(message, call_obj, target)
    call = _find_call(message, call_obj)
    if call is None:
        return _unknown_call(message, call_obj)
    if call.started_at is not None:
        fields.pop("started_at", None)
    with transaction.atomic():
        if not _store_event(call, "status-update", f"{call.pk}:status-update:{status}", message):
            return IngestResult(200, {"duplicate": True})
        if target is not None:
            advance_status(call, target, **fields)
    return IngestResult(200, {})


def _status_fields(message: dict, call_obj: dict, target: str | None) -> dict[str, Any]:
    """What a status update tells us besides the status: when the call started, or how it ended."""
    if target == CallStatus.IN_PROGRESS:
        return {"started_at": _when(call_obj, "startedAt", "message.call") or _message_time(message)}
    if target != CallStatus.ENDED:
        return {}
    fields: dict[str, Any] = {"ended_at": _when(call_obj, "endedAt", "message.call") or _message_time(message)}
    ended_reason = _str(message, "endedReason") or _str(call_obj, "endedReason", where="message.call")
    if ended_reason:
        fields["ended_reason"] = ended_reason[:200]
        fields["failure_category"] = failure_category(ended_reason)
    return fields


def _end_of_call_report(message: dict) -> IngestResult:
    call_obj = _call_object(message)
    fields = _report_fields(message, call_obj)
    if connections[Call.objects.db].vendor == "postgresql":
        stored = _store_report_in_one_statement(message, call_obj, fields)
        if stored is not None:
            return stored
    call = _find_call(message, call_obj)
    if call is None:
        return _unknown_call(message, call_obj)
    with transaction.atomic():
        if not _store_event(call, "end-of-call-report", f"{call.pk}:end-of-call-report", message):
            return IngestResult(200, {"duplicate": True})
        now = timezone.now()
        # The report is the platform's final word on the call, so its facts replace any a
        # status update wrote (except times it does not give); the status only moves forward.
        if fields["started_at"] is None:
            del fields["started_at"]
        if fields["ended_at"] is None:
            fields["ended_at"] = call.ended_at or _message_time(message)
        if fields["duration_seconds"] is None:
            fields["duration_seconds"] = _duration({}, fields.get("started_at") or call.started_at, fields["ended_at"])
        # One statement: the report's fields always, the status only if it may still become ended.
        ending = Q(status__in=_sources(CallStatus.ENDED))
        Call.objects.filter(pk=call.pk).update(
            report_received_at=now,
            updated_at=now,
            status=Case(When(ending, then=Value(CallStatus.ENDED)), default=F("status")),
            status_changed_at=Case(When(ending, then=Value(now)), default=F("status_changed_at")),
            **fields,
        )
        call_id = call.pk
        transaction.on_commit(lambda: _enqueue_pipeline(call_id), robust=True)
    return IngestResult(200, {})


# The end-of-call report in one statement: find the call by Vapi's id, store the event unless its
# dedupe key is taken, and apply the report to the call only if the event was new. The same
# rules as the ORM path below it, in SQL; see _store_report_in_one_statement.
_REPORT_SQL = """
WITH target AS (
    SELECT id, practice_id FROM {call} WHERE provider_call_id = %(provider_id)s
), event AS (
    INSERT INTO {event} (call_id, kind, dedupe_key, payload, received_at)
    SELECT id, 'end-of-call-report', id || ':end-of-call-report', %(payload)s::jsonb, %(now)s
    FROM target
    WHERE (%(ours)s::bigint IS NULL OR id = %(ours)s::bigint)
        AND (%(practice_id)s::bigint IS NULL OR practice_id = %(practice_id)s::bigint)
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING call_id
), applied AS (
    UPDATE {call} AS c SET
        report_received_at = %(now)s,
        updated_at = %(now)s,
        status = CASE WHEN c.status = ANY(%(sources)s::varchar[]) THEN %(ended)s ELSE c.status END,
        status_changed_at = CASE WHEN c.status = ANY(%(sources)s::varchar[]) THEN %(now)s
            ELSE c.status_changed_at END,
        ended_reason = %(ended_reason)s,
        failure_category = %(failure_category)s,
        transcript = %(transcript)s,
        messages = %(messages)s::jsonb,
        summary = %(summary)s,
        recording_url = %(recording_url)s,
        stereo_recording_url = %(stereo_recording_url)s,
        cost = %(cost)s,
        started_at = COALESCE(%(started_at)s, c.started_at),
        ended_at = COALESCE(%(ended_at)s, c.ended_at, %(message_time)s),
        duration_seconds = CASE
            WHEN %(duration_seconds)s::integer IS NOT NULL THEN %(duration_seconds)s::integer
            WHEN COALESCE(%(started_at)s, c.started_at) IS NULL THEN NULL
            ELSE GREATEST(0, round(EXTRACT(EPOCH FROM
                COALESCE(%(ended_at)s, c.ended_at, %(message_time)s) - COALESCE(%(started_at)s, c.started_at)
            )::float8))::integer
        END
    FROM event
    WHERE c.id = event.call_id
    RETURNING c.id
)
SELECT target.id, target.practice_id, EXISTS (SELECT FROM applied) FROM target
"""


def _store_report_in_one_statement(message: dict, call_obj: dict, fields: dict[str, Any]) -> IngestResult | None:
    """PostgreSQL: the end-of-call report in one round trip, or None to take the ORM path.

    The ORM path reads the call, stores the event in a savepoint and updates the call: five
    statements and a transaction. Here one statement does the same, so a report needs no
    transaction of its own (in autocommit it is one; inside ``atomic`` it joins it). None
    when Vapi's id names no call: finding it by our metadata, and adopting Vapi's id, is
    the ORM path's work (a lost create answer; rare).

    The event insert is conditional on the ids agreeing and on the dedupe key being free
    (``ON CONFLICT DO NOTHING``: a concurrent duplicate waits for the first to commit, then
    inserts nothing), and the call update runs only for an inserted event. The update's
    CASE is evaluated against the row as it is once locked, as in ``advance_status``.
    ``round`` of a float8 rounds half to even, like Python's ``round`` in ``_duration``.
    """
    provider_id = _str(call_obj, "id", where="message.call")
    if not provider_id:
        return None
    ours, practice_id = our_call_id(call_obj)
    params = {
        **fields,
        # Raw SQL bypasses the fields: the encrypted ones get their stored form here.
        "transcript": to_stored(fields["transcript"]),
        "summary": to_stored(fields["summary"]),
        "failure_category": str(fields["failure_category"]),
        "messages": json_text_to_stored(fields["messages"]),
        "payload": json_text_to_stored({"message": message}),
        "provider_id": provider_id,
        "ours": ours,
        "practice_id": practice_id,
        "now": timezone.now(),
        "message_time": _message_time(message),
        "sources": _sources(CallStatus.ENDED),
        "ended": str(CallStatus.ENDED),
    }
    sql = _REPORT_SQL.format(call=Call._meta.db_table, event=CallEvent._meta.db_table)
    with connections[Call.objects.db].cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    call_id, call_practice_id, applied = row
    if (ours is not None and ours != call_id) or (practice_id is not None and practice_id != call_practice_id):
        logger.warning(
            "Vapi call %s: metadata names call %s, practice %s; it is call %s", provider_id, ours, practice_id, call_id
        )
        return _unknown_call(message, call_obj)
    if not applied:
        return IngestResult(200, {"duplicate": True})
    transaction.on_commit(lambda: _enqueue_pipeline(call_id), robust=True)
    return IngestResult(200, {})


def _tool_calls(message: dict) -> IngestResult:
    items = message.get("toolCallList")
    if not isinstance(items, list) or not items:
        raise BadMessage("tool-calls needs a non-empty message.toolCallList.")
    calls = [_tool_call(item, index) for index, item in enumerate(items)]
    call_obj = _call_object(message)
    call = _find_call(message, call_obj)
    if call is None:
        _unknown_call(message, call_obj)
        return IngestResult(200, {"results": [_tool_error(i, n, "This call is not known.") for i, n in calls]})
    with transaction.atomic():
        for tool_call_id, _name in calls:
            _store_event(call, "tool-calls", f"{call.pk}:tool-calls:{tool_call_id}", message)
    results = []
    for tool_call_id, name in calls:
        if call.status not in ACTIVE:
            # A replayed request after the call has ended gets nothing.
            results.append(_tool_error(tool_call_id, name, "This call has ended."))
        elif name == prompts.CLAIM_DETAILS_TOOL:
            result = prompts.claim_details_result(call.claim)
            results.append({"toolCallId": tool_call_id, "name": name, "result": result})
        else:
            results.append(_tool_error(tool_call_id, name, f"Unknown tool {name}."))
    return IngestResult(200, {"results": results})


_HANDLERS = {
    "status-update": _status_update,
    "end-of-call-report": _end_of_call_report,
    "tool-calls": _tool_calls,
}


def _find_call(message: dict, call_obj: dict) -> Call | None:
    """The call a message is about: by Vapi's call id, else by the call id in our metadata.

    The metadata id is only trusted alone for a call that has no Vapi id yet (the create
    answer was lost or has not been saved); the delivery's signature is what makes it
    trustworthy at all. When both ids are present they must agree.
    """
    provider_id = _str(call_obj, "id", where="message.call")
    ours, practice_id = our_call_id(call_obj)
    if not provider_id and ours is None:
        raise BadMessage("message.call.id is missing.")
    call = _one(provider_call_id=provider_id) if provider_id else None
    if call is None and ours is not None:
        call = _one(pk=ours)
        if call is not None and call.provider_call_id and provider_id:
            logger.warning(
                "Vapi call %s names our call %s, which is Vapi call %s", provider_id, ours, call.provider_call_id
            )
            return None
    if call is None:
        return None
    if (ours is not None and ours != call.pk) or (practice_id is not None and practice_id != call.practice_id):
        logger.warning(
            "Vapi call %s: metadata names call %s, practice %s; it is call %s", provider_id, ours, practice_id, call.pk
        )
        return None
    if provider_id and not call.provider_call_id and not _adopt_provider_id(call, provider_id):
        return None
    return call


@cache
def _sources(target: str) -> list[str]:
    """The statuses the status machine lets a call leave for ``target``."""
    return [status for status in CallStatus.values if can_move(status, target)]


def _one(**lookup: Any) -> Call | None:
    # Only the columns ingestion reads: a call's transcript and messages can be large.
    fields = ("practice_id", "claim_id", "status", "provider_call_id", "started_at", "ended_at")
    return next(iter(Call.objects.filter(**lookup).only(*fields).order_by()[:1]), None)


def _adopt_provider_id(call: Call, provider_id: str) -> bool:
    """Record Vapi's id on a call that has none yet (its create answer was lost or is in flight)."""
    try:
        with transaction.atomic():
            Call.objects.filter(pk=call.pk, provider_call_id__isnull=True).update(provider_call_id=provider_id)
    except IntegrityError:
        return False
    call.refresh_from_db(fields=["provider_call_id", "status"])
    return call.provider_call_id == provider_id


def _store_event(call: Call, kind: str, dedupe_key: str, message: dict) -> bool:
    """Store the message once; False if this dedupe key was stored before (a duplicate delivery)."""
    if len(dedupe_key) > 200:
        dedupe_key = f"{call.pk}:{kind}:{hashlib.sha256(dedupe_key.encode()).hexdigest()}"
    try:
        with transaction.atomic():
            CallEvent.objects.create(call=call, kind=kind, dedupe_key=dedupe_key, payload={"message": message})
    except IntegrityError:
        return False
    return True


def _unknown_call(message: dict, call_obj: dict) -> IngestResult:
    logger.warning("Vapi %s for unknown call %s", message.get("type"), call_obj.get("id"))
    return IngestResult(200, {})


def _enqueue_pipeline(call_id: int) -> None:
    from telephony import tasks

    tasks.run_post_call_pipeline.delay(call_id)


def _report_fields(message: dict, call_obj: dict) -> dict[str, Any]:
    """The call's fields from an end-of-call report; BadMessage if a field we read has the wrong type."""
    ended_reason = _str(message, "endedReason", required=True)
    artifact = _object(message, "artifact")
    analysis = _object(message, "analysis")
    recording = _object(artifact, "recording", where="message.artifact")
    mono = _object(recording, "mono", where="message.artifact.recording")
    started_at = _when(message, "startedAt") or _when(call_obj, "startedAt", "message.call")
    ended_at = _when(message, "endedAt") or _when(call_obj, "endedAt", "message.call")
    messages = artifact.get("messages", message.get("messages", []))
    if not isinstance(messages, list):
        raise BadMessage("message.artifact.messages must be a list.")
    return {
        "ended_reason": ended_reason[:200],
        "failure_category": failure_category(ended_reason),
        "transcript": _str(artifact, "transcript", where="message.artifact") or _str(message, "transcript"),
        "messages": messages,
        "summary": _str(analysis, "summary", where="message.analysis") or _str(message, "summary"),
        "recording_url": _url(
            _str(mono, "combinedUrl", where="message.artifact.recording.mono")
            or _str(artifact, "recordingUrl", where="message.artifact")
            or _str(message, "recordingUrl")
        ),
        "stereo_recording_url": _url(
            _str(recording, "stereoUrl", where="message.artifact.recording")
            or _str(artifact, "stereoRecordingUrl", where="message.artifact")
            or _str(message, "stereoRecordingUrl")
        ),
        "cost": _cost(message.get("cost", call_obj.get("cost"))),
        "started_at": started_at,
        "ended_at": ended_at,
        "duration_seconds": _duration(message, started_at, ended_at),
    }


def _tool_call(item: Any, index: int) -> tuple[str, str]:
    where = f"message.toolCallList[{index}]"
    if not isinstance(item, dict):
        raise BadMessage(f"{where} must be an object.")
    tool_call_id = _str(item, "id", where=where, required=True)
    function = _object(item, "function", where=where)
    name = _str(function, "name", where=f"{where}.function", required=True)
    # Vapi's schema says arguments is a JSON string, its docs show an object: both are
    # fine, and get_claim_details takes none.
    if not isinstance(function.get("arguments", {}), dict | str):
        raise BadMessage(f"{where}.function.arguments must be an object or a JSON string.")
    return tool_call_id, name


def _tool_error(tool_call_id: str, name: str, error: str) -> dict:
    return {"toolCallId": tool_call_id, "name": name, "error": error}


def _call_object(message: dict) -> dict:
    call_obj = message.get("call")
    if call_obj is None:
        return {}
    if not isinstance(call_obj, dict):
        raise BadMessage("message.call must be an object.")
    return call_obj


def _str(holder: dict, key: str, *, where: str = "message", required: bool = False) -> str:
    value = holder.get(key)
    if value is None:
        if required:
            raise BadMessage(f"{where}.{key} is missing.")
        return ""
    if not isinstance(value, str) or (required and not value):
        raise BadMessage(
            f"{where}.{key} must be a non-empty string." if required else f"{where}.{key} must be a string."
        )
    return value


def _object(holder: dict, key: str, *, where: str = "message") -> dict:
    value = holder.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadMessage(f"{where}.{key} must be an object.")
    return value


def _when(holder: dict, key: str, where: str = "message") -> datetime | None:
    value = _str(holder, key, where=where)
    if not value:
        return None
    try:
        moment = parse_datetime(value)
    except ValueError:
        moment = None
    if moment is None:
        raise BadMessage(f"{where}.{key} must be an ISO 8601 date-time.")
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)


def _message_time(message: dict) -> datetime:
    """When the platform sent the message (epoch milliseconds), or now."""
    stamp = message.get("timestamp")
    if isinstance(stamp, int | float) and not isinstance(stamp, bool) and 0 < stamp < 1e14:
        seconds = stamp / 1000 if stamp > 1e11 else stamp
        return datetime.fromtimestamp(seconds, tz=UTC)
    return timezone.now()


def _number(value: Any, name: str, *, maximum: float) -> float | None:
    """A JSON number between 0 and ``maximum``, or None when absent; anything else is refused."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadMessage(f"message.{name} must be a number.")
    if not (math.isfinite(value) and 0 <= value <= maximum):
        raise BadMessage(f"message.{name} is out of range.")
    return float(value)


def _cost(value: Any) -> Decimal | None:
    number = _number(value, "cost", maximum=float(MAX_COST))
    if number is None:
        return None
    try:
        return Decimal(str(number)).quantize(Decimal("0.0001"))
    except InvalidOperation:
        raise BadMessage("message.cost must be a number.") from None


def _duration(message: dict, started_at: datetime | None, ended_at: datetime | None) -> int | None:
    seconds = _number(message.get("durationSeconds"), "durationSeconds", maximum=MAX_DURATION_SECONDS)
    if seconds is None and started_at and ended_at:
        seconds = (ended_at - started_at).total_seconds()
    if seconds is None:
        return None
    return min(max(0, round(seconds)), MAX_DURATION_SECONDS)


def _url(value: str) -> str:
    if value and value.startswith(("https://", "http://")) and len(value) <= 1000:
        return value
    if value:
        logger.warning("Ignored a recording URL that is not an http(s) URL of at most 1000 characters")
    return ""


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


C = FailureCategory
_ENDED_REASONS: dict[str, FailureCategory] = {
    # The conversation ended normally; what was learned is the pipeline's to judge.
    **dict.fromkeys(
        [
            "assistant-ended-call",
            "assistant-said-end-call-phrase",
            "assistant-ended-call-after-message-spoken",
            "assistant-ended-call-with-hangup-task",
            "assistant-forwarded-call",
            "customer-ended-call",
            "customer-ended-call-before-warm-transfer",
            "customer-ended-call-after-warm-transfer-attempt",
            "customer-ended-call-during-transfer",
            "call.in-progress.twilio-completed-call",
            "call.in-progress.sip-completed-call",
            "vonage-completed",
            "call.ringing.hook-executed-say",
            "call.ringing.hook-executed-transfer",
            "call.ending.hook-executed-say",
            "call.ending.hook-executed-transfer",
        ],
        C.NONE,
    ),
    **dict.fromkeys(
        [
            "customer-did-not-answer",
            "customer-busy",
            "sip-outbound-carrier-released-call",
            "call.forwarding.operator-busy",
            "call.forwarding.no-answer",
            "vonage-rejected",
        ],
        C.NO_ANSWER,
    ),
    "voicemail": C.VOICEMAIL,
    # Payer lines hold in silence as often as with music: both end here.
    "exceeded-max-duration": C.HOLD_TOO_LONG,
    "silence-timed-out": C.HOLD_TOO_LONG,
    **dict.fromkeys(["manually-canceled", "scheduled-call-deleted", "call-deleted"], C.CANCELED),
    # Our set-up is wrong (number, assistant, account): retrying will not help until a person acts.
    **dict.fromkeys(
        [
            "twilio-reported-customer-misdialed",
            "sip-outbound-unallocated-number",
            "call-start-error-neither-assistant-nor-server-set",
            "assistant-not-valid",
            "assistant-not-found",
            "call.start.assistant-version-error-validation",
            "call.start.squad-version-error-validation",
            "call.start.error-get-assistant",
            "call.start.error-get-phone-number",
            "call.start.error-get-customer",
            "call.start.error-get-resources-validation",
            "call.start.error-vapi-number-international",
            "call.start.error-subscription-wallet-does-not-exist",
            "call.start.error-subscription-frozen",
            "call.start.error-subscription-insufficient-credits",
            "call.start.error-subscription-upgrade-failed",
            "call.start.error-fraud-check-failed",
            "call.start.error-enterprise-feature-not-available-recording-consent",
            "customer-did-not-give-microphone-permission",
        ],
        C.OUR_ERROR,
    ),
    # Vapi or the carrier failed; a later attempt may well work.
    **dict.fromkeys(
        [
            "call.start.error-get-transport",
            "call.start.error-subscription-concurrency-limit-reached",
            "call.start.error-vapi-number-outbound-daily-limit",
            "worker-shutdown",
            "assistant-join-timed-out",
            "twilio-failed-to-connect-call",
            "vonage-disconnected",
            "vonage-failed-to-connect-call",
            "phone-call-provider-closed-websocket",
            "phone-call-provider-bypass-enabled-but-no-call-received",
        ],
        C.PROVIDER_ERROR,
    ),
}
_ENDED_REASON_FAMILIES: list[tuple[str, FailureCategory]] = [
    # Inbound-only reasons: an outbound payer call should never see them.
    ("assistant-request-", C.OUR_ERROR),
    ("call.in-progress.error-configfault-", C.OUR_ERROR),
    # Start failures and the ~550 per-provider pipeline failures (LLM, voice, transcriber).
    ("call.start.error-", C.PROVIDER_ERROR),
    ("pipeline-error-", C.PROVIDER_ERROR),
    ("call.in-progress.error-", C.PROVIDER_ERROR),
    ("call.ringing.", C.PROVIDER_ERROR),
]
