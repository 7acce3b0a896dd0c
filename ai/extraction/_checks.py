"""The review gate's consistency checks: an outcome, whichever extractor read it, held against the call.

Each check looks for a sign that a value may be wrong even though it was read with its label:
fields that disagree with each other, an outcome that rests on no statement, a reading the
agent repeated differently, a call that stops mid-sentence. A call that trips one goes to a
person with the reason; the checks never change a value.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from ai.extraction import _second_reading, spoken
from ai.extraction._payment import READ_BACK_LEAD
from ai.extraction._transcript import Call, read_call
from ai.outcome import NO_STATUS, CallOutcome, ClaimContext, is_unread_reference

# Codes whose meaning is the patient's share: with a provider group they are a misreading.
_PATIENT_SHARE_CODES = {"1", "2", "3", "66"}


def review_reasons(outcome: CallOutcome, transcript: str, claim: ClaimContext) -> list[str]:
    """Why a person should look at ``outcome`` before it is applied (empty when nothing is amiss)."""
    call = read_call(transcript, claim)
    checks = (
        _denial_closed_unexplained,
        _code_against_group,
        _amount_against_read_back,
        _amount_against_billed,
        _amount_like_a_date,
        _several_claims,
        _ended_abruptly,
        _facts_unplaced,
    )
    reasons = [reason for check in checks if (reason := check(outcome, call, claim))]
    return reasons + _another_reading(outcome, transcript)


def nothing_to_correct(outcome: CallOutcome, transcript: str, model: tuple | None = None) -> bool:
    """Held only for what the second reading settles: there is nothing for a person to correct.

    A call that gave no status, which the second reading also hears as a call that established
    nothing (a caller not verified, a line dropped, a system down): the failure policy takes over.
    A reference read out but not parsed, on a call whose status and outcome the second reading
    agrees with: the reference stays empty (nothing wrong is applied) and the next steps say where
    to find it.
    """
    reasons = outcome.review_reasons
    if not reasons or not all(reason == NO_STATUS or is_unread_reference(reason) for reason in reasons):
        return False
    if NO_STATUS in reasons:
        return outcome.call_outcome == "failed" and _second_reading.established_nothing(transcript, model)
    read = {name: getattr(outcome, name) for name in _second_reading.FIELDS}
    return _second_reading.heard(transcript, model) and not _second_reading.likelier(read, transcript, model)


def _denial_closed_unexplained(outcome: CallOutcome, call: Call, claim: ClaimContext) -> str | None:
    """A denial closed with nothing left to do, though no patient share or instruction was heard."""
    if (
        outcome.call_outcome == "resolved"
        and outcome.claim_status == "denied"
        and not (outcome.denial_code or "").startswith("PR-")
        and not outcome.evidence.get("call_outcome")
    ):
        return "A denial was closed as needing nothing, but no patient share or instruction was heard."
    return None


def _code_against_group(outcome: CallOutcome, call: Call, claim: ClaimContext) -> str | None:
    code = outcome.denial_code or ""
    group, _, number = code.rpartition("-")
    if group and group != "PR" and number in _PATIENT_SHARE_CODES:
        return f"Denial code {code} pairs a patient-share reason with group {group}: check the code as said."
    return None


def _amount_against_read_back(outcome: CallOutcome, call: Call, claim: ClaimContext) -> str | None:
    """The agent repeated the paid amount as another figure straight after the payer said it."""
    lines = outcome.evidence.get("paid_amount", [])
    if outcome.paid_amount is None or not lines:
        return None
    said = next((line for line in call.lines if line.n == lines[0]), None)
    repeat = call.after(said) if said is not None else None
    if repeat is None or repeat.payer:
        return None
    heard = [a for a in spoken.amounts(repeat.text) if a.explicit]
    lead_in = repeat.text[: heard[0].start].strip(" $") if heard else None
    if lead_in is not None and READ_BACK_LEAD.fullmatch(lead_in) and heard[0].value != outcome.paid_amount:
        return (
            f"The agent repeated the paid amount as ${heard[0].value} on line {repeat.n}, "
            f"not ${outcome.paid_amount} as read: check the recording."
        )
    return None


def _amount_like_a_date(outcome: CallOutcome, call: Call, claim: ClaimContext) -> str | None:
    """A paid amount said as two bare numbers that also read as a month and day: "eleven twenty-three"."""
    lines = set(outcome.evidence.get("paid_amount", []))
    for line in call.lines:
        if line.n not in lines:
            continue
        for amount in spoken.amounts(line.text):
            if amount.value == outcome.paid_amount and not amount.explicit and _month_day(line.text, amount):
                return (
                    f'The paid amount ${amount.value} was said as "{line.text[amount.start : amount.end]}", '
                    "which also reads as a date: check the recording."
                )
    return None


def _month_day(text: str, amount: spoken.Amount) -> bool:
    """Said as a month (October to December, or any month joined to its day by a hyphen) and a day."""
    said = text[amount.start : amount.end].lower()
    words = re.findall(r"[a-z]+", said)
    parts = [spoken.number_value(word) for word in re.split(r"[\s,]+|(?<=[a-z])-(?=[a-z]+\b)", " ".join(words))]
    numbers = [p for p in parts if p is not None]
    if len(numbers) == 3 and numbers[1] in (20, 30) and 1 <= numbers[2] <= 9:
        numbers = [numbers[0], numbers[1] + numbers[2]]  # "eleven twenty three"
    if len(numbers) != 2 or not (1 <= numbers[0] <= 12 and 1 <= numbers[1] <= 31):
        return False
    joined = re.match(
        r"[a-z]+-(?:twenty|thirty|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|"
        r"eighteen|nineteen|one|two|three|four|five|six|seven|eight|nine)\b",
        said,
    )
    return numbers[0] >= 10 or joined is not None


# "I have two claims for her", "the nine-one is a different claim"
_SEVERAL_CLAIMS = re.compile(
    r"\b(?:two|three|several|multiple|both|\d) claims\b|\b(?:a |the )?(?:different|other|second|another) claim\b", re.I
)


def _several_claims(outcome: CallOutcome, call: Call, claim: ClaimContext) -> str | None:
    """The payer spoke of another claim, and nothing said was told apart as that claim's."""
    if any(not sentence.in_scope for sentence in call.sentences()):
        return None
    said = next((line for line in call.lines if line.payer and _SEVERAL_CLAIMS.search(line.text)), None)
    if said is not None and outcome.claim_status != "unknown":
        return f"The payer spoke of more than one claim on line {said.n}: check the values are this claim's."
    return None


def _amount_against_billed(outcome: CallOutcome, call: Call, claim: ClaimContext) -> str | None:
    try:
        billed = Decimal(claim.billed_amount) if claim.billed_amount else None
    except InvalidOperation:
        billed = None
    if outcome.paid_amount is None or billed is None or billed <= 0 or outcome.paid_amount <= billed:
        return None
    # read out to the cent ("two hundred fifty-five dollars and eighty cents"), it is no misreading
    # of a shorthand: an encounter rate or interest can make a payment more than the charge
    lines = set(outcome.evidence.get("paid_amount", []))
    said = [(line.text, a) for line in call.lines if line.n in lines for a in spoken.amounts(line.text)]
    if any(a.value == outcome.paid_amount and "cent" in text[a.start : a.end].lower() for text, a in said):
        return None
    return f"The paid amount ${outcome.paid_amount} is more than the ${billed} billed."


# A last payer line that stops mid-word or mid-sentence: "and the check number is 4-4-", "it was—".
_CUT_OFF = re.compile(r"(?:[-–—,]|\.\.\.|…|\b(?:and|the|is|was|to|of|a|for))\s*$", re.I)


def _ended_abruptly(outcome: CallOutcome, call: Call, claim: ClaimContext) -> str | None:
    payer_lines = [line for line in call.lines if line.payer and line.text.strip()]
    if not payer_lines or outcome.call_outcome == "failed":
        return None
    last = payer_lines[-1]
    if _CUT_OFF.search(last.text.strip()) or re.search(r"\b(?:disconnect|dropped|line went dead)\b", last.text, re.I):
        return f"The call ends mid-sentence on line {last.n}: what was read last may be incomplete."
    return None


# What only a claim's status reading says: "Claim status: finalized", a code read, an amount paid or applied.
_CLAIM_FACTS = re.compile(
    r"\bclaim status(?::| is (?!(?:not )?available))|"
    r"\b(?:this|the) claim (?:was|has been|is) (?:finalized|adjudicated|processed)\b|"
    r"\breason code(?: is|:)?\s+\S|\b(?:paid|payment|reimbursement|allowed) amount(?: is| of|:)",
    re.I,
)
_MENU = re.compile(r"\b(?:press|say|enter|dial)\b", re.I)


def _facts_unplaced(outcome: CallOutcome, call: Call, claim: ClaimContext) -> str | None:
    """No status was read, yet the payer side read out a claim's details."""
    if outcome.claim_status != "unknown":
        return None
    for line in call.lines:
        said = [s.text for s in line.sentences if line.payer and not _MENU.search(s.text)]
        if any(_CLAIM_FACTS.search(text) or spoken.denial_mentions(text) for text in said):
            return f"Line {line.n} reads out claim details the reader could not place: check the recording."
    return None


_WORDS = {
    "paid": "paid",
    "partially_paid": "partially paid",
    "denied": "denied",
    "in_process": "in process",
    "pending_info": "waiting for information",
    "not_on_file": "not on file",
    "reprocessing": "being reprocessed",
    "unknown": "not given",
    "resolved": "nothing left to do",
    "follow_up": "a call back",
    "action_required": "the practice to act",
    "failed": "a call that got nowhere",
}
_FIELD_WORDS = {"claim_status": "claim status", "call_outcome": "outcome"}


def _another_reading(outcome: CallOutcome, transcript: str) -> list[str]:
    """Calls worded like this one were mostly labelled otherwise (``_second_reading``)."""
    read = {"claim_status": outcome.claim_status, "call_outcome": outcome.call_outcome}
    return [
        f"The {_FIELD_WORDS[name]} was read as {_WORDS[read[name]]}, but calls worded like this one "
        f"usually mean {_WORDS[other]}: check which it is."
        for name, other in _second_reading.likelier(read, transcript).items()
    ]
