"""A transcript read as a call: who speaks, when a person answers, and which claim is discussed.

Vapi transcripts mark our agent "AI:" and everything from the payer "User:", whether an IVR
prompt, hold music text or a representative. The rules extractor needs more than that: which
payer lines are a human, which representative gave the status, which agent read-backs the
rep confirmed, and which sentences are about a different visit than the claim being called on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from ai.extraction import spoken
from ai.outcome import ClaimContext, transcript_lines

_SPEAKER = re.compile(r"^\s*(AI|Assistant|Bot|User|Customer|Payer|Rep)\s*:\s*(.*)$", re.IGNORECASE)
_AGENT = ("ai", "assistant", "bot")  # our side; every other label is the payer's (IVR or person)
# Sentences, and clauses joined by "but" (which often turn to another claim or a correction).
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=[\"'(]?[A-Z0-9])|[,;]\s+(?=but\s)")

_IVR = re.compile(
    r"\bpress\b|\bsay or enter\b|\bplease (?:say|enter)\b|\bpara español\b|\boprima\b|"
    r"\bafter the tone\b|\[tone\]|\bmain menu\b|\bto repeat this\b|\bto hear\b|"
    r"\bplease (?:hold|stay on the line|continue to hold)\b|\bcalls? (?:is|are|will be) (?:being )?"
    r"(?:transferred|answered|recorded)|\byour call is important\b|\bmay be (?:monitored|recorded)\b|"
    r"\bdid you know\b|\bwait times?\b|\brepresentatives? (?:will|are not|is not)\b|\bgoodbye\b|"
    # a voicemail greeting names a person who is not on the line
    r"\bleave (?:your|a) (?:name|message)\b|\b(?:return|get back to you on) your call\b|"
    r"\b(?:i'm|i am|we're|we are) (?:currently )?(?:out of the office|away from (?:my|the) desk|unavailable)\b|"
    r"\bunable to (?:take|answer) your call\b",
    re.IGNORECASE,
)
_HUMAN = re.compile(
    r"\bwho (?:am i|do i have)\b|\bcan i (?:get|have|start with) (?:your|the)\b|\bmay i have your\b|"
    r"\blet me (?:look|check|see|pull|scroll|take a look|search)\b|\b(?:um|uh|hmm)\b|\bhold on\b",
    re.IGNORECASE,
)
_NAME = r"([A-Z][a-z]+(?:-[A-Z][a-z]+)?)"
_INTRO = re.compile(
    rf"\b(?:my name is|my name's|this is|name is|you're speaking with|you've reached|you've got|you got)\s+"
    rf"{_NAME}(?![A-Za-z])"
    # "Pinnacle claims, Bernice." - a department greeting, then the name
    rf"|\b(?:claims|provider services|customer service|member services),\s+{_NAME}\s*[.!]"
    rf"|(?<![A-Za-z]){_NAME},? (?:speaking|here)\b"
    rf"|(?:^|[.,!]\s*)(?:hi,?\s*|hello,?\s*)?(?:I'm|I am)\s+{_NAME}(?=[,.!]| with| from| in| at)",
    re.IGNORECASE,
)
_LAST_INITIAL = re.compile(
    r"\blast (?:initial|name (?:starts with|begins with|initial))(?: is)?,?\s+([A-Z])\b", re.IGNORECASE
)
_NOT_NAMES = {
    "the",
    "a",
    "an",
    "your",
    "our",
    "claims",
    "claim",
    "provider",
    "customer",
    "member",
    "not",
    "just",
    "it",
    "that",
    "correct",
    "right",
    "sorry",
    "calling",
    "regarding",
    "about",
    "automated",
    "virtual",
    # "Okay, here." / "Yeah, here." is someone finding the claim, not a name
    "okay",
    "ok",
    "yeah",
    "yes",
    "alright",
    "well",
    "so",
    "hi",
    "hello",
    "thanks",
    # nor is "Thank you, Maria." or "Perfect, Maria." a greeting
    "thank",
    "sure",
    "perfect",
    "great",
    "good",
    "bye",
    "got",
}
_CONFIRM = re.compile(
    # after a moment's thought: "Let me add that up... yes", "Um, one sec. Yeah"
    r"^(?:\W*(?:um+|uh+|hmm+|well|okay|ok|so|one (?:sec|second|moment)|hold on|bear with me|"
    r"let me (?:see|check|look|add (?:that|those|it) up|pull (?:that|it) up|double-check))\b[\s,.…-]*)*"
    r"\W*(?:yes|yeah|yep|yup|sí|correct|that's (?:right|correct|it|the right one)|that is (?:right|correct)|"
    r"right|exactly|you got it|you've got it|mm-hm|uh-huh|sure is|affirmative|perfect|that works|sounds good|"
    r"that'll work|that's fine)\b",
    re.IGNORECASE,
)
_OTHER_CLAIM_AI = re.compile(
    r"\b(?:one more|another claim|other claim|second claim|different claim|also check|while i have you|"
    r"a second one|another date of service|another visit|(?:second|other|next) (?:date of service|visit|dos))\b",
    re.IGNORECASE,
)
_OTHER_CLAIM = re.compile(
    r"\b(?:different|separate|other|another) (?:visit|claim|date of service|dos)\b|"
    r"\b(?:wrong|different) (?:line|claim|patient|member)\b|"
    # "he's got another one from the nineteenth, for the lab work"
    r"\b(?:another|a second|the other) one (?:from|for|on|dated)\b",
    re.IGNORECASE,
)
_THAT_ONE = re.compile(r"\W*(?:and |so )?(?:that|this|the other|that second) (?:one|claim|visit)\b", re.I)
_DOS_LEAD = re.compile(
    r"(?:\bfor|\bdate of service(?: of| is| was)?|\bdos|\bvisit(?: on| for)?|\bservice(?: on| date)?|\bseen on)"
    r"\s*(?:the\s+)?$",
    re.IGNORECASE,
)


@dataclass
class Sentence:
    line: Line
    text: str
    index: int  # position in the call, for "last statement wins"
    in_scope: bool = True

    @property
    def n(self) -> int:
        return self.line.n

    @property
    def question(self) -> bool:
        return self.text.rstrip().endswith("?")


@dataclass
class Line:
    n: int  # 1-based line number
    speaker: str  # "AI" | "User"
    text: str  # without the speaker label
    human: bool = False
    confirmed_by: Line | None = None  # AI line: the payer line that confirmed it
    sentences: list[Sentence] = field(default_factory=list)
    continued: list[int] = field(default_factory=list)  # later lines that finish a reading this one began

    @property
    def numbers(self) -> list[int]:
        """The transcript lines this line's text comes from."""
        return [self.n, *self.continued]

    @property
    def payer(self) -> bool:
        return self.speaker == "User"


@dataclass
class Call:
    lines: list[Line]
    reps: list[tuple[str, int]]  # (name as given, line number) in order of introduction
    call_date: date | None

    @property
    def human_reached(self) -> bool:
        return any(line.human for line in self.lines)

    def after(self, line: Line) -> Line | None:
        index = self.lines.index(line)
        return self.lines[index + 1] if index + 1 < len(self.lines) else None

    def before(self, line: Line) -> Line | None:
        index = self.lines.index(line)
        return self.lines[index - 1] if index > 0 else None

    def asked_before(self, sentence: Sentence, *, opening: bool = True) -> Line | None:
        """The agent's line just before the payer's line ``sentence`` answers (it must open that
        line unless ``opening`` is False), or None when the payer was not answering the agent."""
        asked = self.before(sentence.line)
        if not sentence.line.payer or asked is None or asked.payer:
            return None
        if opening and sentence.line.sentences[0] is not sentence:
            return None
        return asked

    def sentences(self) -> list[Sentence]:
        return [s for line in self.lines for s in line.sentences]

    def statements(self) -> list[Sentence]:
        """What the payer side said about the claim, plus agent read-backs the payer confirmed."""
        return [
            s
            for s in self.sentences()
            if s.in_scope and (s.line.payer or s.line.confirmed_by is not None) and not (s.line.payer and s.question)
        ]


def payer_speech(transcript: str) -> str:
    """What the payer's side said (IVR and people), one line per turn, without speaker labels."""
    matches = (_SPEAKER.match(raw) for raw in transcript_lines(transcript))
    return "\n".join(m.group(2) for m in matches if m and m.group(1).lower() not in _AGENT)


def read_call(transcript: str, claim: ClaimContext) -> Call:
    lines: list[Line] = []
    for n, raw in enumerate(transcript_lines(transcript), start=1):
        match = _SPEAKER.match(raw)
        if not match:
            if raw.strip() and lines:
                # a wrapped line continues the previous speaker
                lines.append(Line(n, lines[-1].speaker, raw.strip()))
            continue
        speaker = "AI" if match.group(1).lower() in _AGENT else "User"
        lines.append(Line(n, speaker, match.group(2).strip()))
    lines = _join_broken_readings(lines)
    reps = _mark_humans(lines)
    _mark_confirmations(lines)
    index = 0
    for line in lines:
        for part in _SENTENCE_END.split(line.text):
            if part.strip():
                line.sentences.append(Sentence(line, part.strip(), index))
                index += 1
    _mark_scope(lines, claim)
    return Call(lines, reps, claim.call_date)


# What speech-to-text writes for sound that is not words: "[hold music]", "(inaudible)".
_NOISE = re.compile(r"^\s*(?:[\[(][^\])]*[\])]\s*)+$")


def _join_broken_readings(lines: list[Line]) -> list[Line]:
    """A payer line that stops mid-number and the payer line that finishes it (hold music between
    aside) become one line, so "Reference is 5-5-0" / "9-1-2-7-7-4." reads as 550912774."""
    joined: list[Line] = []
    for line in lines:
        previous = next((p for p in reversed(joined) if not _NOISE.match(p.text)), None)
        if (
            previous is not None
            and previous.payer
            and line.payer
            and all(_NOISE.match(p.text) for p in joined[joined.index(previous) + 1 :])
            and spoken.continues_reading(previous.text, line.text)
        ):
            previous.text = spoken.join_reading(previous.text, line.text)
            previous.continued.append(line.n)
            continue
        joined.append(line)
    return joined


def _mark_humans(lines: list[Line]) -> list[tuple[str, int]]:
    reps: list[tuple[str, int]] = []
    person_on_line = False
    for line in lines:
        if not line.payer:
            continue
        intro = _rep_intro(line.text) or (None if person_on_line else _bare_greeting(line.text))
        ivr = bool(_IVR.search(line.text))
        automated = re.search(r"\b(?:virtual|automated|digital) (?:assistant|agent)\b", line.text, re.I) or (
            ivr and re.search(r"\bautomated\b|\bsay or enter\b|\bpress\b|\bleave (?:your|a)\b", line.text, re.I)
        )
        if intro and not automated:
            reps.append((intro, line.n))
            person_on_line = True
            line.human = True
        elif ivr:
            # hold and transfer prompts, even after a person answered, are the phone system
            line.human = False
        else:
            line.human = person_on_line or bool(_HUMAN.search(line.text))
    return reps


def _rep_intro(text: str) -> str | None:
    """The name a representative gives; one given again after "sorry" ("this is Nadia. Oh wait,
    sorry, ... I'm Priscilla") replaces the first."""
    found, end = None, 0
    for match in _INTRO.finditer(text):
        index, name = next(((n, group) for n, group in enumerate(match.groups(), 1) if group), (0, None))
        if not name or name.lower() in _NOT_NAMES or not name[0].isupper():
            continue
        if found is not None and not _NAME_CORRECTED.search(text[end : match.start()]):
            break
        # "this is Priya K." - the last initial straight after the name, or said apart
        initial = re.match(r" ([A-Z])\.(?=\s|$)", text[match.end(index) :]) or _LAST_INITIAL.search(text)
        found, end = (f"{name} {initial.group(1).upper()}." if initial else name), match.end()
    return found


# A terse rep's whole greeting, the payer then the name: "Cigna, Ray." (the first person on the line only).
_BARE_GREETING = re.compile(r"\s*((?:[A-Z][\w&'-]*\s+){0,3}[A-Z][\w&'-]*),\s+([A-Z][a-z]+)\s*[.!]?\s*")


def _bare_greeting(text: str) -> str | None:
    match = _BARE_GREETING.fullmatch(text)
    if match is None or {word.lower() for word in match.group(1).split()} & _NOT_NAMES:
        return None
    name = match.group(2)
    return None if name.lower() in _NOT_NAMES else name


_NAME_CORRECTED = re.compile(r"\b(?:sorry|i mean|actually|correction)\b", re.I)


def _mark_confirmations(lines: list[Line]) -> None:
    for i, line in enumerate(lines[:-1]):
        reply = lines[i + 1]
        if not line.payer and reply.payer and _CONFIRM.search(reply.text):
            line.confirmed_by = reply


def _mark_scope(lines: list[Line], claim: ClaimContext) -> None:
    """Mark sentences about another claim (a different visit, a second claim asked about).

    A date can also say when the payer acted ("We sent a request for records on July
    twenty-third"): after a sentence about this claim, such a date (a verb of sending, asking
    or receiving takes it, and it falls between the date of service and the call) is no other
    visit's.
    """
    dos = _parse_iso(claim.date_of_service)
    # a claim with several visits: the dates the agent gives as its dates of service are all its own
    also = {
        (m.month, m.day)
        for line in lines
        if not line.payer and _DATES_OF_SERVICE.search(line.text)
        for m in spoken.dates(line.text)
        if m.day is not None and m.month is not None
    }
    other = False
    last_in_scope = True  # the sentence before, in call order
    for line in lines:
        if not line.payer:
            text = line.text
            if _OTHER_CLAIM_AI.search(text) and not _mentions_dos(text, dos):
                other = True
            elif other and _mentions_dos(text, dos):
                other = False
        previous_out = False
        for sentence in line.sentences:
            acted = (dos, claim.call_date) if last_in_scope else None
            elsewhere = line.payer and (
                _OTHER_CLAIM.search(sentence.text) or _other_dos(sentence.text, dos, acted, also)
            )
            # "... another one from the nineteenth. That one paid forty-two ten.": still the other claim
            elsewhere = elsewhere or (line.payer and previous_out and _THAT_ONE.match(sentence.text))
            if other or elsewhere:
                sentence.in_scope = False
            previous_out = not sentence.in_scope
            last_in_scope = sentence.in_scope


_DATES_OF_SERVICE = re.compile(r"\bdates of service\b", re.I)
_ACTION_ON = re.compile(
    r"\b(?:sent|mailed|faxed|requested|asked|received|got|issued|submitted|notified)\b[^.;?!]*?\bon\s+(?:the\s+)?$",
    re.I,
)


def _action_date(text: str, mention: spoken.DateMention, dos: date, today: date | None) -> bool:
    if today is None or not _ACTION_ON.search(text[: mention.start]):
        return False
    when = mention.resolve(today, "past")
    return when is not None and dos < when <= today


def _parse_iso(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def _mentions_dos(text: str, dos: date | None) -> bool:
    if dos is None:
        return False
    return any(m.day == dos.day and m.month in (None, dos.month) for m in spoken.dates(text) if m.day is not None)


def _other_dos(
    text: str, dos: date | None, acted: tuple[date, date | None] | None = None, also: set | frozenset = frozenset()
) -> bool:
    """A sentence that names a date of service other than the claim's (and not the claim's).

    With ``acted`` (the date of service and the call date), a date the payer did something on
    between the two is not a date of service; ``also`` holds the claim's other dates of service
    as (month, day).
    """
    if dos is None:
        return False
    mismatch = False
    for mention in spoken.dates(text):
        if mention.day is None or (acted is not None and _action_date(text, mention, *acted)):
            continue
        same = mention.day == dos.day and mention.month in (None, dos.month)
        if same or (mention.month, mention.day) in also:
            return False
        if _DOS_LEAD.search(text[: mention.start]) or re.match(
            r"\s*(?:claim|visit|date of service)\b", text[mention.end :]
        ):
            mismatch = True
    return mismatch


def confirms(line: Line | None) -> bool:
    return line is not None and line.payer and bool(_CONFIRM.search(line.text))
