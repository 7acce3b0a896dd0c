"""The ``openai`` outcome extractor: an OpenAI-compatible model reads the call.

The request is a Chat Completions call with strict structured output, so OpenAI, Azure
OpenAI and local OpenAI-compatible servers all work (``OPENAI_BASE_URL``). The client
retries rate limits, server errors and timeouts itself (``OPENAI_MAX_RETRIES``, with
backoff). When the model still cannot give a usable answer, the offline ``rules`` reader
fills the outcome in and it is flagged for review: a call is never lost to an outage.

The model's answer is checked field by field before it becomes a ``CallOutcome``: values
are parsed strictly (amounts as ``Decimal``, dates as ``date``, codes normalised), a value
without valid evidence lines is dropped, and disagreements with the rules reader on the
claim status or the call outcome are flagged. Whether the cited lines really state a
value is for ``ai.grounding`` to judge afterwards.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import openai
from django.conf import settings
from openai.types.chat import ChatCompletion

from ai import llm, prompts
from ai.extraction import rules
from ai.outcome import (
    CALL_OUTCOMES,
    CLAIM_STATUSES,
    VALUE_FIELDS,
    CallOutcome,
    ClaimContext,
    KnowledgeHit,
    transcript_lines,
)

log = logging.getLogger(__name__)

FALLBACK_EXTRACTOR = "rules (fallback)"
_FALLBACK_NOTE = "the offline reader filled this in."

# Fields whose value is something the payer said: without evidence lines it is dropped.
_STATED_FIELDS = tuple(name for name in VALUE_FIELDS if name != "call_outcome")
# Conclusions about the call as a whole: kept without evidence, but flagged.
_SUMMARY_FIELDS = ("call_outcome", "next_steps")

_DENIAL_CODE = re.compile(r"^(CO|PR|OA|PI|CR)?([ABPW]?\d{1,3})$")
_REMARK_CODE = re.compile(r"^(MA|M|N)\d{1,3}$")
_AMOUNT = re.compile(r"^\d{1,10}(?:\.\d{1,2})?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MAX_FOLLOW_UP_DAYS = 366
_MAX_TEXT = 1000


class _Unusable(Exception):
    """The model gave no answer we can use; ``reason`` says why, for the reviewer."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def extract(transcript: str, claim: ClaimContext, knowledge: Sequence[KnowledgeHit] = ()) -> CallOutcome:
    try:
        answer = _ask_model(transcript, claim, knowledge)
    except _Unusable as exc:
        outcome = rules.extract(transcript, claim)
        outcome.extractor = FALLBACK_EXTRACTOR
        outcome.flag(exc.reason)
        return outcome
    outcome, unusable = _to_outcome(answer, len(transcript_lines(transcript)))
    outcome.extractor = f"openai ({settings.OPENAI_MODEL})"
    _cross_check(outcome, rules.extract(transcript, claim), unusable)
    return outcome


def _client() -> openai.OpenAI:
    if not settings.OPENAI_API_KEY and not settings.OPENAI_BASE_URL:
        raise _Unusable(f"The AI service is not set up (no API key); {_FALLBACK_NOTE}")
    return llm.client()


def _ask_model(transcript: str, claim: ClaimContext, knowledge: Sequence[KnowledgeHit]) -> dict[str, Any]:
    """The model's answer as parsed JSON; ``_Unusable`` once the client has given up."""
    try:
        with _client() as client:
            # No temperature: reasoning models refuse one, and the schema keeps answers in shape.
            response = client.chat.completions.create(
                model=settings.OPENAI_MODEL,
                messages=prompts.messages(transcript, claim, knowledge),
                response_format=prompts.RESPONSE_FORMAT,
            )
    except openai.APITimeoutError as exc:
        log.warning("Outcome extraction timed out after retries")
        raise _Unusable(f"The AI service did not answer in time; {_FALLBACK_NOTE}") from exc
    except openai.APIConnectionError as exc:
        log.warning("Outcome extraction could not reach the AI service: %s", type(exc.__cause__).__name__)
        raise _Unusable(f"The AI service could not be reached; {_FALLBACK_NOTE}") from exc
    except openai.APIStatusError as exc:
        log.warning("Outcome extraction failed with HTTP %s", exc.status_code)
        raise _Unusable(f"The AI service returned an error (HTTP {exc.status_code}); {_FALLBACK_NOTE}") from exc
    except openai.OpenAIError as exc:
        # A missing API key or an unexpected response shape: a setup problem, not the call's.
        log.error("Outcome extraction failed: %s", type(exc).__name__)
        raise _Unusable(f"The AI service could not be used ({type(exc).__name__}); {_FALLBACK_NOTE}") from exc

    content = _content(response)
    try:
        # Decimals, not floats: an amount must never pass through binary floating point.
        answer = json.loads(content, parse_float=Decimal)
    except ValueError as exc:
        raise _Unusable(f"The AI model's answer was not valid JSON; {_FALLBACK_NOTE}") from exc
    _check_shape(answer)
    return answer


def _content(response: Any) -> str:
    """The message text of the first choice, or ``_Unusable`` saying why there is none."""
    # The client does not validate responses, so a proxy's web page or an odd local server
    # can hand back anything: read it defensively.
    if not isinstance(response, ChatCompletion) or not isinstance(response.choices, list):
        raise _Unusable(f"The AI service sent an answer that is not a chat completion; {_FALLBACK_NOTE}")
    if not response.choices:
        raise _Unusable(f"The AI service sent an empty answer; {_FALLBACK_NOTE}")
    choice = response.choices[0]
    message = getattr(choice, "message", None)
    if getattr(message, "refusal", None):
        raise _Unusable(f"The AI model declined to read this call; {_FALLBACK_NOTE}")
    if getattr(choice, "finish_reason", None) == "length":
        raise _Unusable(f"The AI model's answer was cut short; {_FALLBACK_NOTE}")
    if getattr(choice, "finish_reason", None) == "content_filter":
        raise _Unusable(f"The AI service withheld its answer (content filter); {_FALLBACK_NOTE}")
    content = getattr(message, "content", None)
    if not isinstance(content, str):
        raise _Unusable(f"The AI service sent an empty answer; {_FALLBACK_NOTE}")
    return content


def _check_shape(answer: Any) -> None:
    """Every field present as ``{"value": ..., "lines": [int, ...]}``; values are checked later."""
    bad = _Unusable(f"The AI model's answer did not follow the expected form; {_FALLBACK_NOTE}")
    if not isinstance(answer, dict):
        raise bad
    for name in (*_STATED_FIELDS, *_SUMMARY_FIELDS):
        item = answer.get(name)
        if not isinstance(item, dict) or "value" not in item or not isinstance(item.get("lines"), list):
            raise bad
        if not all(isinstance(n, int) and not isinstance(n, bool) for n in item["lines"]):
            raise bad
    confidence = answer.get("confidence")
    if not isinstance(confidence, int | Decimal) or isinstance(confidence, bool):
        raise bad


def _to_outcome(answer: dict[str, Any], line_count: int) -> tuple[CallOutcome, set[str]]:
    """The outcome the answer describes, and the names of the fields whose values were unusable."""
    outcome = CallOutcome()
    unusable: set[str] = set()
    for name in (*_STATED_FIELDS, *_SUMMARY_FIELDS):
        value, lines = answer[name]["value"], answer[name]["lines"]
        try:
            parsed = _PARSERS[name](value)
        except ValueError as exc:
            outcome.flag(f"The AI model's {_label(name)} could not be used ({exc}).")
            unusable.add(name)
            continue
        if parsed == _empty(name):
            continue
        cited = sorted({n for n in lines if 1 <= n <= line_count})
        if not cited:
            if name in _STATED_FIELDS:
                outcome.flag(f"The AI model's {_label(name)} was not backed by any line of the call; it was left out.")
                unusable.add(name)
                continue
            outcome.flag(f"The AI model's {_label(name)} was not backed by any line of the call.")
        setattr(outcome, name, parsed)
        if cited:
            outcome.evidence[name] = cited
    # Only a follow-up call has a follow-up date (labelling convention 1).
    if outcome.call_outcome != "follow_up" and outcome.follow_up_days is not None:
        outcome.follow_up_days = None
        outcome.evidence.pop("follow_up_days", None)
    outcome.confidence = min(max(float(answer["confidence"]), 0.0), 1.0)
    return outcome, unusable


def _cross_check(outcome: CallOutcome, offline: CallOutcome, unusable: set[str]) -> None:
    """Flag where the model and the offline reader disagree on what matters most; keep the model's value."""
    if offline.claim_status != "unknown" and offline.claim_status != outcome.claim_status:
        outcome.flag(
            f"The AI and the offline reader disagree on the claim status "
            f"({outcome.claim_status} vs {offline.claim_status})."
        )
    if "call_outcome" in unusable:
        # The default "failed" would put the claim back in the queue on a guess; the offline
        # reader's outcome is the better one (already flagged as unusable above).
        outcome.call_outcome = offline.call_outcome
        if offline.evidence.get("call_outcome"):
            outcome.evidence["call_outcome"] = list(offline.evidence["call_outcome"])
    elif offline.call_outcome != outcome.call_outcome:
        outcome.flag(
            f"The AI and the offline reader disagree on the call outcome "
            f"({outcome.call_outcome} vs {offline.call_outcome})."
        )


def _label(name: str) -> str:
    return name.replace("_", " ")


def _empty(name: str) -> Any:
    return {
        "claim_status": "unknown",
        "remark_codes": [],
        "call_outcome": "failed",
        "human_reached": False,
        "next_steps": "",
    }.get(name)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("not text")
    return " ".join(value.split())[:_MAX_TEXT] or None


def _choice(allowed: Sequence[str]):
    def parse(value: Any) -> str:
        text = (_text(value) or "").lower().replace(" ", "_").replace("-", "_")
        if text not in allowed:
            raise ValueError(f"{str(value)[:40]!r} is not one we know")
        return text

    return parse


def _identifier(value: Any) -> str | None:
    """A reference or check number: uppercase letters and digits only."""
    text = _text(value) or ""
    return re.sub(r"[^0-9A-Z]", "", text.upper()) or None


def _name(value: Any) -> str | None:
    text = _text(value)
    return text[:80] if text else None


def _denial_code(value: Any) -> str | None:
    """``"co 16"`` → ``"CO-16"``; a bare number stays bare."""
    text = _text(value)
    if not text:
        return None
    match = _DENIAL_CODE.match(re.sub(r"[\s_\-–]", "", text.upper()))
    if not match:
        raise ValueError(f"{text[:20]!r} is not a denial code")
    group, number = match.groups()
    return f"{group}-{number}" if group else number


def _remark_codes(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise ValueError("not a list")
    codes: list[str] = []
    for item in value:
        code = re.sub(r"[\s-]", "", _text(item) or "").upper()
        if not _REMARK_CODE.match(code):
            raise ValueError(f"{code[:20]!r} is not a remark code")
        if code not in codes:
            codes.append(code)
    return codes


def _amount(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValueError("not an amount")
    text = str(value).strip().removeprefix("$").replace(",", "")
    if not _AMOUNT.match(text):
        raise ValueError(f"{text[:20]!r} is not an amount")
    try:
        return Decimal(text).quantize(Decimal("0.01"))
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only valid numbers
        raise ValueError("not an amount") from exc


def _date(value: Any) -> date | None:
    text = _text(value)
    if not text:
        return None
    if not _ISO_DATE.match(text):
        raise ValueError(f"{text[:20]!r} is not a YYYY-MM-DD date")
    return date.fromisoformat(text)


def _days(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= _MAX_FOLLOW_UP_DAYS:
        raise ValueError("not a number of days")
    return value


def _flag_value(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("not true or false")
    return value


_PARSERS = {
    "claim_status": _choice(CLAIM_STATUSES),
    "reference_number": _identifier,
    "rep_name": _name,
    "denial_code": _denial_code,
    "remark_codes": _remark_codes,
    "paid_amount": _amount,
    "check_or_eft_number": _identifier,
    "payment_date": _date,
    "follow_up_days": _days,
    "call_outcome": _choice(CALL_OUTCOMES),
    "human_reached": _flag_value,
    "next_steps": lambda value: _text(value) or "",
}
