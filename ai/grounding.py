"""Keep only values the transcript states.

Every extractor (offline rules or a language model) returns values with the transcript lines
they came from. ``ground`` checks each value that must never be invented against its lines,
allowing for the ways payers say things ("R as in Robert, four seven one" states "R471";
"one seventy-one thirty" states 171.30), and drops what the lines do not state, flagging the
outcome for review. ``states`` is the check itself.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from ai.extraction import spoken
from ai.outcome import (
    GROUNDED_FIELDS,
    MAX_FOLLOW_UP_DAYS,
    MAX_PAID_AMOUNT,
    PAYMENT_DATES,
    CallOutcome,
    transcript_lines,
)

_FIELD_LABELS = {
    "reference_number": "reference number",
    "paid_amount": "paid amount",
    "check_or_eft_number": "check or EFT number",
    "denial_code": "denial code",
    "payment_date": "payment date",
    "rep_name": "representative's name",
}


def states(field: str, value: object, text: str, today: date | None = None) -> bool:
    """Whether ``text`` (one or more transcript lines) states ``value`` for ``field``.

    Fields without a textual check (status, outcome, follow-up days...) are always stated.
    ``today`` (the call date) lets a relative date ("yesterday", "last Tuesday") count.
    """
    if value is None or value == "" or value == []:
        return True
    if field in ("reference_number", "check_or_eft_number"):
        return _states_identifier(value, text)
    if field == "paid_amount":
        return _states_amount(value, text)
    if field == "payment_date":
        return _states_date(value, text, today)
    if field == "denial_code":
        return _states_denial(value, text)
    if field == "rep_name":
        return _states_name(value, text)
    if field == "remark_codes":
        stated = {code for code, _, _ in spoken.remark_codes(text)}
        return all(spoken.alnum(code) in stated for code in value)
    return True


def _states_identifier(value: object, text: str) -> bool:
    wanted = spoken.alnum(value)
    if not wanted:
        return False
    if wanted in spoken.spelled_values(text):
        return True
    # written as one token, possibly with dashes ("REF-2291-A")
    return any(spoken.alnum(tok) == wanted for tok in re.findall(r"[A-Za-z0-9][A-Za-z0-9-]*", text))


def _states_amount(value: object, text: str) -> bool:
    try:
        wanted = Decimal(str(value).replace("$", "").replace(",", "")).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return False
    return any(amount.value == wanted for amount in spoken.amounts(text))


def _states_date(value: object, text: str, today: date | None = None) -> bool:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return False
    if not isinstance(value, date):
        return False
    for mention in spoken.dates(text):
        if mention.day is not None:
            if mention.states(value):
                return True
        elif today is not None and value in (mention.resolve(today, "past"), mention.resolve(today, "future")):
            return True  # "yesterday", "two weeks ago", "last Tuesday" counted from the call date
    return False


def _states_denial(value: object, text: str) -> bool:
    match = re.fullmatch(r"([A-Z]{2})?-?([ABDPWY]?)(\d{1,3})", re.sub(r"\s+", "", str(value).upper()))
    if not match:
        return False
    group, number = match.group(1), match.group(2) + str(int(match.group(3)))
    sentences = re.split(r"(?<=[.?!])\s+", text)
    # a code said bare at the start of a sentence ("One ninety-seven, no authorization on file")
    # or as a correction of the one before ("reason code twenty-six. No, I'm sorry, twenty-seven.")
    # or alone after the speaker took one back ("... wrong column. One ninety-seven.")
    leading = [
        spoken.leading_code(sentence) or spoken.corrected_code(sentence) or spoken.bare_code(sentence)
        for sentence in sentences
    ]
    for mention in [*spoken.denial_mentions(text), *[m for m in leading if m is not None]]:
        if mention.number != number:
            continue
        if group is None or mention.group == group:
            return True
        if mention.group is None and (
            re.search(rf"\b{group}\b", text)
            or any(spoken.group_alone(sentence) == group for sentence in sentences)
            or (group in spoken.LIABILITY and spoken.LIABILITY[group].search(text) is not None)
        ):
            return True
    return False


def _states_name(value: object, text: str) -> bool:
    first = str(value).strip().split()
    if not first:
        return False
    name = first[0].strip(".,")
    return re.search(rf"(?<![A-Za-z]){re.escape(name)}(?![A-Za-z])", text, re.IGNORECASE) is not None


def ground(outcome: CallOutcome, transcript: str, today: date | None = None) -> CallOutcome:
    """Drop every grounded value whose evidence lines are missing or do not state it.

    A dropped value becomes null, loses its evidence and leaves a plain reason on the
    outcome (``needs_review``). Evidence of null values is removed. Returns ``outcome``.
    """
    lines = transcript_lines(transcript)
    for field in (*GROUNDED_FIELDS, "rep_name", "follow_up_days"):
        value = getattr(outcome, field)
        label = _FIELD_LABELS.get(field, field.replace("_", " "))
        if value is None or value == "":
            outcome.evidence.pop(field, None)
            continue
        numbers = outcome.evidence.get(field) or []
        reason = None
        if not _in_range(field, value):
            reason = f"The {label} {value} was dropped: no payer means a value that large or far off."
        elif field == "follow_up_days":
            continue  # a wait is checked for its range only: payers word waits too many ways
        elif not numbers:
            reason = f"The {label} {value} was dropped: no transcript line was given for it."
        elif any(not isinstance(n, int) or not 1 <= n <= len(lines) for n in numbers):
            reason = f"The {label} {value} was dropped: its evidence points to lines the transcript does not have."
        elif not states(field, value, _evidence_text([_speech(lines[n - 1]) for n in numbers]), today):
            reason = f"The {label} {value} was dropped: the transcript lines given do not state it."
        if reason:
            setattr(outcome, field, None)
            outcome.evidence.pop(field, None)
            outcome.flag(reason)
            outcome.confidence = round(min(outcome.confidence, 0.6), 2)
    return outcome


def _in_range(field: str, value: object) -> bool:
    if field == "paid_amount":
        return 0 <= value <= MAX_PAID_AMOUNT
    if field == "payment_date":
        return PAYMENT_DATES[0] <= value <= PAYMENT_DATES[1]
    if field == "follow_up_days":
        return 0 <= value <= MAX_FOLLOW_UP_DAYS
    return True


def _speech(line: str) -> str:
    """A transcript line without its speaker label."""
    return re.sub(r"^\s*(AI|User|Assistant|Bot)\s*:\s*", "", line)


def _evidence_text(said: list[str]) -> str:
    """The evidence lines as one text, a reading broken across two of them glued back together."""
    text = said[0] if said else ""
    for part in said[1:]:
        text = spoken.join_reading(text, part) if spoken.continues_reading(text, part) else text + "\n" + part
    return text
