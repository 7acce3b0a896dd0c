"""A call's transcript as speaker turns for the call page.

Vapi marks every payer-side line ``user``, the phone menu and the representative alike.
The page tells them apart: payer lines before someone introduces themselves ("this is
Renee", "my name is Marcus") are the phone menu; from then on they are that person.
Key presses and the end of the call come from the agent's tool calls.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Line:
    kind: str  # agent, menu, representative, payer, keys, action, hold
    label: str
    text: str
    seconds: float | None = None


def transcript_lines(messages: list | None, transcript: str, payer_name: str = "") -> list[Line]:
    """Turns from ``messages`` (Vapi's ``artifact.messages``) when present, else from the transcript text."""
    if messages:
        lines = _from_messages(messages)
        if lines:
            return _label_payer_side(lines, payer_name)
    return _label_payer_side(_from_text(transcript), payer_name)


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
    for raw in (transcript or "").splitlines():
        prefix, sep, text = raw.partition(":")
        if sep and prefix.strip() in _SPEAKER_PREFIXES and text.strip():
            lines.append(Line(_SPEAKER_PREFIXES[prefix.strip()], "", text.strip()))
        elif raw.strip() and lines:
            last = lines[-1]
            lines[-1] = Line(last.kind, last.label, f"{last.text} {raw.strip()}", last.seconds)
    return lines


def _label_payer_side(lines: list[Line], payer_name: str) -> list[Line]:
    """Split the payer's lines into the phone menu and the people who answered.

    A line where someone introduces themselves starts their turns (a transfer starts the
    next person's); payer lines before the first introduction are the phone menu when anyone
    answered at all, or when they sound like one.
    """
    anyone = any(line.kind == "payer" and _person(line.text, payer_name) for line in lines)
    person = ""
    labeled: list[Line] = []
    for line in lines:
        if line.kind == "agent":
            line = Line("agent", "Agent", line.text, line.seconds)
        elif line.kind == "payer":
            person = _person(line.text, payer_name) or person
            if person:
                line = Line("representative", person, line.text, line.seconds)
            elif anyone or _MENU_WORDS.search(line.text):
                line = Line("menu", "Phone menu", line.text, line.seconds)
            else:
                line = Line("payer", "Payer", line.text, line.seconds)
        labeled.append(line)
    return labeled


def _person(text: str, payer_name: str) -> str:
    match = _INTRODUCTION.search(text)
    if not match or match[1].split("-")[0].split()[0] in payer_name.split():
        return ""
    return match[1]


def _hold_text(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"On hold about {minutes} minute{'' if minutes == 1 else 's'}"
