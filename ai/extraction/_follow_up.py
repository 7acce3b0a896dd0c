"""When to call again, and whether the practice must act: the call outcome."""

from __future__ import annotations

import re
from datetime import date, timedelta

from ai.extraction import spoken
from ai.extraction._identifiers import CORRECTION
from ai.extraction._status import CONDITIONAL
from ai.extraction._transcript import Call, Sentence, confirms

_DEADLINE = re.compile(
    r"\b(?:within|deadline|due|timely filing|filing limit|from (?:the )?date of|"
    r"(?:of|from) the (?:letter|request|notice|date)|"
    r"from receipt|of receipt|to (?:respond|submit|send|appeal|file)|appeal|before)\b|"
    # the practice's time, not the payer's: "You've got a hundred and eighty days."
    r"\byou(?:'ve| have)? got\b|\byou have(?! to)\b",
    re.I,
)
_RECALL = re.compile(
    r"\b(?:call (?:us )?back|check (?:back|again)|give us a call|follow up|if you don't see|expect|look for it|"
    r"give it (?:till|until|to)|"
    r"call(?:ing)? (?:after|before|on or after|around)|should "
    r"(?:pay|come out|release|finalize|be|show)|remit(?:tance)? dated|call again)\b",
    re.I,
)
_AGENT_ACTION = re.compile(
    r"\b(?:we'll|we will|i'll|we're going to|we need to|we'll need to|we should)\s+(?:\w+\s+){0,2}?"
    # billing the patient for their share is no work left on the claim ("we'll bill the patient")
    r"(?:resubmit|send|submit|file|appeal|pull|bill(?! (?:the |her |his )?(?:patient|member|beneficiary|him|her)\b)|"
    r"contact|reach out|correct|update|fax|upload|obtain|"
    r"review the|request|check the rejection|have the)\b",
    re.I,
)
_REP_ACTION = re.compile(
    r"\b(?:you(?:'ll| will)? need to|you(?:'d|'ll| will| would) (?:want|need) to|"
    r"you (?:should(?! (?:have|get|see|receive|hear|be)\b)|must|have to)|go ahead and|your office "
    r"(?:can|should|needs to)|(?:^|\. )(?:send|resubmit|submit|fax|upload) (?:it|us|the|a))\b|"
    # a terse rep's bare order: "Never got it. Resubmit."
    r"^\W*(?:please )?(?:resubmit|refile|rebill|re-?send)\b",
    re.I,
)
_NO_ACTION = re.compile(
    r"\bnothing(?: is| has been| was)?(?: needed| required| requested| asked| (?:we|I) need)? (?:from|of) "
    r"(?:you|your office|the provider|your end|your side)\b|"
    r"\b(?:not asking|don't need|do not need|no need) (?:for )?(?:anything )?(?:from )?"
    r"(?:you|your office|the provider)\b|"
    r"\b(?:customer|member|patient|beneficiary|subscriber|individual)'s (?:piece|part|side|responsibility)\b|"
    r"\bnothing further\b|\bnothing (?:to|we can|you can) (?:resubmit|send|appeal|correct|fix)\b|"
    r"\b(?:a |the )?provider write-?off\b|\bnot appealable\b|"
    r"\b(?:adjust|write) (?:the balance|it|that) off\b|\bthat's all you can do\b|"
    r"\bnot from (?:you|your office|the provider|the office|your end)\b|"
    r"\bjust (?:the|on the) (?:member|patient|subscriber|beneficiary|family)\b|"
    r"\bnothing(?:'s)? needed\b|\bnothing (?:for|to do)\b|\bno action\b|\bdon't need to (?:send|do)\b|"
    r"\bon the (?:customer|member|patient|beneficiary)\b|\bnothing to do\b",
    re.I,
)


# A denied part the payer says is settled for good.
_FINAL = re.compile(
    r"\bfinal (?:\w+ )?(?:edit|denial|decision)\b|\bcontractual (?:write-?off|edit)\b|\bnothing to do on\b|"
    r"\bprovider write-?off\b|\bnot appealable\b|"
    r"\bwon't change (?:it|that|anything)\b",
    re.I,
)
# An appeal the payer is deciding: the office waits for its answer.
_APPEAL_UNDER_WAY = re.compile(
    r"\b(?:appeal|reconsideration|redetermination)\b[^.]{0,60}?\b(?:with (?:a|the) reviewer|under review|in review|"
    r"being reviewed|pending|in process|until (?:the|it|that) (?:appeal )?is decided)\b|"
    r"\buntil the (?:appeal|reconsideration|redetermination) is decided\b",
    re.I,
)


def follow_up_wait(call: Call, sentences: list[Sentence]) -> tuple[int, int] | None:
    """(calendar days, line) of the last wait the payer gave or the agent pinned and the payer accepted."""
    found = None
    today = call.call_date
    received = None  # the date the payer says it received the claim, for "thirty days from the date received"
    for sentence in sentences:
        if sentence.in_scope and sentence.line.payer and today is not None:
            received = _received_date(sentence.text, today) or received
        if not sentence.in_scope or (_DEADLINE.search(sentence.text) and not _PAYER_WAIT.search(sentence.text)):
            continue
        if not sentence.line.payer:
            chosen = _chosen_wait(call, sentence)
            if chosen is not None:
                found = (chosen, sentence.n)
                continue
            reply = call.after(sentence.line)
            # only the answer counts: "Five's fine, yeah. By then it should be done."
            answer = reply.sentences[0].text if reply is not None and reply.sentences else ""
            if reply is not None and reply.payer and CORRECTION.search(answer) and not confirms(reply):
                continue
        for duration in spoken.durations(sentence.text, today):
            if _LOOKBACK.search(sentence.text[: duration.start]):
                continue  # "no claims in the last ninety days" looks back; it is no wait
            days = duration.days
            if received is not None and _FROM_RECEIPT.match(sentence.text[duration.end :]):
                days = (received - today).days + duration.days
            if 1 <= days <= 180:
                found = (days, sentence.n)
        said = sentence.line.payer or sentence.line.confirmed_by is not None
        if today is not None and said and (_RECALL.search(sentence.text) or _answers_recall(call, sentence)):
            for mention in spoken.dates(sentence.text):
                before = sentence.text[: mention.start]
                # a bare day ("the fifteenth") counts only as when to call: "call back after the fifteenth"
                if mention.month is None and mention.weekday is None and not _WHEN_AT.search(before):
                    continue
                target = mention.resolve(today, "future")
                if target is not None and re.search(r"\bafter\s+$", before, re.I):
                    target += timedelta(days=1)
                if target is not None and 0 < (target - today).days <= 120:
                    found = ((target - today).days, sentence.n)
    return found


# Wording that makes a "within"/"from the date of" time the payer's own wait, not the practice's deadline:
# "It should finalize within the next two weeks", "allow forty-five days from the date of receipt".
_PAYER_WAIT = re.compile(
    r"\b(?:should|will|expect(?:ed)? to|ought to)\s+(?:\w+\s+)?(?:finali[sz]e|process|pay|release|adjudicate|"
    r"be (?:paid|processed|finali[sz]ed|released|done|complete|adjudicated)|come out|go out)\b|"
    r"\bbefore (?:calling|you call|checking)(?: back| again| in)?\b|\ballow\b[^.]{0,40}\b(?:days|weeks)\b",
    re.I,
)


def _answers_recall(call: Call, sentence: Sentence) -> bool:
    """The payer answers the agent's "should we call back after December first?": "After the first, yes." """
    asked = call.asked_before(sentence, opening=False)
    return asked is not None and bool(_RECALL.search(asked.text))


_LOOKBACK = re.compile(
    r"\b(?:in|over|within|for|during) the (?:last|past|previous|prior)\s+$|"
    # time already gone by: "it's been almost two months", "it has been over sixty days"
    r"\b(?:it's|it has|it had|that's|has|have|had) been (?:about |almost |nearly |over |more than |at least |only )?$",
    re.I,
)
# What makes a bare day a call-back date: "after the fifteenth", "Thursday the twelfth".
_WHEN_AT = re.compile(
    r"\b(?:after|on|by|around|past|till|until|monday|tuesday|wednesday|thursday|friday|saturday|sunday),?\s+"
    r"(?:the\s+)?$",
    re.I,
)
_FROM_RECEIPT = re.compile(
    r"\s+(?:from|after) (?:the )?(?:date (?:it was |we )?received|date of receipt|receipt|received date)\b", re.I
)
_RECEIVED_ON = re.compile(r"\b(?:received|got it)\b(?:\s+\w+){0,2}\s+(?:on\s+)?$", re.I)


def _received_date(text: str, today: date) -> date | None:
    """ "The claim ... was received on January twenty-sixth": when the payer got the claim."""
    for mention in spoken.dates(text):
        if _RECEIVED_ON.search(text[: mention.start]):
            when = mention.resolve(today, "past")
            if when is not None:
                return when
    return None


def _chosen_wait(call: Call, sentence: Sentence) -> int | None:
    """Days of the wait the payer picks from two the agent offers.

    "Should I call back after seven business days, or wait the full ten?" - "Seven's fine."
    """
    waits = spoken.durations(sentence.text, call.call_date)
    reply = call.after(sentence.line)
    if not waits or " or " not in sentence.text or reply is None or not reply.payer:
        return None
    picked = re.match(
        r"\W*(?:the\s+)?([a-z]+(?:-[a-z]+)?|\d+)(?='s\b|\s+(?:is|works|sounds|should|days|weeks|business)\b|[,.!])",
        reply.text,
        re.I,
    )
    number = spoken.number_value(picked.group(1)) if picked else None
    offered = {spoken.number_value(word) for word in re.findall(r"[A-Za-z]+(?:-[A-Za-z]+)?|\d+", sentence.text)}
    if number is None or number not in offered:
        return None
    phrase = waits[0].phrase.lower()
    unit = re.search(r"\b(day|week|month)s?\b", phrase)
    if unit is None:
        return None
    if unit.group(1) == "day" and re.search(r"\b(?:business|working)\b", phrase):
        return spoken.business_to_calendar(number)
    return number * {"day": 1, "week": 7, "month": 30}[unit.group(1)]


_PATIENT_SHARES = ("PR-1", "PR-2", "PR-3")
# Clauses of one sentence: "You'd need to get his new insurance information, or if he has none, bill him".
_CLAUSE = re.compile(r"([,;]\s*(?:or|but|otherwise)\b|;)", re.I)


def _asks_action(text: str) -> bool:
    """The payer asks the practice to act in a clause of ``text`` that no condition hangs on."""
    return _says(_REP_ACTION, text)


def _says(pattern: re.Pattern[str], text: str, *, otherwise: bool = True) -> bool:
    """``pattern`` in a clause of ``text`` that no condition hangs on; with ``otherwise=False`` not in the
    clause a condition's "otherwise" opens either ("If you have an auth, send it, otherwise it's a write-off")."""
    parts = _CLAUSE.split(text)
    return any(
        pattern.search(part)
        and not CONDITIONAL.search(part)
        and (otherwise or not lead.lower().lstrip(",; ").startswith("otherwise"))
        for lead, part in zip(["", *parts[1::2]], parts[::2], strict=True)
    )


def call_outcome(
    status: str, denial: str | None, call: Call, follow_up: tuple[int, int] | None, denied_part: bool = False
) -> tuple[str, list[int]]:
    """The call outcome and the lines it rests on (none when it follows from the status alone).

    ``denied_part``: a part of a partly paid claim was denied, which usually leaves work for the
    office even when no code or instruction was heard.
    """
    # what the agent says the office will do ("we'll resubmit"), not what it asks ("Do we need to resubmit?")
    agent_action = [
        s.n for s in call.sentences() if not s.line.payer and not s.question and _AGENT_ACTION.search(s.text)
    ]
    in_scope = [s for s in call.sentences() if s.in_scope and s.line.payer]
    rep_action = [s.n for s in in_scope if _asks_action(s.text)]
    no_action = [s.n for s in in_scope if _says(_NO_ACTION, s.text, otherwise=False)]
    if status == "unknown":
        return "failed", []
    if status == "paid":
        return "resolved", []
    if status == "partially_paid":
        # a denied line needs work; a patient-responsibility adjustment does not
        # "that's a final bundling edit, a contractual write-off ... nothing to do on that one"
        settled = any(_says(_FINAL, s.text, otherwise=False) for s in in_scope) and not agent_action and not rep_action
        if (denial and not denial.startswith("PR-") and not settled) or (
            denial is None and (agent_action or rep_action or (denied_part and not no_action))
        ):
            return "action_required", agent_action or rep_action
        return "resolved", []
    appeal_pending = _APPEAL_UNDER_WAY.search(" ".join(s.text for s in in_scope))
    if status == "denied" and follow_up and appeal_pending and not agent_action and not rep_action:
        # "still in a denied status until the appeal is decided ... a decision by the nineteenth"
        return "follow_up", [follow_up[1]]
    if status == "denied":
        # a patient share (PR-1/2/3) rests with the patient; another PR code does unless the payer asks
        # more of the practice ("coverage termed ... you'd need to get his new insurance information")
        if denial in _PATIENT_SHARES and not agent_action:
            return "resolved", no_action
        if denial and denial.startswith("PR-") and not agent_action and not rep_action:
            return "resolved", no_action
        if no_action and not agent_action and not rep_action:
            # "denied as a duplicate ... nothing to do": the payer says it rests there
            return "resolved", no_action
        return "action_required", agent_action or rep_action
    if status in ("in_process", "reprocessing"):
        return "follow_up", [follow_up[1]] if follow_up else []
    if status == "pending_info":
        if no_action and not agent_action:
            return "follow_up", no_action
        return "action_required", agent_action or rep_action
    if status == "not_on_file":
        if follow_up and not agent_action and not rep_action:
            return "follow_up", [follow_up[1]]
        return "action_required", agent_action or rep_action
    return "failed", []
