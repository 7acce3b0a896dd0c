"""Dates that tell when something happened are not dates of service.

``ai.extraction._transcript`` sets aside a payer sentence that names a date of service other than
the claim's, so that a second visit the rep mentions does not decide this claim's status. A date
can also say when the payer acted: "We sent a request for records on July twenty-third". Such a
sentence is about this claim when it follows on from one that is (no other visit, claim or patient
named), its date falls between the claim's date of service and the call, and a verb of sending,
asking or receiving takes it ("sent ... on", "requested ... on").
"""

from __future__ import annotations

import re
from datetime import date

from ai.extraction import spoken
from ai.extraction._transcript import Call
from ai.outcome import ClaimContext

_ACTION_ON = re.compile(
    r"\b(?:sent|mailed|faxed|requested|asked|received|got|issued|submitted|notified)\b[^.;?!]*?\bon\s+(?:the\s+)?$",
    re.I,
)
_OTHER_CLAIM = re.compile(
    r"\b(?:different|separate|other|another|second|earlier|later) (?:visit|claim|date of service|dos|patient)\b|"
    r"\bwrong (?:line|claim|patient|member)\b",
    re.I,
)


def readmit_action_dates(call: Call, claim: ClaimContext) -> None:
    """Bring back payer sentences set aside only because they date what the payer did."""
    try:
        dos = date.fromisoformat(claim.date_of_service or "")
    except ValueError:
        return
    today = call.call_date
    sentences = call.sentences()
    for index, sentence in enumerate(sentences):
        if sentence.in_scope or not sentence.line.payer or _OTHER_CLAIM.search(sentence.text):
            continue
        if index == 0 or not sentences[index - 1].in_scope:
            continue  # inside a stretch about another claim
        mentions = [m for m in spoken.dates(sentence.text) if m.day is not None]
        if mentions and all(_action_date(sentence.text, m, dos, today) for m in mentions):
            sentence.in_scope = True


def _action_date(text: str, mention: spoken.DateMention, dos: date, today: date | None) -> bool:
    if not _ACTION_ON.search(text[: mention.start]):
        return False
    when = mention.resolve(today, "past") if today is not None else None
    return when is not None and dos < when <= today
