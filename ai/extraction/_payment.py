"""Payment facts (paid amount, payment date) and the denial and remark codes stated."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from ai.extraction import spoken
from ai.extraction._identifiers import Value
from ai.extraction._status import PAYER_COVERED, UNPAID_PART, item_reading, line_level, patient_code, sentence_status
from ai.extraction._transcript import Call, Sentence

_PAY_CUE = re.compile(
    r"\b(?:paid|pays|payment|reimbursed|reimbursement|remitted)\b|"
    # "we sent twelve oh four fifty", "a check for three eighty even", "EFT of ninety-one thirty"
    r"\b(?:we|they) (?:sent|issued|released)\b|\b(?:check|eft|draft) (?:for|of|in the amount of)\b",
    re.I,
)
# A share of the patient's named last before an amount: "..., the Part B coinsurance, nineteen forty-two".
_SHARE_LAST = re.compile(r"\b(?:co-?insurance|co-?pay(?:ment)?|deductible)[\s,:]*(?:of\s+)?$", re.I)
# The sum of what a sentence said was paid: "..., total sixty-two forty".
_TOTAL = re.compile(r"(?:^|[,;]\s*|\band\s+)(?:a\s+|the\s+)?total(?:\s+of|\s+is|\s+was)?\s*$", re.I)
# The payment named right after the amount: "One eighty-eight seventy-five, paid two weeks ago".
_PAY_AFTER = re.compile(r"^(?:\s*even)?[\s,]*(?:was |were )?(?:paid|issued|went out|sent|released)\b", re.I)
_OTHER_AMOUNT_CUE = re.compile(
    r"\b(?:allowed|allowable|billed|bill|charges?|deductible|co-?insurance|co-?pay|responsibility|liability|"
    r"owes?|remaining|difference|balance|applied|write-?off|adjust\w*|cost[- ]share|percent|limit|maximum|total|"
    r"interest|penalty|withh[oe]ld|recoup\w*|offset|refund|taken back|took back|reversed|recovered)\b",
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


# "... so one ninety-three sixty total", "... forty-four oh six in total"
_TOTAL_AFTER = re.compile(r"\s*(?:in\s+)?total\b", re.I)
# what may come between line amounts and their sum: "... each, so", "..., that's", "... apiece, for"
_SUM_LEAD = re.compile(
    r"[\s,]*(?:(?:each|apiece|so|and|for|making it|that's|that is|which is|comes to|a|your)[\s,]*)*", re.I
)
# The speaker takes back what they just said: "One sixty-four thirty. Sorry, correction, one sixty-four eighty."
_RESTATED = re.compile(
    r"\b(?:sorry|correction|i mean|i meant|scratch that|make that|let me (?:say|read) (?:that|it) again|"
    r"let me correct|(?:no,? )?wait|rather)\b|"
    # a reading broken off and started again: "nine twelve and change... nine hundred twelve dollars and eighteen"
    r"\.\.\.|…|—|--",
    re.I,
)
# A reading that trails off at the end of what was said: "The paid amount is eighty-seven..."
_TRAILS_OFF = re.compile(r"\s*(?:\.\.\.|…|-|—)\s*$")
# An amount said roughly is not what was paid: "nine twelve and change", "about three hundred".
_ROUGH_AFTER = re.compile(r"^\s*(?:-?ish\b|and change\b|or so\b|and some(?:thing)?\b|something\b|give or take\b)", re.I)
_ROUGH_BEFORE = re.compile(
    r"\b(?:about|around|roughly|approximately|almost|nearly|close to|a little (?:over|under|more than|less than)|"
    r"just (?:over|under)|somewhere (?:around|near)|ballpark)\s*$",
    re.I,
)


# A rate, then what it comes to: "We paid eighty percent, so a hundred eighty-four thirty-two". The
# percentage only says how the amount was worked out; the label before it names the amount.
_RATE_THEN_AMOUNT = re.compile(
    r"\b[\w-]+ (?:percent|%)(?: of (?:the |that )?(?:allowed|allowable|billed|charges?)(?: amount)?)?,?\s*"
    r"(?:so|which (?:is|was|comes to|came to)|that's|that is|that comes to|for|or)\s*$",
    re.I,
)


# A claim sent back to pay more: "any additional payment will come on a new remit", "you'll get the difference".
_PAYS_MORE = re.compile(
    r"\b(?:additional|further|extra) (?:payment|amount|money)\b|\bunderpa(?:id|yment)\b|"
    r"\b(?:get|pay|receive|send|issue)s? (?:you )?the difference\b|\bwith the difference\b",
    re.I,
)


def pays_more(call: Call) -> bool:
    """The claim is reprocessed to pay more: the payment already made stands beside the reprocessing."""
    return any(_PAYS_MORE.search(sentence.text) for sentence in call.statements())


def paid_amount(call: Call) -> Value | None:
    """The last amount stated as paid; an amount the payer restates straight after it on the same line wins.

    An amount said roughly ("nine twelve and change") is only a lead-in: the exact amount restated
    after it is taken, and when none follows there is no paid amount (better null than a wrong one).
    """
    found = None
    rough = trailing = whole_claim = False  # whole_claim: the amount found is the claim's, not a line's
    since_paid: str | None = None  # what was said after the amount found, for a restatement
    others = _other_payers(call)
    for sentence in call.statements():
        previous_end = taken_end = 0
        said_here: list[Decimal] = []  # the amounts said so far in the sentence
        # a restatement counts on the same line, or on the payer's next lines when the amount trailed off
        # ("The paid amount is eighty-seven..." [hold music] "...sorry. Eighty-seven dollars and twelve cents.")
        # or on the payer's answer to the agent's read-back ("Seven hundred ninety-four dollars?" -
        # "Oh, sorry, no, I said that wrong. Five ninety-four twelve.")
        answers_read_back = found is not None and _answers_read_back(call, sentence, found)
        carried = answers_read_back or (
            found is not None and trailing and sentence.line.payer and sentence.n - found.lines[0] <= 3
        )
        if found is not None and since_paid is not None and found.lines[0] != sentence.n and not carried:
            since_paid = None
        if answers_read_back and sentence is sentence.line.sentences[0]:
            since_paid = ""  # the read-back repeated the amount: what the payer said before it is behind
        for amount in spoken.amounts(sentence.text):
            # the label must sit between the previous amount and this one
            before, previous_end = sentence.text[previous_end : amount.start], amount.end
            # "96365 at one sixty-eight forty and 96366 at one twenty-one sixty, that's your two ninety"
            adds_up = len(said_here) >= 2 and amount.value == sum(said_here)
            said_here.append(amount.value)
            before = _RATE_THEN_AMOUNT.sub(" ", before)
            if (
                _asked_for_payment(call, sentence, amount)
                or _after_payment(call, sentence, before)
                or _read_back(call, sentence, found, amount)
            ):
                before = "paid " + before
            said_since = None if since_paid is None else since_paid + " " + sentence.text[taken_end : amount.start]
            restated = said_since is not None and _restates(said_since)
            if restated and _money_like(sentence.text, amount):
                before = "paid " + before
            cue = _last_cue(before, _PAY_CUE, _OTHER_AMOUNT_CUE)
            share = _SHARE_LAST.search(before)
            covered = share and PAYER_COVERED.search(before[: share.start()])
            if covered and re.search(r"\b(?:we|they)\s+$", before[: covered.start()], re.I):
                cue = "pay"  # a supplement plan's payment, not the patient's: "We paid the Part B coinsurance, ..."
            paid_before = _PAY_CUE.search(sentence.text[: amount.start])
            sums = bool(
                _TOTAL.search(before)
                or (_SUM_LEAD.fullmatch(before) and _TOTAL_AFTER.match(sentence.text[amount.end :]))
                or (adds_up and _SUM_LEAD.fullmatch(before))
            )
            if sums and paid_before:
                # "the vaccine lines paid, ninety-four sixty and ..., total sixty-two forty",
                # "the two lines paid, ninety-six eighty each, so one ninety-three sixty total"
                cue = "pay"
            if _OWNED_BY_OTHER.match(sentence.text[amount.end :]) or (
                cue == "pay" and others is not None and _paid_by_other(sentence.text[: amount.start], others)
            ):
                continue  # "Aetna allowed three ninety, paid three ten twenty-two": the primary's payment
            # the amount opens its clause: "One eighty-eight seventy-five, paid", "... each, that's two ninety-two paid"
            opens = not before.strip(" ,") or bool(_SUM_LEAD.fullmatch(before))
            if (
                cue is None
                and opens
                and _money_like(sentence.text, amount)
                and _PAY_AFTER.search(sentence.text[amount.end :])
            ):
                cue = "pay"
            if cue != "pay":
                continue
            # "forty-four twenty-nine patient responsibility", "sixty in coinsurance"
            after = " ".join(re.split(r"[,.;:?!]", sentence.text[amount.end :])[0].split()[:4])
            if _OTHER_AMOUNT_CUE.search(after) and not _PAY_CUE.search(after) and not sums:
                continue
            if re.search(r"\bno (?:payment|paid)\b", before, re.I):
                continue
            if amount.value == 0 and found is not None and line_level(sentence):
                continue  # "zero paid on that line": the other line's payment stands
            if whole_claim and item_reading(sentence) and not restated:
                continue  # "Total paid, one seventy-one thirty-three." ... "Line two ... Paid fifty dollars."
            lines = [sentence.n] + ([sentence.line.confirmed_by.n] if sentence.line.confirmed_by else [])
            found = Value(str(amount.value), lines)
            # cents alone are a piece of an amount heard apart from its dollars: never the whole payment
            rough = amount.cents_only or bool(
                _ROUGH_AFTER.match(sentence.text[amount.end :]) or _ROUGH_BEFORE.search(before)
            )
            trailing = bool(_TRAILS_OFF.match(sentence.text[amount.end :]))
            rough = rough or trailing
            since_paid, taken_end = "", amount.end
            whole_claim = sums or bool(re.search(r"\btotal\b", before, re.I)) or not line_level(sentence)
        if since_paid is not None:
            since_paid += " " + sentence.text[taken_end:]
    return None if rough else found


# Another insurer named as primary in the call: "Medicare's primary on her", "Aetna's primary, we're secondary".
_NAMED_PRIMARY = re.compile(
    r"\b([A-Z][\w&-]*(?: [A-Z][\w&-]*){0,2})(?:'s| is| was) (?:the )?primary\b|\bprimary (?:is|was) ([A-Z][\w&-]*)"
)
_GENERIC_OTHER = r"the primary|primary (?:payer|insurance|plan|carrier)|(?:the )?other (?:insurance|payer|plan|carrier)"
# "the three ten twenty-two is Aetna's", "that one's Medicare's, not ours"
_OWNED_BY_OTHER = re.compile(
    r"\s*(?:is|was|are|were|that's|that is)\s+(?:all\s+)?"
    r"(?:[A-Z][\w&-]*'s\b|theirs\b|the primary's\b|not (?:ours|us)\b)"
)
_CLAUSE_START = re.compile(r"(?:[.;!?]|,\s+(?:and|but|then)\b)\s*")


def _other_payers(call: Call) -> re.Pattern[str] | None:
    """The other insurers this call names as primary, as one pattern (None when it names none)."""
    names = {
        (match.group(1) or match.group(2)).split()[-1]
        for line in call.lines
        if line.payer
        for match in _NAMED_PRIMARY.finditer(line.text)
    }
    names -= {"It", "That", "This", "He", "She", "They", "Which", "Who", "What"}
    alternatives = [re.escape(name) for name in sorted(names)] + [_GENERIC_OTHER]
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b", re.I) if names else None


def _paid_by_other(before: str, others: re.Pattern[str]) -> bool:
    """The clause an amount ends names another insurer as the one that paid, and not us after it."""
    clause = _CLAUSE_START.split(before)[-1]
    named = list(others.finditer(clause))
    return bool(named) and not re.search(r"\b(?:we|us|our|ours)\b", clause[named[-1].end() :], re.I)


def _read_back(call: Call, sentence: Sentence, found: Value | None, amount: spoken.Amount) -> bool:
    """The agent reads the paid amount back in full and the payer confirms it: the read-back is the amount.

    "Twelve eighty-four even." - "One thousand two hundred eighty-four dollars and zero cents?" - "Yes."
    """
    if found is None or sentence.line.payer or not amount.explicit:
        return False
    said = call.before(sentence.line)
    lead_in = sentence.text[: amount.start].strip(" $")
    return said is not None and said.n == found.lines[0] and bool(READ_BACK_LEAD.fullmatch(lead_in))


def _answers_read_back(call: Call, sentence: Sentence, found: Value) -> bool:
    """The payer's line straight after the agent repeated, as an amount, what the payer had just said."""
    asked = call.before(sentence.line)
    said = call.before(asked) if asked is not None and not asked.payer else None
    return (
        sentence.line.payer
        and said is not None
        and said.n == found.lines[0]
        and any(amount.explicit for amount in spoken.amounts(asked.text))
    )


# What may come before an amount the agent repeats: "So, one hundred ..." (also the gate's read-back check).
READ_BACK_LEAD = re.compile(r"(?:(?:so|okay|ok|got it|that's|that is|and)[\s,]*)*", re.I)


def _restates(between: str) -> bool:
    """Words between a paid amount and the next that take the first back, with nothing else named."""
    return bool(_RESTATED.search(between)) and not _OTHER_AMOUNT_CUE.search(between)


def _after_payment(call: Call, sentence: Sentence, before: str) -> bool:
    """An amount that opens the sentence after "That claim paid." (same line or the payer's next): the amount paid."""
    if before.strip(" ,") or _last_cue(before, _PAY_CUE, _OTHER_AMOUNT_CUE) is not None:
        return False
    lines = sentence.line.sentences
    index = lines.index(sentence)
    previous_line = call.before(sentence.line)
    if index > 0:
        said_before = lines[index - 1]
    elif previous_line is not None and previous_line.payer and previous_line.sentences:
        said_before = previous_line.sentences[-1]  # the payer went on in a new line, no one between
    else:
        return False
    earlier = said_before.text
    return sentence_status(said_before) == "paid" and not any(_money_like(earlier, a) for a in spoken.amounts(earlier))


def _money_like(text: str, amount: spoken.Amount) -> bool:
    """Said as money, not a lone number word ("that one paid" is no amount)."""
    return amount.explicit or bool(re.search(r"[\s.$]", text[amount.start : amount.end].strip()))


def _asked_for_payment(call: Call, sentence: Sentence, amount: spoken.Amount) -> bool:
    """The payer answers the agent's question about the payment.

    With a bare amount: "What was the paid amount?" - "Eighty-four twelve." Or with the amount the
    question already held as the payment: "So the total payment was seven thousand four hundred twelve
    dollars and sixty cents?" - "Seven thousand four hundred twelve sixty, yep." Any other answer to a
    question that holds an amount corrects something else: "Six hundred fifty-five dollars and seventy
    cents, paid November thirteenth?" - "Twenty-three."
    """
    asked = call.asked_before(sentence)
    if asked is None or not asked.text.rstrip().endswith("?"):
        return False
    held = [said for said in spoken.amounts(asked.text) if said.explicit]
    if not held:
        return bool(_PAY_CUE.search(asked.text))
    return any(
        said.value == amount.value and _last_cue(asked.text[: said.start], _PAY_CUE, _OTHER_AMOUNT_CUE) == "pay"
        for said in held
    )


def _asked_when_paid(call: Call, sentence: Sentence) -> bool:
    previous = call.asked_before(sentence)
    return (
        previous is not None
        and bool(re.search(r"\bwhen\b[^?]*\?\s*$", previous.text, re.I))
        and bool(_PAY_DATE_CUE.search(previous.text) or _PAY_CUE.search(previous.text))
    )


# Words that put a payment read out in doubt: money taken back, or paid by another insurer.
_MONEY_IN_DOUBT = re.compile(
    r"\b(?:recoup\w*|offset(?:s|ting)?|took (?:it |that |the (?:money|payment) )?back|"
    r"tak(?:e|en|ing) (?:it |that )?back|claw(?:ed)?[- ]?back|overpa(?:id|yment)|refund request|"
    r"(?:primary|other|prior) (?:insurance|insurer|payer|carrier|plan)|coordination of benefits|\bcob\b|"
    r"medicare paid|medicaid paid|paid as (?:primary|secondary))",
    re.I,
)


def money_in_doubt(call: Call) -> int | None:
    """The payer line that speaks of money taken back or another insurer's payment, if any.

    A payment read out near such words may not be this payer's, or may no longer stand, so a
    person decides before it is applied.
    """
    for line in call.lines:
        if line.payer and any(s.in_scope and _MONEY_IN_DOUBT.search(s.text) for s in line.sentences):
            return line.n
    return None


def payment_date(call: Call) -> tuple[date, int] | None:
    found = None
    for sentence in call.statements():
        for mention in spoken.dates(sentence.text):
            before = sentence.text[: mention.start]
            cue = _last_cue(before, _PAY_DATE_CUE, _OTHER_DATE_CUE)
            if cue is None and _asked_when_paid(call, sentence) and re.fullmatch(r"\W*(?:on\s*)?", before, re.I):
                cue = "pay"  # "When was it paid?" "March twentieth, by EFT."
            if cue != "pay":
                continue
            resolved = mention.resolve(call.call_date, "past")
            if resolved is not None:
                found = (resolved, sentence.n)
    return found


_ABOUT_REASON = re.compile(r"\breason\b|\bdenied\b|\bdenial\b", re.I)


def denial_code(call: Call, denied_only: bool = False) -> tuple[str, list[int]] | None:
    """The last denial code stated; with ``denied_only``, only where a denied or unpaid part is described.

    A code said without its group takes one said on its own in the next or previous statement
    ("denied, reason sixteen." ... "Group code is C O."), or liability words on the same line.
    """
    found = None
    statements = call.statements()
    for index, sentence in enumerate(statements):
        previous = statements[index - 1] if index > 0 else None
        if denied_only and not (
            _about_unpaid(sentence, previous) or _answers_denial_question(call, sentence) or patient_code(sentence)
        ):
            continue
        mentions = spoken.denial_mentions(sentence.text)
        if not mentions and found is not None and previous is not None and previous.line is sentence.line:
            mentions = _code_corrected(sentence.text, found[0])
            if not mentions and sentence.n in found[1] and _RESTATED.search(previous.text):
                # "... reason code one ninety-six. Oh, no, sorry, wrong column. One ninety-seven."
                mentions = _code_corrected(sentence.text, found[0], spoken.bare_code(sentence.text))
        if not mentions and previous is not None and previous.line is sentence.line:
            lead = spoken.leading_code(sentence.text) if _ABOUT_REASON.search(previous.text) else None
            mentions = [lead] if lead is not None else []
        for mention in mentions:
            code = mention.code
            said_by: list[int] = []
            if mention.group is None:
                group = _group_nearby(statements, index)
                if group is not None:
                    code = f"{group}-{mention.number}"
                    said_by = _group_lines(statements, index)
                elif (liable := _liability(statements, index)) is not None:
                    code = f"{liable[0]}-{mention.number}"
                    said_by = [liable[1]]
            if mention.group is None and found is not None and found[0].endswith(f"-{mention.number}"):
                code, said_by = found[0], found[1]  # "Group code: C O. Reason code: 4." ... "Reason code 4: ..."
            lines = sorted({sentence.n, *said_by}) if code != mention.code else [sentence.n]
            if found is not None and mention.group is not None and mention.group == found[0].split("-")[0]:
                lines = sorted({*lines, *found[1]})  # a corrected number keeps the group said with the first
            found = (code, lines)
    return found


def _code_corrected(text: str, code: str, mention: spoken.DenialMention | None = None) -> list[spoken.DenialMention]:
    """ "No, I'm sorry, twenty-seven." straight after a code: the number is taken back, the group stands."""
    mention = mention or spoken.corrected_code(text)
    if mention is None:
        return []
    group = code.split("-")[0] if "-" in code else None
    return [spoken.DenialMention(group, mention.number, mention.start, mention.end)]


def _answers_denial_question(call: Call, sentence: Sentence) -> bool:
    """The payer answers the agent asking why a part was denied: "What was the denial reason on the injection?" """
    asked = call.asked_before(sentence, opening=False)
    return asked is not None and bool(re.search(r"\b(?:denial|denied|reason|why)\b[^?]*\?", asked.text, re.I))


def _about_unpaid(sentence: Sentence, previous: Sentence | None) -> bool:
    """The sentence (or the one before it on the same line) describes a denied or unpaid part."""
    if sentence_status(sentence) == "denied" or UNPAID_PART.search(sentence.text):
        return True
    return (
        previous is not None
        and previous.line is sentence.line
        and sentence_status(sentence) != "paid"
        and (sentence_status(previous) == "denied" or bool(UNPAID_PART.search(previous.text)))
    )


def _nearby(statements: list[Sentence], index: int) -> list[Sentence]:
    """Payer statements next to ``statements[index]``: the one before on its line and those on the next two lines."""
    here = statements[index]
    near = [s for s in statements[index + 1 :] if s.line.payer and s.n - here.n <= 4]
    if index > 0 and statements[index - 1].line.payer and here.n - statements[index - 1].n <= 1:
        near.insert(0, statements[index - 1])
    return near


def _group_nearby(statements: list[Sentence], index: int) -> str | None:
    for sentence in _nearby(statements, index):
        if spoken.denial_mentions(sentence.text):
            break  # another code was said: the group belongs to it
        group = spoken.group_alone(sentence.text)
        if group is not None:
            return group
    return None


def _liability(statements: list[Sentence], index: int) -> tuple[str, int] | None:
    """PR or CO from who the payer says must pay, on the code's line or the payer's next lines.

    "Reason code 119 ..." then "The patient is responsible for that one": the patient's. Words
    that follow another code belong to that code.
    """
    here = statements[index]
    said = [(here.line.text, here.n)]
    for sentence in _nearby(statements, index):
        if sentence.line is here.line or sentence.n < here.n:
            continue
        if spoken.denial_mentions(sentence.text):
            break
        said.append((sentence.text, sentence.n))
    for text, line_n in said:
        group = spoken.liable_group(text)
        if group is not None:
            return group, line_n
    return None


def _group_lines(statements: list[Sentence], index: int) -> list[int]:
    return [s.n for s in _nearby(statements, index) if spoken.group_alone(s.text)][:1]


def remarks(call: Call) -> tuple[list[str], list[int]]:
    codes: list[str] = []
    lines: list[int] = []
    for sentence in call.statements():
        asked = call.before(sentence.line)
        answers = (
            sentence.line.payer
            and asked is not None
            and not asked.payer
            and bool(re.search(r"\bremark|\brarc\b", asked.text, re.I))
        )
        if not (
            answers or re.search(r"\bremark|\brarc\b", sentence.text, re.I) or spoken.denial_mentions(sentence.text)
        ):
            continue
        for code, _, _ in spoken.remark_codes(sentence.text):
            if code not in codes:
                codes.append(code)
                lines.append(sentence.n)
    return codes, sorted(set(lines))
