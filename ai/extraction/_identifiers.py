"""Identifiers the payer gives (call reference, check or EFT number), after read-backs and corrections."""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from ai.extraction import spoken
from ai.extraction._transcript import Call, Line, confirms

REF_KEY = re.compile(
    r"\b(?:call )?(?:reference|ref|confirmation|tracking|call id|interaction|inquiry|ticket|incident)"
    r"(?: number| no\.?| #| id| code)?s?\b(?! field)|"
    # "case" and "call" alone are too common in speech; they need their label
    r"\b(?:case|call|service request|sr)(?: number| no\.?| #| id)s?\b",
    re.I,
)
# The agent asking for one: "Could I get a reference number?", "Is there a case number for this?"
REF_ASK = re.compile(
    r"\breference|\bref\b|\bconfirmation|\b(?:case|ticket|call|interaction|tracking|incident) (?:number|id|#)", re.I
)
CHECK_KEY = re.compile(
    r"\b(?:check(?: or eft)?|eft(?: trace)?|trace|cheque|payment|eft reference),?(?: number| no\.?| #)|"
    r"\b(?:eft|trace|check) (?:is|was)\b",
    re.I,
)
_FILLERS = {
    "number",
    "numbers",
    "no",
    "for",
    "this",
    "today's",
    "todays",
    "today",
    "the",
    "call",
    "is",
    "it's",
    "its",
    "it",
    "your",
    "will",
    "be",
    "of",
    "that's",
    "thats",
    "sure",
    "yes",
    "yeah",
    "yep",
    "okay",
    "ok",
    "course",
    "one",
    "second",
    "moment",
    "sec",
    "hold",
    "on",
    "let",
    "me",
    "get",
    "that",
    "you",
    "absolutely",
    "so",
    "uh",
    "um",
    "alright",
    "all",
    "right",
    "here",
    "go",
    "and",
    "a",
    "was",
    "ready",
    "again",
    "correct",
    "eft",
    "trace",
    "check",
    "by",
    "went",
    "out",
    "number's",
    "reference",
    "ref",
}
CORRECTION = re.compile(
    r"\b(?:sorry|correction|actually|i mean|i meant|transposed|not|close|let me correct|should be|that's wrong)\b|"
    r"^\W*no\b",
    re.I,
)
_OTHER_IDS = re.compile(
    r"\b(?:claim (?:number|id|#)|icn|internal control|npi|tax id|tin|member id|subscriber|ptan|fax|phone|"
    r"auth(?:orization)?|cycle|dcn|patient account|medical record)\b",
    re.I,
)


@dataclass
class Value:
    value: str
    lines: list[int]


def _run_after(text: str, end: int, min_len: int = 4) -> spoken.Spelled | None:
    """The first identifier run after ``end`` with only filler words between."""
    for run in spoken.spelled_runs(text):
        if run.start < end:
            continue
        between = re.findall(r"[A-Za-z']+", text[end : run.start])
        if any(word.lower() not in _FILLERS for word in between):
            return None
        if len(run.value) >= min_len and any(c.isdigit() for c in run.value):
            return run
        if len(run.value) >= min_len:
            return None
    return None


def _keyed_value(line: Line, key: re.Pattern[str]) -> spoken.Spelled | None:
    chosen = None
    for match in key.finditer(line.text):
        run = _run_after(line.text, match.end())
        if run is not None:
            chosen = run
    if chosen is not None:
        chosen = _corrected_in_line(line.text, chosen)
    return chosen


def _corrected_in_line(text: str, run: spoken.Spelled) -> spoken.Spelled:
    """ "7-3-1-8... oh, sorry, I transposed that. It's 7-3-1-4..." → the corrected run."""
    for later in spoken.spelled_runs(text):
        if later.start > run.end and _similar(later.value, run.value):
            between = text[run.end : later.start]
            if CORRECTION.search(between):
                run = later
    return run


def _similar(a: str, b: str) -> bool:
    return a != b and abs(len(a) - len(b)) <= 2 and SequenceMatcher(None, a, b).ratio() >= 0.6


def _asked_value(call: Call, line: Line, ask: re.Pattern[str]) -> spoken.Spelled | None:
    """A payer reply to the agent asking for a number: "Sure, it's 4-1-8-8-0-2-7"."""
    previous = call.before(line)
    if previous is None or previous.payer or not ask.search(previous.text):
        return None
    if _OTHER_IDS.search(line.text.split("-")[0][:40]):
        return None
    run = _run_after(line.text, 0)
    return _corrected_in_line(line.text, run) if run else None


def identifier(call: Call, key: re.Pattern[str], ask: re.Pattern[str], lines: list[Line]) -> tuple[Value | None, bool]:
    """The last value stated for an identifier, after read-backs and corrections.

    Returns the value and whether an unresolved read-back disagreed with it.
    """
    found: Value | None = None
    announced: Line | None = None
    for line in lines:
        run = _keyed_value(line, key) or _asked_value(call, line, ask)
        if run is None and announced is not None and line.n - announced.n <= 3:
            # "let me give you the reference number, you ready?" ... "It's 1-5-1-8, 7-7-2..."
            run = _run_after(line.text, 0)
        if run is not None:
            found = Value(run.value, [line.n])
            announced = None
        elif key.search(line.text):
            announced = line
    if found is None:
        return None, False
    disputed = False
    start = next(i for i, line in enumerate(call.lines) if line.n == found.lines[0])
    for line in call.lines[start + 1 : start + 5]:
        # a read-back of another number ("The NPI is 1-2-3-4...") neither confirms nor disputes this one
        runs = [
            r
            for r in spoken.spelled_runs(line.text)
            if _similar(r.value, found.value) and not _OTHER_IDS.search(line.text[: r.start])
        ]
        if not runs:
            continue
        if line.payer and CORRECTION.search(line.text):
            found = Value(runs[-1].value, [line.n])
            disputed = False
        elif not line.payer:
            reply = call.after(line)
            if confirms(reply) and not CORRECTION.search(reply.text):
                found = Value(runs[-1].value, [line.n, reply.n])
                disputed = False
            elif not (reply and reply.payer and CORRECTION.search(reply.text)):
                disputed = True
    return found, disputed


_NUMBER_WORD = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|double|triple)"
# Something read out: a digit, two number words in a row, or a letter spelled "as in".
_READ_OUT = re.compile(
    rf"\d|\b{_NUMBER_WORD}\b[\s,-]+{_NUMBER_WORD}\b|\b[A-Za-z]\b,? (?:as in|like|for) [A-Za-z]", re.I
)
_NOT_AN_OFFER = re.compile(r"\b(?:press|enter|say|dial|type)\b", re.I)


def _reads_out(text: str) -> bool:
    """Whether ``text`` (what follows a label) reads a value out, dates, money and waits aside."""
    text = re.split(r"[.?!](?:\s|$)", text, maxsplit=1)[0][:100]
    if _NOT_AN_OFFER.search(text):
        return False
    for mention in [*spoken.dates(text), *spoken.amounts(text), *spoken.durations(text)]:
        text = text[: mention.start] + " " * (mention.end - mention.start) + text[mention.end :]
    return bool(_READ_OUT.search(text))


def unread_offers(call: Call, key: re.Pattern[str], lines: list[Line], found: Value | None) -> list[int]:
    """Payer lines after the value found (or any, when none was) that read a value out under
    ``key`` which could not be parsed: a person can still recover it from the recording."""
    after = found.lines[0] if found is not None else 0
    unread: list[int] = []
    announced: Line | None = None
    for line in lines:
        offered = any(_reads_out(line.text[match.end() :]) for match in key.finditer(line.text))
        if not offered and announced is not None and line.n - announced.n <= 3:
            offered, announced = _reads_out(line.text), None
        elif not offered and key.search(line.text):
            announced = line
        if offered and line.n > after and _keyed_value(line, key) is None and _run_after(line.text, 0) is None:
            unread.append(line.n)
    return unread
