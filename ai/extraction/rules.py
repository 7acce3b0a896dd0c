"""The offline outcome extractor: reads a payer call with rules, no data leaves the machine.

Built for precision: a value is filled only when a payer line (or an agent read-back the payer
confirmed) states it with its label ("reference number is ...", "paid amount ...", "check
number ..."), the last statement wins, and anything unclear stays null with a lower
confidence and a review flag. Spoken forms are read by ``ai.extraction.spoken``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from difflib import SequenceMatcher

from ai.extraction import spoken
from ai.extraction._transcript import Call, Line, Sentence, confirms, read_call
from ai.outcome import CallOutcome, ClaimContext

# ---------------------------------------------------------------------------------------------
# Claim status
# ---------------------------------------------------------------------------------------------

# Cues in priority order: when one sentence says two things, the earlier kind wins.
_STATUS_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "reprocessing",
        re.compile(
            r"\bback for (?:re-?processing|adjustment|re-?adjudication)\b|\bre-?process(?:ing|ed)?\b|"
            r"\bre-?adjudicat\w*|\breopen(?:ed|ing)? (?:the|this|that|it)\b",
            re.I,
        ),
    ),
    (
        "pending_info",
        re.compile(
            r"\bpending (?:the |your |an? )?(?:medical |clinical |additional )?(?:records|information|info|"
            r"documentation|docs|itemized|op(?:erative)? (?:note|report)|questionnaire|form|notes|response|receipt of)|"
            r"\bsuspended\b|\badditional documentation\b|\bADR\b|\b(?:request|development|records?) letter\b|"
            r"\b(?:sent|mailed|faxed) (?:a|an|the|you|your office|the (?:customer|member|patient|beneficiary))\b"
            r"[^.]{0,40}?\b(?:request|letter|questionnaire|form)\b|\bon hold until\b|"
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
            r"\b(?:didn't|couldn't|could not|did not|unable to) (?:find|locate) (?:a|any|the) claims?\b|"
            r"\bno claims? (?:was|were|has been) (?:found|received)\b|\bnever (?:received|got) (?:it|the claim|that)\b",
            re.I,
        ),
    ),
    ("denied", re.compile(r"\bdenied\b|\bdenial (?:code|reason) (?:is|was)\b|\bhas been denied\b", re.I)),
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
            r"\bbeing (?:processed|adjudicated|reviewed|priced)\b|\bunder (?:\w+ )?review\b|\bin review\b|"
            r"\bpended\b|\bpending\b|\bin the queue\b|\bpayment floor\b|\bworking its way\b|"
            r"\bnot (?:yet )?(?:finalized|through adjudication|adjudicated)\b|\bstill open\b|\bon hold\b",
            re.I,
        ),
    ),
)
_CONDITIONAL = re.compile(r"\b(?:if|unless|once|otherwise|or else|in case|whether)\b", re.I)
_MODAL_BEFORE = re.compile(
    r"\b(?:will|'ll|would|should|could|can't|cannot|won't|can|may|might|going to|to be|to)\s+(?:\w+\s+){0,2}$", re.I
)
_NEGATED_BEFORE = re.compile(r"\b(?:no|not|never|n't|without|nothing)\s+(?:\w+\s+){0,2}$", re.I)
_PATIENT_SHARE = re.compile(
    r"\b(?:co-?insurance|co-?pay(?:ment)?|deductible|(?:member|patient|customer|beneficiary)(?:'s)? "
    r"(?:responsibility|liability|share|owes)|cost[- ]share|patient owes|member owes)\b",
    re.I,
)
_SHARE_NEGATED = re.compile(
    r"\b(?:no|zero|nothing)\b[^.,]{0,25}$|\b(?:didn't|did not|doesn't|does not|won't) apply\b|\bwaived\b", re.I
)


@dataclass
class _Event:
    status: str
    sentence: Sentence


def _status_events(call: Call) -> list[_Event]:
    events = []
    for sentence in call.statements():
        kind = _sentence_status(sentence)
        if kind:
            events.append(_Event(kind, sentence))
        if kind == "denied" and _line_level(sentence) and _pays_too(sentence):
            # "the lab line was denied ... and the visit line paid ninety-five twenty"
            events.append(_Event("paid", sentence))
    return events


def _pays_too(sentence: Sentence) -> bool:
    pattern = dict(_STATUS_CUES)["paid"]
    for match in pattern.finditer(sentence.text):
        before = sentence.text[: match.start()]
        if not (_MODAL_BEFORE.search(before) or _NEGATED_BEFORE.search(before)):
            return any(a.value > 0 for a in spoken.amounts(sentence.text[match.end() :]))
    return False


def _sentence_status(sentence: Sentence) -> str | None:
    text = sentence.text
    conditional = bool(_CONDITIONAL.search(text))
    for kind, pattern in _STATUS_CUES:
        for match in pattern.finditer(text):
            before = text[: match.start()]
            if kind in ("paid", "denied", "not_on_file", "in_process", "reprocessing") and conditional:
                break
            if kind in ("paid", "denied", "in_process") and _MODAL_BEFORE.search(before):
                continue
            if kind in ("paid", "denied", "reprocessing") and _NEGATED_BEFORE.search(before):
                continue
            if kind == "paid" and re.match(r"\s*(?:nothing|zero|none|\$0\b|0\.00)", text[match.end() :], re.I):
                continue
            if kind == "reprocessing" and re.search(r"\byou (?:can|could|may|would)\b", text, re.I):
                continue
            return kind
    return None


def _patient_share(sentence: Sentence) -> bool:
    """The payer states an amount the patient owes (coinsurance, copay, deductible...)."""
    for match in _PATIENT_SHARE.finditer(sentence.text):
        window = sentence.text[max(0, match.start() - 40) : match.end() + 40]
        if _SHARE_NEGATED.search(sentence.text[: match.start()]) or re.search(
            r"\bno\b[^.]{0,20}" + re.escape(match.group()), sentence.text, re.I
        ):
            continue
        if any(a.value > 0 for a in spoken.amounts(window)) or re.search(r"\bpercent\b", window, re.I):
            return True
    return False


# ---------------------------------------------------------------------------------------------
# Identifiers: reference, check/EFT
# ---------------------------------------------------------------------------------------------

_REF_KEY = re.compile(
    r"\b(?:call )?(?:reference|ref|confirmation|tracking|call id|interaction|inquiry|ticket)"
    r"(?: number| no\.?| #| id)?s?\b(?! field)",
    re.I,
)
_CHECK_KEY = re.compile(
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
_CORRECTION = re.compile(
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
class _Value:
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
            if _CORRECTION.search(between):
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


def _identifier(
    call: Call, key: re.Pattern[str], ask: re.Pattern[str], lines: list[Line]
) -> tuple[_Value | None, bool]:
    """The last value stated for an identifier, after read-backs and corrections.

    Returns the value and whether an unresolved read-back disagreed with it.
    """
    found: _Value | None = None
    announced: Line | None = None
    for line in lines:
        run = _keyed_value(line, key) or _asked_value(call, line, ask)
        if run is None and announced is not None and line.n - announced.n <= 3:
            # "let me give you the reference number, you ready?" ... "It's 1-5-1-8, 7-7-2..."
            run = _run_after(line.text, 0)
        if run is not None:
            found = _Value(run.value, [line.n])
            announced = None
        elif key.search(line.text):
            announced = line
    if found is None:
        return None, False
    disputed = False
    start = next(i for i, line in enumerate(call.lines) if line.n == found.lines[0])
    for line in call.lines[start + 1 : start + 5]:
        runs = [r for r in spoken.spelled_runs(line.text) if _similar(r.value, found.value)]
        if not runs:
            continue
        if line.payer and _CORRECTION.search(line.text):
            found = _Value(runs[-1].value, [line.n])
            disputed = False
        elif not line.payer:
            reply = call.after(line)
            if confirms(reply) and not _CORRECTION.search(reply.text):
                found = _Value(runs[-1].value, [line.n, reply.n])
                disputed = False
            elif not (reply and reply.payer and _CORRECTION.search(reply.text)):
                disputed = True
    return found, disputed


# ---------------------------------------------------------------------------------------------
# Money, dates, denial and remark codes
# ---------------------------------------------------------------------------------------------

_PAY_CUE = re.compile(r"\b(?:paid|pays|payment|reimbursed|reimbursement|remitted)\b", re.I)
_OTHER_AMOUNT_CUE = re.compile(
    r"\b(?:allowed|allowable|billed|bill|charges?|deductible|co-?insurance|co-?pay|responsibility|liability|"
    r"owes?|remaining|difference|balance|applied|write-?off|adjust\w*|cost[- ]share|percent|limit|maximum|total|"
    r"interest|penalty|withh[oe]ld|recoup\w*|offset|refund)\b",
    re.I,
)
_PAY_DATE_CUE = re.compile(
    r"\b(?:paid|payment|eft|check|issued|went out|sent out|mailed|deposited|released|cut)\b", re.I
)
_OTHER_DATE_CUE = re.compile(
    r"\b(?:processed|received|finalized|approved|adjudicated|denied|submitted|came in|got it|letter|for|service|"
    r"dos|effective|terminated|born|birth|filed|due|by|until|appeal\w*|request\w*)\b",
    re.I,
)


def _last_cue(text: str, pay: re.Pattern[str], other: re.Pattern[str]) -> str | None:
    last_pay = max((m.end() for m in pay.finditer(text)), default=-1)
    last_other = max((m.end() for m in other.finditer(text)), default=-1)
    if last_pay < 0 and last_other < 0:
        return None
    return "pay" if last_pay > last_other else "other"


def _paid_amount(call: Call) -> _Value | None:
    found = None
    for sentence in call.statements():
        previous_end = 0
        for amount in spoken.amounts(sentence.text):
            # the label must sit between the previous amount and this one
            before, previous_end = sentence.text[previous_end : amount.start], amount.end
            if _asked_for_payment(call, sentence):
                before = "paid " + before
            if _last_cue(before, _PAY_CUE, _OTHER_AMOUNT_CUE) != "pay":
                continue
            # "forty-four twenty-nine patient responsibility", "sixty in coinsurance"
            after = " ".join(re.split(r"[,.;:?!]", sentence.text[amount.end :])[0].split()[:4])
            if _OTHER_AMOUNT_CUE.search(after) and not _PAY_CUE.search(after):
                continue
            if re.search(r"\bno (?:payment|paid)\b", before, re.I):
                continue
            lines = [sentence.n] + ([sentence.line.confirmed_by.n] if sentence.line.confirmed_by else [])
            found = _Value(str(amount.value), lines)
    return found


def _asked_for_payment(call: Call, sentence: Sentence) -> bool:
    """The payer answers the agent's "What was the paid amount?" with a bare amount."""
    previous = call.before(sentence.line)
    return (
        sentence.line.payer
        and sentence.line.sentences[0] is sentence
        and previous is not None
        and not previous.payer
        and previous.text.rstrip().endswith("?")
        and bool(_PAY_CUE.search(previous.text))
    )


def _payment_date(call: Call) -> tuple[date, int] | None:
    found = None
    for sentence in call.statements():
        for mention in spoken.dates(sentence.text):
            before = sentence.text[: mention.start]
            if _last_cue(before, _PAY_DATE_CUE, _OTHER_DATE_CUE) != "pay":
                continue
            resolved = mention.resolve(call.call_date, "past")
            if resolved is not None:
                found = (resolved, sentence.n)
    return found


_PR_WORDS = re.compile(
    r"\b(?:patient|member|customer)(?:'s)? responsibility\b|\bbill (?:the|her|him) (?:patient|member)\b", re.I
)
_CO_WORDS = re.compile(
    r"\bcontractual obligation\b|\bprovider(?:'s)? liability\b|"
    r"\b(?:can't|cannot|can not) bill the (?:patient|member)\b|\bwrite (?:it )?off\b",
    re.I,
)


def _denial(call: Call, denied_only: bool = False) -> tuple[str, list[int]] | None:
    """The last denial code stated; with ``denied_only``, only from sentences that say "denied"."""
    found = None
    for sentence in call.statements():
        if denied_only and _sentence_status(sentence) != "denied":
            continue
        for mention in spoken.denial_mentions(sentence.text):
            code = mention.code
            if mention.group is None:
                if _PR_WORDS.search(sentence.line.text):
                    code = f"PR-{mention.number}"
                elif _CO_WORDS.search(sentence.line.text):
                    code = f"CO-{mention.number}"
            found = (code, [sentence.n])
    return found


def _remarks(call: Call) -> tuple[list[str], list[int]]:
    codes: list[str] = []
    lines: list[int] = []
    for sentence in call.statements():
        if not re.search(r"\bremark|\brarc\b", sentence.text, re.I) and not spoken.denial_mentions(sentence.text):
            continue
        for code, _, _ in spoken.remark_codes(sentence.text):
            if code not in codes:
                codes.append(code)
                lines.append(sentence.n)
    return codes, sorted(set(lines))


# ---------------------------------------------------------------------------------------------
# Follow-up and what the practice must do
# ---------------------------------------------------------------------------------------------

_DEADLINE = re.compile(
    r"\b(?:within|deadline|due|timely filing|filing limit|from the date of|of the (?:letter|request|notice|date)|"
    r"from receipt|of receipt|to (?:respond|submit|send|appeal|file)|appeal|before)\b",
    re.I,
)
_RECALL = re.compile(
    r"\b(?:call (?:us )?back|check (?:back|again)|give us a call|follow up|if you don't see|expect|should "
    r"(?:pay|come out|release|finalize|be|show)|remit(?:tance)? dated|call again)\b",
    re.I,
)
_AGENT_ACTION = re.compile(
    r"\b(?:we'll|we will|i'll|we're going to|we need to|we'll need to|we should)\s+(?:\w+\s+){0,2}?"
    r"(?:resubmit|send|submit|file|appeal|pull|bill|contact|reach out|correct|update|fax|upload|obtain|"
    r"review the|request|check the rejection|have the)\b",
    re.I,
)
_REP_ACTION = re.compile(
    r"\b(?:you(?:'ll| will)? need to|you'd (?:want|need) to|you (?:should|must|have to)|go ahead and|your office "
    r"(?:can|should|needs to)|(?:^|\. )(?:send|resubmit|submit|fax|upload) (?:it|us|the|a))\b",
    re.I,
)
_NO_ACTION = re.compile(
    r"\bnothing(?: is)?(?: needed| required)? from (?:you|your office|the provider|your end)\b|"
    r"\bnothing(?:'s)? needed\b|\bnothing (?:for|to do)\b|\bno action\b|\bdon't need to (?:send|do)\b|"
    r"\bon the (?:customer|member|patient|beneficiary)\b|\bnothing to do\b",
    re.I,
)


def _follow_up(call: Call, sentences: list[Sentence]) -> tuple[int, int] | None:
    """(calendar days, line) of the last wait the payer gave or the agent pinned and the payer accepted."""
    found = None
    today = call.call_date
    for sentence in sentences:
        if not sentence.in_scope or _DEADLINE.search(sentence.text):
            continue
        if not sentence.line.payer:
            reply = call.after(sentence.line)
            if reply is not None and reply.payer and _CORRECTION.search(reply.text) and not confirms(reply):
                continue
        for duration in spoken.durations(sentence.text, today):
            if 1 <= duration.days <= 180:
                found = (duration.days, sentence.n)
        if today is not None and sentence.line.payer and _RECALL.search(sentence.text):
            for mention in spoken.dates(sentence.text):
                if mention.month is None and mention.weekday is None:
                    continue
                target = mention.resolve(today, "future")
                if target is not None and 0 < (target - today).days <= 120:
                    found = ((target - today).days, sentence.n)
    return found


def _outcome(status: str, denial: str | None, call: Call, follow_up: tuple[int, int] | None) -> tuple[str, list[int]]:
    agent_action = [line.n for line in call.lines if not line.payer and _AGENT_ACTION.search(line.text)]
    in_scope = [s for s in call.sentences() if s.in_scope and s.line.payer]
    rep_action = [s.n for s in in_scope if _REP_ACTION.search(s.text) and not _CONDITIONAL.search(s.text)]
    no_action = [s.n for s in in_scope if _NO_ACTION.search(s.text)]
    if status == "unknown":
        return "failed", []
    if status == "paid":
        return "resolved", []
    if status == "partially_paid":
        # a denied line needs work; a patient-responsibility adjustment does not
        if denial and not denial.startswith("PR-"):
            return "action_required", agent_action or rep_action
        return "resolved", []
    if status == "denied":
        if denial and denial.startswith("PR-") and not agent_action:
            return "resolved", no_action
        return "action_required", agent_action or rep_action
    if status in ("in_process", "reprocessing"):
        return "follow_up", [follow_up[1]] if follow_up else []
    if status == "pending_info":
        if no_action and not agent_action:
            return "follow_up", no_action
        return "action_required", agent_action or rep_action
    if status == "not_on_file":
        if follow_up and not agent_action:
            return "follow_up", [follow_up[1]]
        return "action_required", agent_action or rep_action
    return "failed", []


# ---------------------------------------------------------------------------------------------
# Putting it together
# ---------------------------------------------------------------------------------------------


def extract(transcript: str, claim: ClaimContext) -> CallOutcome:
    call = read_call(transcript, claim)
    outcome = CallOutcome(extractor="rules", human_reached=call.human_reached)
    confidence = 0.9
    if outcome.human_reached:
        outcome.evidence["human_reached"] = [next(line.n for line in call.lines if line.human)]

    # Status: the last statement wins; a payment with a patient share or a denied line is partial.
    events = _status_events(call)
    status, status_lines = "unknown", []
    if events:
        last = events[-1]
        status, status_lines = last.status, [last.sentence.n]
        stretch = _payment_stretch(events)
        paid_like = [e for e in stretch if e.status in ("paid", "partially_paid")]
        share = [s.n for s in _from(call, stretch) if _patient_share(s)]
        line_denials = [e for e in stretch if e.status == "denied"]
        partial = any(e.status == "partially_paid" for e in stretch) or line_denials or share
        if paid_like and partial and status in ("paid", "partially_paid", "denied"):
            status = "partially_paid"
            status_lines = sorted({*status_lines, *share, *[e.sentence.n for e in stretch if e.status != "paid"]})
        if not any(e.sentence.line.human for e in events):
            confidence -= 0.15  # only the phone system said it
    outcome.claim_status = status
    if status_lines:
        outcome.evidence["claim_status"] = status_lines

    # Reference: call-level, so any payer line counts, whichever claim was being discussed.
    payer_lines = [line for line in call.lines if line.payer]
    ref, disputed = _identifier(call, _REF_KEY, re.compile(r"\breference|\bref\b|\bconfirmation", re.I), payer_lines)
    if ref is not None:
        outcome.reference_number = ref.value
        outcome.evidence["reference_number"] = ref.lines
        if disputed:
            outcome.flag("The agent's read-back of the reference number differed and the payer did not confirm it.")
            confidence -= 0.2

    if call.reps:
        name, line_n = _status_rep(call, status_lines)
        outcome.rep_name = name
        outcome.evidence["rep_name"] = [line_n]

    denial = _denial(call, denied_only=status == "partially_paid") if status in ("denied", "partially_paid") else None
    if denial is not None:
        outcome.denial_code, outcome.evidence["denial_code"] = denial[0], denial[1]
    elif status == "denied":
        outcome.flag("The claim is denied but no denial code was stated.")
        confidence -= 0.1
    if status in ("denied", "partially_paid", "paid"):
        outcome.remark_codes, remark_lines = _remarks(call)
        if outcome.remark_codes:
            outcome.evidence["remark_codes"] = remark_lines

    if status in ("paid", "partially_paid", "denied"):
        paid = _paid_amount(call)
        if paid is not None and Decimal(paid.value) > 0:
            outcome.paid_amount = Decimal(paid.value)
            outcome.evidence["paid_amount"] = paid.lines
        in_scope_payer = [line for line in payer_lines if any(s.in_scope for s in line.sentences)]
        check, check_disputed = _identifier(
            call, _CHECK_KEY, re.compile(r"\b(?:check|eft|trace)\b", re.I), in_scope_payer
        )
        if check is not None and (outcome.paid_amount is not None or status != "denied"):
            outcome.check_or_eft_number = check.value
            outcome.evidence["check_or_eft_number"] = check.lines
            if check_disputed:
                outcome.flag("The agent's read-back of the check or EFT number differed and was not confirmed.")
                confidence -= 0.1
        when = _payment_date(call)
        if when is not None and (outcome.paid_amount is not None or status != "denied"):
            outcome.payment_date, outcome.evidence["payment_date"] = when[0], [when[1]]
        if status in ("paid", "partially_paid") and outcome.paid_amount is None:
            outcome.flag("The claim was paid but no paid amount was stated.")
            confidence -= 0.1

    follow_up = _follow_up(call, call.sentences())
    outcome.call_outcome, outcome_lines = _outcome(status, outcome.denial_code, call, follow_up)
    if outcome_lines:
        outcome.evidence["call_outcome"] = sorted(set(outcome_lines))
    if outcome.call_outcome == "follow_up":
        if follow_up is not None:
            outcome.follow_up_days, outcome.evidence["follow_up_days"] = follow_up[0], [follow_up[1]]
        else:
            outcome.flag("The payer gave no time to wait before calling again.")
            confidence -= 0.15
    if status == "unknown":
        confidence = 0.5 if outcome.human_reached else 0.7
        outcome.flag("No claim status was obtained on this call.")
    if outcome.reference_number is None and outcome.human_reached and status != "unknown":
        confidence -= 0.05
    outcome.confidence = round(max(0.1, min(confidence, 0.95)), 2)
    outcome.next_steps = _next_steps(outcome)
    return outcome


def _payment_stretch(events: list[_Event]) -> list[_Event]:
    """The events since the last status other than a payment (a denied *line* is part of a payment)."""
    stretch: list[_Event] = []
    for event in events:
        if event.status in ("paid", "partially_paid") or (event.status == "denied" and _line_level(event.sentence)):
            stretch.append(event)
        else:
            stretch = []
    return stretch


def _line_level(sentence: Sentence) -> bool:
    return bool(re.search(r"\bline\b|\b(?:the|one) (?:service|procedure|visit|injection|code)\b", sentence.text, re.I))


def _from(call: Call, events: list[_Event]) -> list[Sentence]:
    if not events:
        return []
    start = min(e.sentence.index for e in events)
    return [s for s in call.statements() if s.index >= start]


def _status_rep(call: Call, status_lines: list[int]) -> tuple[str, int]:
    """The representative who gave the status: the last one introduced before it was given."""
    limit = max(status_lines) if status_lines else None
    chosen = call.reps[-1]
    if limit is not None:
        earlier = [rep for rep in call.reps if rep[1] <= limit]
        if earlier:
            chosen = earlier[-1]
    return chosen


def _next_steps(outcome: CallOutcome) -> str:
    ref = f" (call reference {outcome.reference_number})" if outcome.reference_number else ""
    code = f" {outcome.denial_code}" if outcome.denial_code else ""
    if outcome.call_outcome == "failed":
        return "No claim information was obtained; call the payer again."
    status = outcome.claim_status
    if status in ("paid", "partially_paid"):
        amount = f" ${outcome.paid_amount}" if outcome.paid_amount is not None else ""
        when = f" on {outcome.payment_date.isoformat()}" if outcome.payment_date else ""
        via = f" (check/EFT {outcome.check_or_eft_number})" if outcome.check_or_eft_number else ""
        first = f"The payer paid{amount}{when}{via}{ref}; post the payment."
        if outcome.call_outcome == "action_required":
            return first + f" A line was denied{code}: correct and resubmit or appeal it."
        if status == "partially_paid":
            return first + " Bill the patient for their share."
        return first
    if status == "denied":
        if outcome.call_outcome == "resolved":
            return f"Denied{code} as patient responsibility{ref}; bill the patient."
        return f"Denied{code}{ref}; correct and resubmit, or appeal, as the payer advised."
    wait = f" in {outcome.follow_up_days} days" if outcome.follow_up_days else ""
    if outcome.call_outcome == "follow_up":
        label = {"reprocessing": "being reprocessed", "not_on_file": "not on file yet"}.get(status, "in process")
        return f"The claim is {label}{ref}; call again{wait}."
    if status == "pending_info":
        return f"The payer is waiting on information from the practice{ref}; send what was requested."
    if status == "not_on_file":
        return f"The payer has no record of the claim{ref}; resubmit it."
    return f"Review the call{ref}."
