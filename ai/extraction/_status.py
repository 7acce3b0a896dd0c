"""Claim status from payer sentences: cues in priority order, with conditions, modals and negations ruled out."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ai.extraction import spoken
from ai.extraction._transcript import Call, Sentence

# What a payer asks the practice for when it holds a claim.
_MATERIAL = (
    r"(?:records|information|info|documentation|docs|notes|note|report|itemized(?: bill| statement)?|questionnaire|"
    r"description|explanation|letter of medical necessity|"
    r"form|referral|authorization|attachments?|coordination of benefits|cob|update|copy|invoice|response|"
    # another payer's decision the practice must send: "waiting on the primary payer's explanation of benefits"
    r"eob|explanation of benefits|remittance)\b"
)

# Looser wording of a request for information, ranked below "denied" so that "denied, we asked for the
# records" stays a denial, and read only when said outright (not "if they need records", not "nothing
# requested"): "we need the op notes", "still waiting on the referral", "haven't heard anything back".
_LOOSE_PENDING = re.compile(
    rf"\b(?:we|still|they) (?:still )?need(?:s)? (?:\w+ ){{0,10}}?{_MATERIAL}|"
    rf"\b(?:(?:waiting|wait) (?:on|for)|awaiting) (?:[\w']+ ){{0,4}}?{_MATERIAL}|"
    # "The claim's being held for the referral."
    rf"\b(?:held|holding (?:it|the claim|this|that)) (?:for|until) (?:the |a |an |your )?"
    rf"(?:[\w']+ ){{0,2}}?{_MATERIAL}|"
    rf"\b(?:requested|requesting|request for|asked for|asking for) (?:\w+ ){{0,4}}?{_MATERIAL}|"
    r"\b(?:outstanding|open) (?:\w+ )?(?:request|records request)\b|"
    r"\b(?:haven't|have not|has not|hasn't) (?:gotten|received|heard) (?:anything|a response|any response) back\b|"
    r"\bpend(?:ed|ing)\b[^.]{0,30}\buntil (?:we|they) (?:get|receive|hear)\b",
    re.I,
)
# Who a payer waits on for itself: another Blue plan, its reviewer or pricing vendor.
_PAYERS_OWN = re.compile(r"\b(?:home|host|local) plan\b|\breviewer\b|\bvendor\b|\bbill review\b", re.I)
_NEGATED_REQUEST = re.compile(
    r"(?:\bno|\bnot|n't|\bnever|\bnothing(?:'s)?|\bnobody(?:'s)?|\bno one(?:'s)?)\s+(?:\w+\s+){0,2}$", re.I
)

# Cues in priority order: when one sentence says two things, the earlier kind wins.
STATUS_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "reprocessing",
        re.compile(
            r"\bback for (?:an? )?(?:re-?processing|adjustment|re-?adjudication)\b|\bre-?process(?:ing|ed)?\b|"
            r"\bre-?adjudicat\w*|\breopen(?:ed|ing)? (?:the|this|that|it)\b|"
            r"\b(?:opened|open|submitted|put in) an? (?:adjustment|reconsideration)(?: request)? (?:on|for)\b|"
            # the rep sends it back: "Sending it back now." (not "we sent it back to you")
            r"\b(?:i'm |i am |we're |we are |i'll |we'll )?sending (?:it|this|that|the claim) back\b"
            r"(?! to (?:you|your))|"
            # an adjustment under way: "currently being adjusted", "sent the claim back to be adjusted"
            r"\b(?:being|to be|get(?:ting)?) (?:re-?)?adjusted\b|"
            r"\badjustment (?:is )?(?:pending|in progress|under ?way)\b|"
            r"\breopening(?: request)? (?:was |has been )?(?:received|opened|approved|accepted)\b|"
            # the payer's own act: "I've changed the diagnosis and submitted the reopening. The claim will be adjusted."
            r"\b(?:i've|i have|we've|we have|i|we) (?:just )?(?:submitted|opened|filed|sent|keyed|put in) "
            r"(?:the|a|an) (?:clerical |telephone )?(?:reopening|adjustment)\b|\b(?:will|'ll) be (?:re-?)?adjusted\b",
            re.I,
        ),
    ),
    (
        "pending_info",
        re.compile(
            r"\bpending (?:on |for )?(?:the |your |an? )?(?:medical |clinical |additional )?"
            r"(?:records|information|info|documentation|docs|itemized|op(?:erative)? (?:note|report)|questionnaire|"
            r"form|notes|response|receipt of)|"
            # "suspended for a review on our end" is the payer's own review: in process
            r"\bsuspended\b(?! (?:right now |currently |at the moment )?for (?:an? |the )?(?:[\w-]+ ){0,3}review)|"
            r"\badditional documentation\b|\bADR\b|\b(?:request|development|records?) letter\b|"
            # "it's pending on you all", "a medical records request went out March twentieth"
            r"\bpending on (?:you|your (?:office|end|side)|the (?:provider|office|practice))\b|"
            r"\brecords? request (?:was |has been |went )?(?:sent|mailed|faxed|issued|out)\b|"
            r"\b(?:sent|mailed|faxed) (?:a|an|the|you|your office|her|him|them|"
            r"the (?:customer|member|patient|beneficiary))\b"
            r"[^.]{0,40}?\b(?:request|letter|questionnaire|form)\b|"
            # held for something to come, not for the payer's own decision ("on hold until there's a decision")
            r"\bon hold until\b(?! (?:there's |there is |we |they |it )?(?:\w+ )?(?:a |the |our |its )?"
            r"(?:decision|determination|investigation|review)\b)|"
            r"\bwaiting (?:on|for) (?:the|a|an|your|her|his|their) (?:records|information|form|questionnaire|"
            r"documentation|response|notes|report|itemized)|\bhaven't (?:gotten|received) (?:it|that|them|the)\b|"
            r"\bneeds? (?:the|an|a|your) [^.]{0,30}?\b(?:records|documentation|notes|note|report|itemized bill|"
            r"questionnaire|form)\b",
            re.I,
        ),
    ),
    ("partially_paid", re.compile(r"\bpartial(?:ly)?[ -]paid\b|\bpartial payment\b|\bpaid in part\b", re.I)),
    (
        "not_on_file",
        re.compile(
            r"\bnot (?:seeing|finding|showing|locating) (?:anything|a claim|any claims?|it|that claim|the claim)\b|"
            r"\b(?:nothing|no claims?|no record)(?: \w+){0,2} (?:on file|here|in (?:the|our) system|received)\b|"
            r"\bdon't (?:have|see|show) (?:any|a|the) claims?\b|\bnot on file\b|\bno record of\b|"
            r"\b(?:don't|do not|can't) (?:have|see|find) anything (?:on file|in the system|for (?:that|this) date)\b|"
            r"\b(?:didn't|couldn't|could not|did not|unable to) (?:find|locate) (?:a|any|the) claims?\b|"
            r"\bno claims? (?:was|were|has been) (?:found|received)\b|\bnever (?:received|got) (?:it|the claim|that)\b|"
            # "it's not in the claims system yet", "it just hasn't loaded", "it never made it to us"
            r"\bnot in (?:the |our )?(?:claims? )?system(?: yet| at all)?\b|\bhas(?:n't| not) (?:been )?loaded\b|"
            r"\bnever made it (?:to us|in|here|over)\b|\b(?:don't|do not) (?:have|see) anything (?:for|under|on)\b|"
            r"\bjust not (?:here|in)\b|\bstill loading\b|"
            r"\b(?:don't|do not|can't) (?:have|see|find) (?:that|this|it|the claim|that claim|this claim)(?: one)? "
            r"(?:in|on) (?:the|our) (?:claims? )?(?:system|file)\b",
            re.I,
        ),
    ),
    (
        "denied",
        re.compile(
            r"\bdenied\b|\bdenial (?:code|reason) (?:is|was)\b|\bhas been denied\b|"
            # "looks like a sixteen denial", "it's a timely filing denial"
            r"\b(?:it's|that's|looks like|this is|shows|showing|it was) an? (?:[\w-]+ ){1,3}?denial\b|"
            # nothing paid on a processed claim: "processed with zero paid", "we show zero payment"
            r"\b(?:zero|\$0(?:\.00)?) (?:paid|payment|payable)\b|\bpaid (?:zero|nothing|\$0)\b|"
            # "we didn't pay anything", "the whole allowed amount went to his deductible"
            r"\b(?:didn't|did not) pay (?:anything|a thing|any of it)\b|\bnothing (?:was )?paid\b|"
            r"\b(?:whole|entire|full|all of the|all the) (?:allowed )?(?:amount|allowed|allowable)\b[^.]{0,40}?"
            r"\b(?:went|applied|goes|was applied) to (?:the |his |her |their )?(?:member's |patient's )?deductible\b|"
            # "The allowed amount of one eighteen thirty-four was applied to the beneficiary's Part B deductible."
            r"\b(?:allowed|allowable)(?: amount)?\b"
            r"(?:(?!\b(?:paid|pa(?:y|id)s?|of (?:it|that)|part|portion|some|rest)\b)[^.]){0,70}?"
            r"\b(?:all |fully |entirely )?(?:went|applied|goes|was applied|were applied) (?:to|toward) "
            r"(?:the |his |her |their )?(?:\w+'s )?(?:part [ab] |calendar[- ]year |annual )?deductible\b|"
            # nothing paid: "No payment was made on this claim", "Paid amount zero dollars"
            r"\bno payment (?:was |has been )?(?:made|issued|paid)\b|"
            r"\b(?:paid|payment|reimbursement|payable) amount(?: is| was| of|:)?\s*(?:zero|\$0)|"
            # not adjudicated at all: "returned as unprocessable"
            r"\bunprocessable\b|"
            # a payment taken back in full: "the payment on this claim is now zero", "we reversed the claim"
            r"\b(?:payment|paid)\b[^.]{0,40}\b(?:is|are) now (?:zero|\$0|nothing)\b|"
            r"\breversed the (?:claim|payment)\b|"
            r"\b(?:full|entire|whole|all of the)\b[^.]{0,40}\b(?:was|were|got) "
            r"(?:taken back|recouped|recovered|offset)\b|"
            r"\b(?:recouped|recovered|took back|taken back|offset) (?:the )?(?:full|entire|whole)\b",
            re.I,
        ),
    ),
    ("pending_info", _LOOSE_PENDING),
    (
        "paid",
        re.compile(
            r"\bpaid\b|\bpayment (?:went out|was (?:issued|made|sent)|issued|released)\b|\b(?:we|they) paid\b|"
            r"\b(?:issued|sent|made) (?:a |the )?payment\b",
            re.I,
        ),
    ),
    (
        "in_process",
        re.compile(
            r"\bin process\b|\b(?:still|is|it's|currently|now) processing\b|\bin processing\b|\bin adjudication\b|"
            r"\bbeing (?:processed|adjudicated|reviewed|priced|investigated)\b|"
            r"\bunder (?:\w+ )?(?:review|investigation)\b|\bin (?:\w+ ){0,2}review\b|"
            r"\b(?:it's|it is|that's|now) with (?:the )?(?:medical |clinical )?review\b|"
            # "it's out at bill review", "it's at our bill review right now"
            r"\b(?:it's|it is|that's|still|now|currently|out) at (?:our |the |their )?(?:[\w-]+ ){0,2}review\b|"
            # the payer's own review: "suspended for a medical director review on our end"
            r"\breview (?:on|at) (?:our|their) end\b|"
            # "it is currently under process", "the claim is under processing"
            r"\bunder process(?:ing)?\b|"
            r"\bpended\b|\bpending\b|\bin (?:the|their|our) (?!intake\b)(?:\w+ ){0,2}queue\b|\bpayment floor\b|"
            r"\bworking (?:its way|through)\b|"
            r"\bnot (?:yet )?(?:finalized|through adjudication|adjudicated)\b|\bstill open\b|\bon hold\b|"
            # approved, but no payment issued yet: "approved and in the payment cycle", "hasn't finalized yet"
            r"\b(?:hasn't|has not|haven't|isn't|is not) (?:yet )?(?:been )?finali[sz]ed\b|"
            r"\bapproved (?:for payment|and (?:in|awaiting|waiting|pending))\b|\b(?:payment|check|pay) (?:cycle|run)\b|"
            r"\b(?:awaiting|pending) payment\b",
            re.I,
        ),
    ),
)
CONDITIONAL = re.compile(r"\b(?:if|unless|once|otherwise|or else|in case|whether)\b", re.I)
_MODAL_BEFORE = re.compile(
    r"\b(?:will|'ll|would|should|could|can't|cannot|won't|can|may|might|going to|to be|to)\s+(?:\w+\s+){0,2}$", re.I
)
# "nothing pending", "no longer denied", "it's out of the denied status now"
_NEGATED_BEFORE = re.compile(r"(?:\b(?:no|not|never|without|nothing(?:'s)?|out of)|n't)\s+(?:\w+\s+){0,2}$", re.I)
_PATIENT_SHARE = re.compile(
    r"\b(?:co-?insurance|co-?pay(?:ment)?|deductible|(?:member|patient|customer|beneficiary)(?:'s)? "
    r"(?:responsibility|liability|share|owes|portion)|cost[- ]share|patient owes|member owes)\b",
    re.I,
)
# A part of the claim left to the patient, no amount said: "The lab line, that went to the member's deductible."
_PART_TO_PATIENT = re.compile(
    r"\b(?:went|goes|applied|was applied|got applied) (?:to|toward|towards) (?:the |his |her |their )?"
    r"(?:member's |patient's )?(?:deductible|co-?insurance|co-?pay)\b",
    re.I,
)
_SHARE_NEGATED = re.compile(
    r"\b(?:no|zero|nothing)\b[^.,]{0,25}$|\b(?:didn't|did not|doesn't|does not|won't) apply\b|\bwaived\b", re.I
)


# A part of the claim that was not paid, in words other than "denied": "the one line that didn't pay",
# "not covered", "zero allowed", "went to the deductible".
UNPAID_PART = re.compile(
    r"\b(?:zero|nothing|\$0(?:\.00)?) (?:paid|payable|allowed)\b|\bnot (?:paid|covered|payable)\b|\bdidn't pay\b|"
    r"\b(?:went|applied|goes) to (?:the |her |his |their )?(?:member's |patient's )?deductible\b",
    re.I,
)


_OTHER_PAYER = re.compile(
    r"\b(?:primary|other (?:payer|insurance|plan|carrier)|secondary)(?: (?:payer|insurance|plan|carrier))?\s*$", re.I
)


@dataclass
class Event:
    status: str
    sentence: Sentence


# "Pended" alone names the hold, not a new status: after a request for information it stays pending_info.
_BARE_PEND = re.compile(r"\bpend(?:ed|ing)\b|\bon hold\b", re.I)
_OTHER_IN_PROCESS = re.compile(r"\bprocess|\breview|\binvestigat|\badjudicat|\bqueue\b|\bpriced\b", re.I)


# A denial told as history: "the first time through it denied CO eleven", "the original was denied".
_EARLIER = re.compile(
    r"\b(?:originally|initially|at first|first time(?: through| around)?|the original(?: claim)?|previously|"
    r"the first (?:claim|submission))\b",
    re.I,
)


def status_events(call: Call) -> list[Event]:
    """Status statements in call order; a denial told as history is dropped once a newer status follows,
    and what a denial needs to be fixed is the denial's remedy, not a new status."""
    events = _remedies_dropped(_events(call))
    return [
        event
        for index, event in enumerate(events)
        if not (
            event.status == "denied"
            and _EARLIER.search(event.sentence.text)
            and any(later.status != "denied" for later in events[index + 1 :])
        )
    ]


_HELD = re.compile(r"\bpend|\bhold\b|\bsuspend|\bwait|\buntil\b|\bstill need", re.I)


def _remedies_dropped(events: list[Event]) -> list[Event]:
    """ "That denied for timely filing. We need the clearinghouse acceptance report.": the report is
    what fixes the denial; the claim is not held for it unless the payer says it is."""
    kept: list[Event] = []
    for event in events:
        after_denial = kept and kept[-1].status == "denied" and event.sentence.n - kept[-1].sentence.n <= 2
        if event.status == "pending_info" and after_denial and not _HELD.search(event.sentence.text):
            continue
        kept.append(event)
    return kept


def _events(call: Call) -> list[Event]:
    events: list[Event] = []
    statements = call.statements()
    for index, sentence in enumerate(statements):
        kind = sentence_status(sentence)
        if (
            kind == "in_process"
            and _bare_pend(sentence)
            and (_asks_next(statements[index + 1 : index + 4], sentence) or _material_named_before(sentence))
        ):
            kind = "pending_info"  # "It's pending. We need the physician certification statement."
        if (
            kind == "in_process"
            and events
            and events[-1].status == "pending_info"
            and sentence.n - events[-1].sentence.n <= 2
            and _BARE_PEND.search(sentence.text)
            and not _OTHER_IN_PROCESS.search(sentence.text)
        ):
            kind = None
        # "sent over to reprocessing. It's not finalized yet.": the reprocessing is what is in process
        if kind == "in_process" and events and events[-1].status == "reprocessing" and _close(events[-1], sentence):
            kind = None
        if kind is None and _unpaid_part(sentence):
            kind = "denied"  # "The one line that didn't pay is the supplies line."
        if kind:
            events.append(Event(kind, sentence))
        if kind == "denied" and line_level(sentence) and _pays_too(sentence):
            # "the lab line was denied ... and the visit line paid ninety-five twenty"
            events.append(Event("paid", sentence))
    return events


def _unpaid_part(sentence: Sentence) -> bool:
    match = UNPAID_PART.search(sentence.text)
    return (
        match is not None
        and line_level(sentence)
        and not _conditional(sentence.text, match.start(), match.end())
        and not _MODAL_BEFORE.search(sentence.text[: match.start()])
    )


def _bare_pend(sentence: Sentence) -> bool:
    return bool(_BARE_PEND.search(sentence.text)) and not _OTHER_IN_PROCESS.search(sentence.text)


# What the payer goes on to say it holds the claim for: "We need the PCS.", "We're holding it for the primary's EOB."
_HELD_FOR = re.compile(
    r"(?<!what )\b(?:we|i|they) (?:still )?need\b|\bneed(?:s|ed)? (?:the|a|an|your|her|his|their)\b|"
    r"\bholding (?:it|the claim|this|that) (?:for|until)\b|\b(?:waiting|wait) (?:on|for)\b|\bmissing\b|"
    r"\b(?:requested|asked for)\b",
    re.I,
)


_NAMED_MATERIAL = re.compile(rf"\W*(?:the\s+|medical\s+|your\s+)?(?:[\w-]+\s+){{0,3}}?{_MATERIAL}\W*", re.I)


def _asks_next(following: list[Sentence], sentence: Sentence) -> bool:
    """The payer's next sentences (on its next lines at most) say what the claim waits for.

    "Pending. We need the PCS." or, asked "Pending for what?", just "Records."
    """
    for later in following:
        if later.n - sentence.n > 2 or not later.line.payer or sentence_status(later) in ("in_process", "reprocessing"):
            return False  # "... it's pended. It's sitting in a coding review": the payer's own hold
        if _NAMED_MATERIAL.fullmatch(later.text):
            return True
        match = _HELD_FOR.search(later.text)
        if match and not _NEGATED_REQUEST.search(later.text[: match.start()]) and not CONDITIONAL.search(later.text):
            return True
    return False


def _material_named_before(sentence: Sentence) -> bool:
    """ "... it flags it for an accident questionnaire ... We mailed it on the eighteenth. It's pending that." """
    said = sentence.line.sentences
    index = said.index(sentence)
    for earlier in said[max(0, index - 3) : index]:
        match = re.search(_MATERIAL, earlier.text, re.I)
        if match and not _NEGATED_REQUEST.search(earlier.text[: match.start()]):
            return True
    return False


def _close(event: Event, sentence: Sentence) -> bool:
    return sentence.n - event.sentence.n <= 2


def _pays_too(sentence: Sentence) -> bool:
    """A sentence that denies one part also pays another: "the visit line paid ninety-five twenty",
    "The labs and the x-ray paid, and the MRI line denied." """
    pattern = dict(STATUS_CUES)["paid"]
    for match in pattern.finditer(sentence.text):
        before, after = sentence.text[: match.start()], sentence.text[match.end() :]
        if _MODAL_BEFORE.search(before) or _NEGATED_BEFORE.search(before):
            continue
        if re.match(r"\s*(?:nothing|zero|none|\$0\b|0\.00)", after, re.I):
            continue
        clause = re.split(r"[,;]", before)[-1]
        return any(a.value > 0 for a in spoken.amounts(after)) or bool(
            _PART.search(clause) or _NAMED_PART.search(clause)
        )
    return False


# A part named by what it is: "the labs and the x-ray paid".
_NAMED_PART = re.compile(r"\b(?:labs?|x-?rays?|visit|injection|office visit|e/?m|imaging|drug|supplies)\b", re.I)


def sentence_status(sentence: Sentence) -> str | None:
    return _text_status(sentence.text)


def _conditional(text: str, start: int, end: int) -> bool:
    """A condition governs the words at ``text[start:end]``.

    "If it's not paid by Friday, ..." or "it pays once we get the records": the condition sits in
    the same clause, or opens the clause before ("If you resubmit, it denies"). A condition
    elsewhere in a long sentence does not: "that finalized and paid October second, ... you'll
    want the ICN if you ever need to reopen".
    """
    before = list(CONDITIONAL.finditer(text[:start]))
    if before and len(re.findall(r"[,;:]", text[before[-1].end() : start])) <= 1:
        return True
    clause_end = re.search(r"[,;:.?!]", text[end:])
    return bool(CONDITIONAL.search(text[end : end + clause_end.start() if clause_end else len(text)]))


# A reprocessing already done, told before its result: "the claim reprocessed, and it paid on March eleventh".
_DONE_REPROCESSING = re.compile(r"\bre-?(?:processed|adjudicated)\b", re.I)


# The office told to act ("Send a corrected claim", "you'd resubmit"), not the payer ("I'll send it back").
_HYPOTHETICAL_BEFORE = re.compile(r"\b(?:would|could|might)\s+(?:\w+\s+){0,3}$", re.I)
_PAID_IN_CYCLE = re.compile(r"\b(?:went out|was paid|paid|was issued|issued|released)\b", re.I)
# A request already answered: "We got your response to the additional documentation request".
_ANSWERED = re.compile(
    r"\b(?:got|received|have|has|after|following) (?:your|the|their|her|his) (?:\w+ )?"
    r"(?:response|records|documentation|information|notes|reply)\b",
    re.I,
)
_YOU_WOULD = re.compile(r"\byou(?:'d| (?:can|could|may|would|need to|have to))\b", re.I)
_OFFICE_ACTS = re.compile(
    r"(?:^|[.;]\s*)\W*(?:please\s+)?(?:send|submit|resubmit|refile|correct|fax|upload)\b|"
    r"\byou(?:'ll|'d| will| would| need to| should| can| have to)?\s+(?:\w+\s+)?"
    r"(?:send|submit|resubmit|refile|correct|fax|upload)\b",
    re.I,
)


def _text_status(text: str) -> str | None:
    for kind, pattern in STATUS_CUES:
        for match in pattern.finditer(text):
            before = text[: match.start()]
            conditional = _conditional(text, match.start(), match.end())
            if kind in ("paid", "denied", "not_on_file", "in_process", "reprocessing", "pending_info") and conditional:
                continue
            if kind == "pending_info" and (_HYPOTHETICAL_BEFORE.search(before) or _ANSWERED.search(text)):
                continue  # "the provider would need to send ...", "we got your response to the request"
            if kind == "pending_info" and _NEGATED_BEFORE.search(before):
                continue  # "there's no edit and no ADR", "nothing's pending on your side"
            if kind in ("paid", "denied", "in_process") and _MODAL_BEFORE.search(before):
                continue
            if kind == "in_process" and _PAID_IN_CYCLE.search(before) and re.search(r"cycle|run", match.group()):
                continue  # "It went out on the January twenty-third payment cycle.": paid
            if kind in ("paid", "denied", "reprocessing", "in_process") and _NEGATED_BEFORE.search(before):
                continue
            if kind == "paid" and re.match(r"\s*(?:nothing|zero|none|\$0\b|0\.00)", text[match.end() :], re.I):
                continue
            if kind == "paid" and _OTHER_PAYER.search(before):
                continue  # "the primary paid more than our allowed": another payer's payment
            if kind == "denied" and re.search(r"\b(?:yet|still|so far)\b", text, re.I) and "denied" not in text.lower():
                continue  # "nothing paid yet" is a claim still in process
            if kind == "reprocessing" and _YOU_WOULD.search(text):
                continue  # "you'd need to request a retro auth and ask for the line to be reprocessed"
            if kind == "reprocessing" and _MODAL_BEFORE.search(before) and _OFFICE_ACTS.search(before):
                continue  # "Send a corrected claim ... and that line will reprocess": once the office acts
            if kind == "reprocessing" and _DONE_REPROCESSING.fullmatch(match.group()):
                result = _text_status(text[match.end() :])
                if result in ("paid", "denied", "partially_paid"):
                    return result
            if pattern is _LOOSE_PENDING and (conditional or _NEGATED_REQUEST.search(before)):
                continue
            if pattern is _LOOSE_PENDING and _PAYERS_OWN.search(match.group()):
                continue  # "awaiting home plan response": the payer waits on its own partner
            return kind
    return None


def patient_share(sentence: Sentence, call: Call | None = None) -> bool:
    """The payer states an amount the patient owes (coinsurance, copay, deductible...), or a code of group PR.

    Said outright, or as a yes with an amount to the agent asking about one: "Was any coinsurance
    applied?" - "Oh, yes, the twenty percent, twenty-one sixty-three, that's his."
    """
    if call is not None and _share_asked(call, sentence):
        return True
    if patient_code(sentence):
        return True  # "The balance, five thirty-four sixty, our EOR shows that as PR one-nineteen."
    for match in _PATIENT_SHARE.finditer(sentence.text):
        if PAYER_COVERED.search(sentence.text[: match.start()]):
            continue  # "we picked up the coinsurance": the payer paid that share
        window = sentence.text[max(0, match.start() - 40) : match.end() + 40]
        if _SHARE_NEGATED.search(sentence.text[: match.start()]) or re.search(
            r"\bno\b[^.]{0,20}" + re.escape(match.group()), sentence.text, re.I
        ):
            continue
        if any(a.value > 0 for a in spoken.amounts(window)) or re.search(r"\bpercent\b", window, re.I):
            return True
    match = _PART_TO_PATIENT.search(sentence.text)
    return match is not None and line_level(sentence) and not _SHARE_NEGATED.search(sentence.text[: match.start()])


def patient_code(sentence: Sentence) -> bool:
    """A code of group PR: the patient's share, "... seventy-six twenty-two coinsurance. That's PR-2." """
    return any(mention.group == "PR" for mention in spoken.denial_mentions(sentence.text))


# The payer paying the patient's share named next: "we picked up the coinsurance", "paid the Part B coinsurance".
PAYER_COVERED = re.compile(
    r"\b(?:picked up|covered|paid|pays|pay)\s+(?:the\s+|her\s+|his\s+|their\s+)?(?:full\s+|whole\s+|entire\s+)?"
    r"(?:part [ab]\s+|medicare\s+|member's\s+|patient's\s+)?$",
    re.I,
)


def _share_asked(call: Call, sentence: Sentence) -> bool:
    asked = call.asked_before(sentence)
    return (
        asked is not None
        and asked.text.rstrip().endswith("?")
        and bool(_PATIENT_SHARE.search(asked.text))
        and bool(
            re.match(r"\W*(?:oh,?\s*)?(?:yes|yeah|yep|there was|there is|she has|he has)\b", sentence.line.text, re.I)
        )
        and any(a.value > 0 for a in spoken.amounts(sentence.line.text))
    )


def payment_stretch(events: list[Event]) -> list[Event]:
    """The events since the last status other than a payment (a denied *line* is part of a payment).

    A denial right after a payment for one part of the claim is another part's, unless it names
    the whole claim: "The office visit paid ninety-eight seventy. The cardiac MRI denied, ..."
    """
    stretch: list[Event] = []
    for event in events:
        part_denied = event.status == "denied" and (line_level(event.sentence) or _after_part_paid(stretch, event))
        if event.status in ("paid", "partially_paid") or part_denied:
            stretch.append(event)
        else:
            stretch = []
    return stretch


def _after_part_paid(stretch: list[Event], event: Event) -> bool:
    if not stretch or not line_level(stretch[-1].sentence) or event.sentence.n - stretch[-1].sentence.n > 2:
        return False
    return not re.search(r"\b(?:the|whole|entire|that|this) claim\b|\beverything\b", event.sentence.text, re.I)


# A part of the claim rather than the claim: "the lab line", "the office visit", "the other two units".
_PART = re.compile(
    # a claim line, not the phone line ("the automated line says", "stay on the line")
    r"(?<!automated )(?<!phone )(?<!provider )(?<!service )(?<!on the )(?<!help )\blines?\b|"
    # a sentence that opens with a procedure code: "92511, denied, CO-97."
    r"^\W*(?:\d{5}|[A-V]\d{4})\b|"
    r"\bunits?\b|\bdoses\b|"
    r"\b(?:the|one|two|three|four|both|those|these|that|this|other|second|first) (?:[\w-]+ ){0,3}?"
    r"(?:service|procedure|visit|dose|session|treatment|"
    r"injection|code|test|study|consult(?:ation)?|lab|x-?ray|panel|drug|charge|item)s?\b",
    re.I,
)


# An itemised reading names the part first ("Line two. Procedure 9-3-7-8-4. Denied.") or announces
# the parts ("Two lines. A0427, paid six twelve eighty. A0425, the mileage, denied.").
_ITEM = re.compile(
    r"^\W*(?:line|service line|procedure|detail line)\b|"
    r"\b(?:two|three|four|five|several|multiple|both|\d+) (?:lines|services|procedures|codes|charges|items)\b",
    re.I,
)


def line_level(sentence: Sentence) -> bool:
    if _PART.search(sentence.text):
        return True
    said = sentence.line.sentences
    index = said.index(sentence)
    return any(_ITEM.search(s.text) for s in said[max(0, index - 3) : index])


# A reading line by line: "Line two. Procedure 8-0-0-5-3. Paid sixty-one dollars."
_LINE_ITEM = re.compile(r"^\W*(?:service |detail )?line\b", re.I)


def item_reading(sentence: Sentence) -> bool:
    """Part of a line-by-line reading: it, or one of the three sentences before it, opens "Line ..."."""
    said = sentence.line.sentences
    index = said.index(sentence)
    return any(_LINE_ITEM.match(s.text) for s in said[max(0, index - 3) : index + 1])


def statements_from(call: Call, events: list[Event]) -> list[Sentence]:
    if not events:
        return []
    start = min(e.sentence.index for e in events)
    return [s for s in call.statements() if s.index >= start]
