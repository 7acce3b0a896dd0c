"""``POST /api/webhooks/vapi`` fuzzed with hostile JSON: it may refuse a delivery, never fail on one.

Every delivery is signed as Vapi signs it (shared secret and HMAC), so hostile bodies get past
the checks and into ingestion. Bodies are Vapi-shaped messages (status updates, end-of-call
reports, tool calls) about real calls of the seeded practice with hostile values in the fields
ingestion reads, arbitrary JSON, deep nesting, huge numbers, NaN and Infinity tokens, lone
surrogates (escaped, and raw as invalid UTF-8), NUL characters and wrong types. Each delivery
runs in a savepoint that is rolled back.

A second test follows accepted end-of-call reports with hostile transcripts (a payer's words
with out-of-range amounts, impossible dates, overlong codes) through the post-call pipeline
the delivery queues, then opens the claim's and the call's pages and the claim in the API:
whatever a payer says on a call, neither the pipeline nor a page may fail.
"""

from __future__ import annotations

import copy
import json
from collections import Counter

import pytest
from django.db import connection
from django.test import Client
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from telephony import prompts, webhook
from telephony.models import Call
from telephony.tests import fixtures
from tests.fuzz.seed import Seeded
from tests.fuzz.support import ServerError, ServerErrorLog, app_frames, fuzz_depth, report, rolled_back

pytestmark = pytest.mark.django_db

URL = "/api/webhooks/vapi"
DEFAULT_EXAMPLES = 150

HOSTILE_STRINGS = [
    "",
    "\x00",
    "abc\x00def",
    "\ud800",
    "x" * 5000,
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "2026-02-30T25:61:00Z",
    "10000-01-01T00:00:00Z",
    "99999999999999999999",
    "-1",
    "NaN",
    "https://" + "a" * 2000,
    "http://\x00",
    "billingpulse-call-99999999999999999999",
    "billingpulse-call-",
]
HOSTILE_NUMBERS = [0, -1, 2**31, 2**63, -(2**63) - 1, 10**30, 1e308, -1e308, 1e-300, 0.5]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from(HOSTILE_NUMBERS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(HOSTILE_STRINGS),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=20),
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12,
)


def _call_objects(provider_ids: list[str], call_pks: list[int]):
    """A ``message.call`` naming a real call (by Vapi's id or our metadata), or not, with hostile extras."""
    real_id = st.integers(0, 7).map(lambda i: provider_ids[i % len(provider_ids)])
    real_pk = st.integers(0, 7).map(lambda i: call_pks[i % len(call_pks)])
    metadata = st.fixed_dictionaries(
        {},
        optional={prompts.CALL_ID_KEY: real_pk | json_values, prompts.PRACTICE_ID_KEY: json_values},
    )
    return st.fixed_dictionaries(
        {},
        optional={
            "id": real_id | json_values,
            "assistantOverrides": st.fixed_dictionaries({"metadata": metadata}) | json_values,
            "customer": st.fixed_dictionaries(
                {"externalId": real_pk.map(lambda pk: f"{prompts.EXTERNAL_ID_PREFIX}{pk}") | json_values}
            ),
            "startedAt": json_values,
            "endedAt": json_values,
            "endedReason": st.sampled_from(["customer-ended-call", "voicemail"]) | json_values,
            "cost": json_values,
        },
    )


def _messages(provider_ids: list[str], call_pks: list[int]):
    call = _call_objects(provider_ids, call_pks) | json_values
    tool_call = st.fixed_dictionaries(
        {"id": st.text(max_size=10) | json_values},
        optional={
            "function": st.fixed_dictionaries(
                {"name": st.just(prompts.CLAIM_DETAILS_TOOL) | json_values},
                optional={"arguments": st.just("{}") | json_values},
            )
            | json_values
        },
    )
    artifact = st.fixed_dictionaries(
        {},
        optional={
            "transcript": json_values,
            "messages": st.lists(json_values, max_size=3) | json_values,
            "recordingUrl": json_values,
            "recording": st.fixed_dictionaries(
                {}, optional={"mono": st.fixed_dictionaries({}, optional={"combinedUrl": json_values})}
            )
            | json_values,
        },
    )
    return st.fixed_dictionaries(
        {"type": st.sampled_from(["status-update", "end-of-call-report", "tool-calls"]) | json_values},
        optional={
            "call": call,
            "status": st.sampled_from(["queued", "ringing", "in-progress", "forwarding", "ended"]) | json_values,
            "timestamp": json_values,
            "endedReason": st.sampled_from(["customer-ended-call", "silence-timed-out"]) | json_values,
            "startedAt": json_values,
            "endedAt": json_values,
            "durationSeconds": json_values,
            "cost": json_values,
            "artifact": artifact | json_values,
            "analysis": st.fixed_dictionaries({}, optional={"summary": json_values}) | json_values,
            "transcript": json_values,
            "summary": json_values,
            "messages": json_values,
            "recordingUrl": json_values,
            "toolCallList": st.lists(tool_call | json_values, max_size=3) | json_values,
        },
    )


FIXTURES = [
    "status-update-ringing",
    "status-update-in-progress",
    "status-update-ended",
    "end-of-call-report",
    "tool-calls",
]


def _paths(value: object, prefix: tuple = ()) -> list[tuple]:
    """Every key path inside ``value`` (dict keys and list indices), parents before children."""
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    paths = []
    for key, child in children:
        paths.append((*prefix, key))
        paths.extend(_paths(child, (*prefix, key)))
    return paths


def _mutate(message: dict, mutations: list[tuple[tuple, object]]) -> dict:
    """``message`` with the value at each path replaced (or, for ``DELETE``, removed)."""
    message = copy.deepcopy(message)
    for path, value in mutations:
        holder = message
        try:
            for key in path[:-1]:
                holder = holder[key]
            if value is DELETE:
                del holder[path[-1]]
            else:
                holder[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced this path's parent
    return message


DELETE = object()


def _mutated_fixtures(calls: list[Call]):
    """Vapi's real message shapes about real calls, with one to three values made hostile or removed."""
    bases = [fixtures.message(name, call) for name in FIXTURES for call in calls]
    paths = [_paths(base) for base in bases]

    def mutations(index: int):
        change = st.tuples(st.sampled_from(paths[index]), st.just(DELETE) | json_values)
        return st.lists(change, max_size=3).map(lambda changes: {"message": _mutate(bases[index], changes)})

    return st.integers(0, len(bases) - 1).flatmap(mutations)


def _encode(envelope: object, raw_unicode: bool) -> bytes:
    """JSON text with NaN/Infinity tokens; lone surrogates either escaped (``\\ud800``) or raw (invalid UTF-8)."""
    if raw_unicode:
        return json.dumps(envelope, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return json.dumps(envelope).encode()


RAW_BODIES = [
    b"",
    b"null",
    b"[]",
    b'"message"',
    b'{"message": null}',
    b'{"message": []}',
    b'{"message": {}}',
    b'{"message": {"type": NaN}}',
    b'{"message": {"type": "status-update", "status": "ended", "timestamp": Infinity}}',
    b'{"message": {"type": "end-of-call-report", "endedReason": "x", "cost": 1e999}}',
    b'{"message": {"type": "end-of-call-report", "endedReason": "x", "durationSeconds": -Infinity}}',
    b'{"message": {"type": "status-update", "status": "ended", "timestamp": ' + b"9" * 5000 + b"}}",
    b"[" * 100_000 + b"]" * 100_000,
    b'{"message":' * 50_000 + b"{}" + b"}" * 50_000,
    b'{"message": {"type": "\\ud800"}}',
    b'{"message": {"type": "\xed\xa0\x80"}}',
    b'{"message": {"type": "status-update\\u0000"}}',
    b"\xff\xfe\x00garbage",
    b'{"message": {"type": "status-update"}, "message": 1}',
]


@pytest.fixture
def webhook_secrets(settings):
    settings.VAPI_WEBHOOK_SECRET = "fuzz-shared-secret"
    settings.VAPI_WEBHOOK_HMAC_SECRET = "fuzz-hmac-secret"
    settings.VAPI_WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS = 300
    settings.VAPI_WEBHOOK_MAX_BYTES = 2 * 1024 * 1024


def test_it_never_answers_a_hostile_delivery_with_a_server_error(
    seeded: Seeded, webhook_secrets, server_errors: ServerErrorLog
):
    client = Client(raise_request_exception=False)
    calls = list(Call.objects.filter(practice=seeded.practice).order_by("pk"))
    provider_ids = [c.provider_call_id for c in calls if c.provider_call_id]
    call_pks = [c.pk for c in calls]
    mutated = _mutated_fixtures(calls)
    failures: list[str] = []
    statuses: Counter[int] = Counter()

    def deliver(body: bytes, label: str) -> None:
        with rolled_back():
            response = client.post(URL, data=body, content_type="application/json", headers=webhook.sign(body))
        statuses[response.status_code] += 1
        if response.status_code >= 500:
            shown = body[:300] + (b"..." if len(body) > 300 else b"")
            failures.append(f"  {response.status_code} for {label}: {shown!r}")

    for index, body in enumerate(RAW_BODIES):
        deliver(body, f"raw body #{index}")

    @settings(
        max_examples=fuzz_depth() or DEFAULT_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        envelope=st.one_of(
            mutated,
            mutated,
            mutated,
            st.fixed_dictionaries({"message": _messages(provider_ids, call_pks)}),
            json_values,
        ),
        raw_unicode=st.booleans(),
    )
    @example(envelope={"message": {"type": "end-of-call-report", "endedReason": "x\x00y"}}, raw_unicode=False)
    def fuzz(envelope, raw_unicode):
        deliver(_encode(envelope, raw_unicode), "generated body")

    fuzz()

    # The deliveries got past the signature checks: some were refused as bad input, some ingested.
    accepted = sum(n for status, n in statuses.items() if status < 300)
    refused = sum(n for status, n in statuses.items() if 400 <= status < 500)
    assert accepted and refused, f"answers by status: {dict(statuses)}"
    if failures:
        pytest.fail(
            f"{len(failures)} hostile deliveries got a server error:\n"
            + "\n".join(failures[:20])
            + "\n\n"
            + report(server_errors.take(), "Exceptions behind them"),
            pytrace=False,
        )


# What a payer's representative might say, with the numbers, dates and codes made hostile.
SAYINGS = [
    "User: That claim was paid on {} for {} dollars, check number {}.",
    "User: It was denied with code {}, reason {}. Call back in {} days.",
    "User: The reference number is {}. My name is {}. It has been in process since {}.",
    "User: Processed on {}, paid amount {}, EFT trace number {}.",
    "User: We need {} from you. Resubmit by {}, reference {}.",
]
SAID = [
    "99999999999999999999",
    "$99,999,999,999,999.99",
    "9" * 60,
    "1e309",
    "-1",
    "0",
    "NaN",
    "four hundred billion",
    "9999-12-31",
    "0001-01-01",
    "12/31/9999",
    "02/30/2026",
    "13/45/2026",
    "in 99999 days",
    "CO-" + "9" * 50,
    "ZZZZZZZZZZ",
    "REF-" + "7" * 300,
    "x" * 3000,
    "\x00",
    "Dana",
]
transcripts = st.lists(
    st.tuples(st.sampled_from(SAYINGS), st.lists(st.sampled_from(SAID), min_size=3, max_size=3)).map(
        lambda saying: saying[0].format(*saying[1])
    ),
    min_size=1,
    max_size=4,
).map("\n".join)


def _pipeline_failure(error: Exception, call: Call, transcript: str) -> ServerError:
    name = f"{type(error).__module__}.{type(error).__qualname__}".removeprefix("builtins.")
    frames = app_frames(error.__traceback__)
    said = f"transcript {transcript[:150]!r}"
    return ServerError("pipeline", f"call {call.pk}", None, name, str(error).replace("\n", " "), frames, said)


def test_it_never_fails_on_what_a_payer_says(seeded: Seeded, webhook_secrets, server_errors: ServerErrorLog):
    client = Client(raise_request_exception=False)
    reader = Client(raise_request_exception=False)
    reader.force_login(seeded.admin)
    calls = [c for c in Call.objects.filter(practice=seeded.practice).order_by("pk") if c.provider_call_id]
    failures: list[ServerError] = []

    def check(response, what: str) -> None:
        if response.status_code >= 500:
            errors = server_errors.take() or [ServerError("GET", what, response.status_code, "HTTP 500", "", [])]
            failures.extend(errors)

    @settings(
        max_examples=fuzz_depth() or DEFAULT_EXAMPLES // 2,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(index=st.integers(0, len(calls) - 1), transcript=transcripts, summary=transcripts)
    def fuzz(index, transcript, summary):
        call = calls[index]
        message = fixtures.message("end-of-call-report", call)
        message["artifact"]["transcript"] = message["transcript"] = transcript
        message["artifact"]["messages"] = [{"role": "user", "message": transcript, "time": 0, "secondsFromStart": 0}]
        message["analysis"]["summary"] = summary
        body = json.dumps({"message": message}).encode()
        with rolled_back():
            queued = len(connection.run_on_commit)
            check(client.post(URL, data=body, content_type="application/json", headers=webhook.sign(body)), URL)
            # What would run once the delivery commits: the post-call pipeline (in-process, as tests run tasks).
            for _savepoints, callback, _robust in list(connection.run_on_commit[queued:]):
                try:
                    callback()
                except Exception as error:  # noqa: BLE001 - every failure is collected and reported
                    failures.append(_pipeline_failure(error, call, transcript))
            for url in (f"/claims/{call.claim_id}/", f"/calls/{call.pk}/", f"/api/v1/claims/{call.claim_id}"):
                check(reader.get(url), url)

    fuzz()

    if failures:
        pytest.fail(report(failures, "Hostile transcripts broke the post-call pipeline or a page"), pytrace=False)
