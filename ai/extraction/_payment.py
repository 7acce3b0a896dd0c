"""Payment facts (paid amount, payment date) and the denial and remark codes stated."""

from __future__ import annotations

import re
from datetime import date

from ai.extraction import spoken
from ai.extraction._identifiers import Value
from ai.extraction._status import sentence_status
from ai.extraction._transcript import Call, Sentence

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


def paid_amount(call: Call) -> Value | None:
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
            found = Value(str(amount.value), lines)
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


def payment_date(call: Call) -> tuple[date, int] | None:
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


def denial_code(call: Call, denied_only: bool = False) -> tuple[str, list[int]] | None:
    """The last denial code stated; with ``denied_only``, only from sentences that say "denied"."""
    found = None
    for sentence in call.statements():
        if denied_only and sentence_status(sentence) != "denied":
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


def remarks(call: Call) -> tuple[list[str], list[int]]:
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
