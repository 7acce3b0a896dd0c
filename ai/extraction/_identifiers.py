"""Identifiers the payer gives (call reference, check or EFT number), after read-backs and corrections."""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from ai.extraction import spoken
from ai.extraction._letters import DANGLING_LETTER
from ai.extraction._transcript import Call, Line, confirms

REF_KEY = re.compile(
    # not the number of another piece of work: "the reprocessing ticket is 6-6-0-9", "the letter's tracking number"
    r"(?<!reprocessing )(?<!adjustment )(?<!reopening )(?<!appeal )(?<!letter's )(?<!project )"
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
    r"\b(?:check(?: or eft)?|eft(?: trace)?|trace|cheque|payment|eft reference|electronic funds transfer),?"
    r"(?: number| no\.?| #)|"
    r"\b(?:eft|trace|check) (?:is|was)\b|"
    # the label alone, straight before what it names: "EFT, trace 2-2-5-1...", "on check 3-3-0-8-1-9"
    r"\b(?:trace|check|eft)(?=[\s#:]+(?:\d|[A-Z]-|[A-Z],? (?:as in|like) ))|"
    # "Check, April sixth, number 8-8-4-1-0-0-2"
    r"(?:^|[.?!]\s+)(?:check|eft)\b(?:(?!claim|member|reference|ref\b|icn|npi)[^.?!]){0,30}?\bnumber\b",
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
    "starts",
    "begins",
    "with",
}
CORRECTION = re.compile(
    r"\b(?:sorry|correction|actually|i mean|i meant|transposed|not|close|let me correct|should be|that's wrong)\b|"
    r"^\W*no\b",
    re.I,
)
_OTHER_IDS = re.compile(
    r"\b(?:claim (?:number|id|#)|icn|internal control|npi|tax id|tin|member id|subscriber|ptan|fax|phone|"
    r"auth(?:orization)?|cycle|dcn|tcn|document control|bill (?:id|number)|patient account|medical record)\b",
    re.I,
)
# The payer says it gives no call reference: "we don't give out call reference numbers".
_NO_REFERENCES = re.compile(
    r"\b(?:don't|do not|doesn't|does not|can't|cannot|won't|no longer|not able to)\s+(?:\w+\s+){0,2}?"
    r"(?:give|provide|issue|offer|have|assign|generate|do)\s+(?:(?:you|out)\s+)*"
    r"(?:(?:any\s+|a\s+)?(?:call\s+)?(?:reference|ref)\b|one\b|those\b)",
    re.I,
)


@dataclass
class Value:
    value: str
    lines: list[int]


def _run_after(text: str, end: int, min_len: int = 4) -> spoken.Spelled | None:
    """The first identifier run after ``end`` with only filler words between.

    Words before a colon only announce the value ("I'll read it slowly: 3-3-0-0 ..."); a reading
    the speaker starts again ("three three one... three three one K nine nine two") counts once,
    as the second reading; and a run that goes on after "and" or "followed by" with more
    characters (or "and then the letter ..." not understood) is a number only partly understood,
    so nothing is taken rather than a part of it.
    """
    runs = [run for run in spoken.spelled_runs(text) if run.start >= end]
    for index, run in enumerate(runs):
        if run.start < end:
            continue  # inside a reading taken back
        if _OTHER_IDS.search(text[end : run.start]):
            return None  # "use the ICN: 1 0 2 6 ...": the number is labelled as something else
        between = text[end : run.start].rsplit(":", 1)[-1]
        if any(word.lower() not in _FILLERS for word in re.findall(r"[A-Za-z']+", between)):
            return None
        following = runs[index + 1] if index + 1 < len(runs) else None
        # the next reading at least as long ("the wrong one" between is no reading)
        again = next((r for r in runs[index + 1 :] if len(r.value) >= max(len(run.value), 4)), None)
        if again is not None and _restarted(text, run, again):
            end = again.start
            continue
        if len(run.value) >= min_len and any(c.isdigit() for c in run.value):
            if following is not None and _CONTINUED.fullmatch(text[run.end : following.start]):
                return None
            if (
                DANGLING_LETTER.match(text[run.end :])
                or _interrupted(text, run, following)
                or _GAP.match(text[run.end :])
            ):
                return None
            return run
        if len(run.value) >= min_len:
            return None
    return None


# What joins two parts of one number read in pieces: "4471 and 2209", "4471, followed by 22".
_CONTINUED = re.compile(r"[\s,]*(?:and|then|and then|followed by|plus|space)[\s,]*", re.I)


# A word the reading stumbled on, between characters joined the same way: "4, 4, oh, one, nyner, two".
_STUMBLE = re.compile(r"\s*[,-]\s*([a-z']+)\s*[,-]\s*$")


# Speech the transcript could not make out, inside a reading: "1-2-[inaudible]-8-4".
_GAP = re.compile(r"[\s,.-]*[\[(](?:inaudible|unintelligible|crosstalk|static|garbled|indiscernible)[^\])]*[\])]", re.I)


def _interrupted(text: str, run: spoken.Spelled, following: spoken.Spelled | None) -> bool:
    """The reading goes on past a word that is not a character: what was read is only part of it."""
    if following is None:
        return False
    match = _STUMBLE.match(text[run.end : following.start])
    return match is not None and not (
        match.group(1) in _FILLERS or REF_KEY.search(match.group(1)) or _OTHER_IDS.search(match.group(1))
    )


def _restarted(text: str, run: spoken.Spelled, following: spoken.Spelled) -> bool:
    """The first reading was cut off and read again.

    "three three one... three three one K nine nine two" (the same start, read on), or taken back
    and started over: "T-W-4-4-7... no, sorry, T-W-4-7-7-0-1-9-2", "4-4-1... sorry, let me start
    over, I grabbed the wrong one. It's 4-4-7-1-0-9-2-3."
    """
    gap = text[run.end : following.start]
    if not _BROKEN_OFF.search(gap) or len(following.value) < len(run.value):
        return False
    if following.value.startswith(run.value) and len(following.value) > len(run.value):
        return not re.search(r"[A-Za-z]", gap.replace("sorry", "").replace("again", ""))
    return bool(_TAKEN_BACK.search(gap)) and not _OTHER_IDS.search(gap)


_BROKEN_OFF = re.compile(r"\.\.\.|…|—|--")
_TAKEN_BACK = re.compile(
    r"\b(?:sorry|no|wait|scratch that|start (?:over|again)|wrong (?:one|number)|i mean|let me (?:read|try) (?:it|that) "
    r"again)\b",
    re.I,
)


_SENTENCE_BREAK = re.compile(r"[.?!]\s+")


def _keyed_value(line: Line, key: re.Pattern[str]) -> spoken.Spelled | None:
    chosen = None
    for match in key.finditer(line.text):
        run = _run_after(line.text, match.end())
        if run is None:
            # announced, then read in the next sentence: "I'll give you a reference for this call. It's 3-3-7-0, ..."
            rest = _SENTENCE_BREAK.search(line.text, match.end())
            said = line.text[match.end() : rest.start()] if rest else ""
            if rest and not re.search(r"\d", said) and not spoken.spelled_runs(said):
                run = _run_after(line.text, rest.end())
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


_TRAILING_OFF = re.compile(r"^\s*(?:-|–|—|\.\.\.|…)\s*$")


def _unfinished(text: str, run: spoken.Spelled | None) -> bool:
    """The reading stops mid-number at the end of the line: "it's 1-1-1-8-", "3-8-1-1, 0-7..."."""
    return run is not None and bool(_TRAILING_OFF.match(text[run.end :]))


def _similar(a: str, b: str) -> bool:
    """``a`` is another reading of ``b``: close to it, or ``b`` read in full after being cut off."""
    if a != b and len(a) > len(b) >= 4 and a.startswith(b):
        return True
    return a != b and abs(len(a) - len(b)) <= 2 and SequenceMatcher(None, a, b).ratio() >= 0.6


def _asked(call: Call, line: Line, ask: re.Pattern[str]) -> bool:
    """The agent's line before ``line`` asks for this number.

    Only its question counts: "Check 6-6-0-3. And could I get a reference number?" is a read-back
    of the check number, then a request for the reference.
    """
    previous = call.before(line)
    if previous is None or previous.payer:
        return False
    questions = [s.text for s in previous.sentences if s.question] or [previous.sentences[-1].text]
    return any(ask.search(text) for text in questions)


def _asked_value(call: Call, line: Line, ask: re.Pattern[str]) -> spoken.Spelled | None:
    """A payer reply to the agent asking for a number: "Sure, it's 4-1-8-8-0-2-7"."""
    if not _asked(call, line, ask):
        return None
    if _OTHER_IDS.search(line.text.split("-")[0][:40]):
        return None
    if _NO_REFERENCES.search(line.text):
        return None  # whatever number follows is offered instead of one
    run = _run_after(line.text, 0)
    if run is None:
        # "One reference covers both, 5-5-1-2-0-0-8-3": the only number in the answer is the one asked for
        runs = [r for r in spoken.spelled_runs(line.text) if len(r.value) >= 2 or r.value.isdigit()]
        # a number read twice ("I'll repeat that: ...") is one number
        long_runs = list({r.value: r for r in runs if len(r.value) >= 6 and any(c.isdigit() for c in r.value)}.values())
        whole = [
            r for r in long_runs if not (DANGLING_LETTER.match(line.text[r.end :]) or _GAP.match(line.text[r.end :]))
        ]
        if len(whole) == 1 and len(long_runs) == 1 and len({r.value for r in runs if len(r.value) >= 3}) == 1:
            labelled = _OTHER_IDS.search(line.text[max(0, whole[0].start - 30) : whole[0].start])
            run = None if labelled else whole[0]
    return _corrected_in_line(line.text, run) if run else None


# A label said to deny there is a value: "there's no check number for those", "I don't have a trace number".
_NO_VALUE = re.compile(
    r"(?:\bno|\bnot a|\bnot an|n't (?:have|got|see) (?:a|an|any)|\bwithout (?:a|an))\s+(?:\w+\s+){0,2}$", re.I
)
_ID_ASK = re.compile(r"\b(?:number|reference|ref|check|eft|trace|confirmation)\b|\bid\b", re.I)


def _asks_other(call: Call, line: Line, ask: re.Pattern[str]) -> bool:
    """The agent's question before ``line`` asks for some other number than the one ``ask`` names."""
    previous = call.before(line)
    if previous is None or previous.payer:
        return False
    questions = [s.text for s in previous.sentences if s.question]
    return any(_ID_ASK.search(q) for q in questions) and not any(ask.search(q) for q in questions)


def identifier(call: Call, key: re.Pattern[str], ask: re.Pattern[str], lines: list[Line]) -> tuple[Value | None, bool]:
    """The last value stated for an identifier, after read-backs and corrections.

    Returns the value and whether an unresolved read-back disagreed with it.
    """
    found: Value | None = None
    announced: Line | None = None
    partial: spoken.Spelled | None = None  # a reading cut off mid-number, waiting to be read in full
    for line in lines:
        if key is REF_KEY and _NO_REFERENCES.search(line.text):
            continue  # "we don't give reference numbers, use the claim ID as your reference, E K 7 ..."
        run = _keyed_value(line, key) or _asked_value(call, line, ask)
        if _unfinished(line.text, run):
            partial, run = run, None  # only a reading in full counts
        elif run is None and partial is not None:
            again = [r for r in spoken.spelled_runs(line.text) if _similar(r.value, partial.value)]
            run = again[-1] if again and len(again[-1].value) > len(partial.value) else None
        if announced is not None and _asks_other(call, line, ask):
            announced = None  # the agent moved on to another number: the reply is that one
        if run is None and announced is not None and line.n - announced.n <= 3:
            # "let me give you the reference number, you ready?" ... "It's 1-5-1-8, 7-7-2..."
            run = _run_after(line.text, 0)
        if run is not None:
            found = Value(run.value, line.numbers)
            announced = partial = None
        elif any(not _NO_VALUE.search(line.text[: m.start()]) for m in key.finditer(line.text)):
            announced = line
        elif key.search(line.text):
            announced = None  # "there's no check number for those": nothing is coming
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
            found = Value(runs[-1].value, line.numbers)
            disputed = False
        elif not line.payer:
            reply = call.after(line)
            if confirms(reply) and not CORRECTION.search(reply.text):
                found = Value(runs[-1].value, [*line.numbers, reply.n])
                disputed = False
            elif not (reply and reply.payer and CORRECTION.search(reply.text)):
                disputed = True
    return found, disputed


_NUMBER_WORD = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|niner|double|triple)"
# Something read out: a digit, two number words in a row, or a letter spelled "as in".
_READ_OUT = re.compile(
    rf"\d|\b{_NUMBER_WORD}\b[\s,-]+{_NUMBER_WORD}\b|\b[A-Za-z]\b,? (?:as in|like|for) [A-Za-z]", re.I
)
_THREE_DIGITS = re.compile(rf"\b{_NUMBER_WORD}(?:[\s,-]+{_NUMBER_WORD}\b){{2}}", re.I)
_NOT_AN_OFFER = re.compile(r"\b(?:press|enter|say|dial|type)\b", re.I)


def _reads_out(text: str) -> bool:
    """Whether ``text`` (what follows a label) reads a value out, dates, money and waits aside."""
    text = re.split(r"[.?!](?:\s|$)", text, maxsplit=1)[0][:100]
    if _NOT_AN_OFFER.search(text) or _OTHER_IDS.search(text):
        return False
    if _THREE_DIGITS.search(text):
        return True  # "six, two, oh, ...": digits one by one, never money or a date
    for mention in [*spoken.dates(text), *spoken.amounts(text), *spoken.durations(text)]:
        text = text[: mention.start] + " " * (mention.end - mention.start) + text[mention.end :]
    return bool(_READ_OUT.search(text))


def unread_offers(
    call: Call, key: re.Pattern[str], lines: list[Line], found: Value | None, ask: re.Pattern[str] | None = None
) -> list[int]:
    """Payer lines after the value found (or any, when none was) that read a value out under
    ``key`` (or in answer to the agent's ``ask``) which could not be parsed: a person can still
    recover it from the recording."""
    after = found.lines[0] if found is not None else 0
    unread: list[int] = []
    announced: Line | None = None
    for line in lines:
        offered = any(_reads_out(line.text[match.end() :]) for match in key.finditer(line.text))
        if not offered and announced is not None and line.n - announced.n <= 3:
            offered, announced = _reads_out(line.text), None
        elif not offered and key.search(line.text):
            announced = line
        if ask is not None and _NO_REFERENCES.search(line.text):
            continue  # what such a line reads out is offered in place of a reference
        asked = ask is not None and _asked(call, line, ask)
        if not offered and asked:
            offered = _reads_out(line.text)
        parsed = _keyed_value(line, key) or _run_after(line.text, 0) or (asked and _asked_value(call, line, ask))
        if parsed and _unfinished(line.text, parsed):
            parsed = None
        if offered and line.n > after and not parsed:
            unread.append(line.n)
    return unread
