"""A call's transcript as speaker turns for the call page.

Vapi marks every payer-side line ``user``, the phone menu and the representative alike.
The page tells them apart: payer lines before someone introduces themselves ("this is
Renee", "my name is Marcus") are the phone menu; from then on they are that person.
Key presses and the end of the call come from the agent's tool calls.

Each spoken line keeps the numbers of the transcript lines it was read from: an outcome's
evidence cites those (``CallOutcome.evidence``), and ``quotes`` finds them on the page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from billingpulse.lib import strict_json

# A person introducing themselves, not "this is a recorded line" nor the payer's own name.
_INTRODUCTION = re.compile(
    r"\b(?i:my name is|this is|name's|you're speaking with|you are speaking with)\s+"
    r"(?!(?:A|An|The|Your|Our|Not)\b)([A-Z][a-z]+(?:-[A-Z][a-z]+)?(?:\s[A-Z]\.)?)"
)
_MENU_WORDS = re.compile(
    r"\b(press|say or enter|please enter|pound sign|estimated wait|continue to hold|please hold|"
    r"your call is important|monitored or recorded|main menu|para español)\b",
    re.IGNORECASE,
)
# A silence this long between two turns is shown as time on hold.
HOLD_GAP_SECONDS = 60
_SPEAKER_PREFIXES = {"AI": "agent", "Assistant": "agent", "Bot": "agent", "User": "payer", "Customer": "payer"}
AGENT = "BillingPulse agent"
# How far ahead in the transcript a message's line is looked for (a turn one of them lacks).
_ALIGN_AHEAD = 25


@dataclass(frozen=True)
class Line:
    kind: str  # agent, menu, representative, payer, keys, action, hold
    label: str
    text: str
    seconds: float | None = None
    # The transcript's lines (1-based, as evidence counts them) this turn was read from.
    numbers: tuple[int, ...] = ()

    @property
    def number(self) -> int | None:
        """The transcript line the turn starts on: its place on the page (``#line-N``)."""
        return self.numbers[0] if self.numbers else None

    @property
    def speaker(self) -> str:
        """Who spoke, in words that stand on their own: "Dana (payer)", "Phone menu", "BillingPulse agent"."""
        if self.kind == "agent":
            return AGENT
        if self.kind == "representative":
            return f"{self.label} (payer)"
        return self.label


@dataclass(frozen=True)
class Quote:
    """A transcript line an outcome value rests on."""

    number: int
    speaker: str
    text: str
    anchor: int | None  # the shown turn holding it (``id="line-N"``), None when the page does not show it


def transcript_lines(messages: list | None, transcript: str, payer_name: str = "", rep_name: str = "") -> list[Line]:
    """Turns from ``messages`` (Vapi's ``artifact.messages``) when present, else from the transcript text.

    ``rep_name`` is the representative the outcome names: a payer line that says it marks
    where that person took over, when nobody introduced themselves in words the page knows.
    """
    turns = _from_text(transcript)
    if messages:
        lines = _from_messages(messages)
        if lines:
            return _label_payer_side(_numbered(lines, turns), payer_name, rep_name)
    return _label_payer_side(turns, payer_name, rep_name)


def quotes(lines: list[Line], transcript: str, numbers: Iterable[object]) -> list[Quote]:
    """The transcript's lines ``numbers``, each with who said it and where ``lines`` shows it.

    Numbers that are not a line of the transcript (evidence from a bad reading) are left out.
    """
    raw = (transcript or "").splitlines()
    shown = {number: line for line in lines for number in line.numbers}
    found = []
    for number in numbers:
        if not isinstance(number, int) or isinstance(number, bool) or not 0 < number <= len(raw):
            continue
        prefix, sep, said = raw[number - 1].partition(":")
        kind = _SPEAKER_PREFIXES.get(prefix.strip()) if sep else None
        text = said.strip() if kind else raw[number - 1].strip()
        if not text:
            continue
        line = shown.get(number)
        if line:
            found.append(Quote(number, line.speaker, text, line.number))
        else:
            found.append(Quote(number, AGENT if kind == "agent" else "Payer", text, None))
    return found


def _from_messages(messages: list) -> list[Line]:
    lines: list[Line] = []
    last_end: float | None = None
    for message in messages:
        if not isinstance(message, dict):
            continue
        role, seconds = message.get("role"), message.get("secondsFromStart")
        seconds = float(seconds) if isinstance(seconds, int | float) else None
        if seconds is not None and last_end is not None and seconds - last_end >= HOLD_GAP_SECONDS:
            lines.append(Line("hold", "", _hold_text(seconds - last_end), last_end))
        if role in {"bot", "assistant", "user"} and str(message.get("message", "")).strip():
            kind = "agent" if role in {"bot", "assistant"} else "payer"
            lines.append(Line(kind, "", str(message["message"]).strip(), seconds))
            if seconds is not None:
                duration = message.get("duration")
                last_end = seconds + (float(duration) / 1000 if isinstance(duration, int | float) else 0)
        elif role == "tool_calls":
            lines.extend(Line(kind, "", text, seconds) for kind, text in _tool_actions(message.get("toolCalls")))
    return lines


def _tool_actions(tool_calls: object) -> list[tuple[str, str]]:
    actions = []
    for tool_call in tool_calls if isinstance(tool_calls, list) else []:
        # Stored as the platform sent it: read each level only if it has the expected shape.
        function = _object(tool_call.get("function") if isinstance(tool_call, dict) else None)
        name, arguments = str(function.get("name") or ""), function.get("arguments")
        if isinstance(arguments, str):
            try:
                arguments = strict_json.loads(arguments)
            except strict_json.StrictJSONError:
                arguments = None
        arguments = _object(arguments)
        if name == "dtmf":
            keys = str(arguments.get("keys", "")).replace("w", "").replace("W", "")
            actions.append(("keys", f"Pressed {keys}" if keys else "Pressed keys"))
        elif name == "endCall":
            actions.append(("action", "Ended the call"))
        elif name:
            actions.append(("action", f"Used {name}"))
    return actions


def _object(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _from_text(transcript: str) -> list[Line]:
    lines: list[Line] = []
    for number, raw in enumerate((transcript or "").splitlines(), start=1):
        prefix, sep, text = raw.partition(":")
        if sep and prefix.strip() in _SPEAKER_PREFIXES and text.strip():
            lines.append(Line(_SPEAKER_PREFIXES[prefix.strip()], "", text.strip(), numbers=(number,)))
        elif raw.strip() and lines:
            last = lines[-1]
            lines[-1] = replace(last, text=f"{last.text} {raw.strip()}", numbers=(*last.numbers, number))
    return lines


def _numbered(lines: list[Line], turns: list[Line]) -> list[Line]:
    """``lines`` (from the messages), each spoken one with the numbers of the transcript turn that says it.

    The transcript is written from the same messages in the same order, so each spoken line
    takes the next turn of its side with the same words; a line the other lacks is skipped.
    """
    words = [_words(turn.text) for turn in turns]
    numbered, start = [], 0
    for line in lines:
        if line.kind in ("agent", "payer"):
            said = _words(line.text)
            for index in range(start, min(len(turns), start + _ALIGN_AHEAD)):
                if turns[index].kind == line.kind and _same_turn(words[index], said):
                    line, start = replace(line, numbers=turns[index].numbers), index + 1
                    break
        numbered.append(line)
    return numbered


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _same_turn(one: str, other: str) -> bool:
    """The same words, or one the start of the other (a turn the transcript cut short or ran on)."""
    shorter, longer = sorted((one, other), key=len)
    return one == other or (len(shorter) >= 12 and longer.startswith(shorter))


def _label_payer_side(lines: list[Line], payer_name: str, rep_name: str = "") -> list[Line]:
    """Split the payer's lines into the phone menu and the people who answered.

    A line where someone introduces themselves starts their turns (a transfer starts the
    next person's); payer lines before the first introduction are the phone menu when anyone
    answered at all, or when they sound like one.
    """
    anyone = any(line.kind == "payer" and _person(line.text, payer_name, rep_name) for line in lines)
    person = ""
    labeled: list[Line] = []
    for line in lines:
        if line.kind == "agent":
            line = replace(line, label="Agent")
        elif line.kind == "payer":
            person = _person(line.text, payer_name, rep_name) or person
            if person:
                line = replace(line, kind="representative", label=person)
            elif anyone or _MENU_WORDS.search(line.text):
                line = replace(line, kind="menu", label="Phone menu")
            else:
                line = replace(line, label="Payer")
        labeled.append(line)
    return labeled


def _person(text: str, payer_name: str, rep_name: str = "") -> str:
    match = _INTRODUCTION.search(text)
    if match and match[1].split("-")[0].split()[0] not in payer_name.split():
        return match[1]
    # The name the outcome gives, said on its own ("Claims, Dana speaking"), not inside another word.
    name = rep_name.strip()
    if name and re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text):
        return name
    return ""


def _hold_text(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"On hold about {minutes} minute{'' if minutes == 1 else 's'}"
