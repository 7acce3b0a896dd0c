"""The offline outcome extractor: reads a payer call with rules, no data leaves the machine.

Built for precision: a value is filled only when a payer line (or an agent read-back the payer
confirmed) states it with its label ("reference number is ...", "paid amount ...", "check
number ..."), the last statement wins, and anything unclear stays null with a lower
confidence and a review flag. Spoken forms are read by ``ai.extraction.spoken``.
"""

from __future__ import annotations

import re
from decimal import Decimal

from ai.extraction._follow_up import call_outcome, follow_up_wait
from ai.extraction._identifiers import CHECK_KEY, REF_ASK, REF_KEY, identifier, unread_offers
from ai.extraction._payment import denial_code, money_in_doubt, paid_amount, payment_date, pays_more, remarks
from ai.extraction._status import patient_share, payment_stretch, statements_from, status_events
from ai.extraction._transcript import Call, read_call
from ai.outcome import NO_STATUS, CallOutcome, ClaimContext, unread_reference


def extract(transcript: str, claim: ClaimContext) -> CallOutcome:
    call = read_call(transcript, claim)
    outcome = CallOutcome(extractor="rules", human_reached=call.human_reached)
    confidence = 0.9
    if outcome.human_reached:
        outcome.evidence["human_reached"] = [next(line.n for line in call.lines if line.human)]

    # Status: the last statement wins; a payment with a patient share or a denied line is partial.
    events = status_events(call)
    status, status_lines, denied_part = "unknown", [], False
    if events:
        last = events[-1]
        status, status_lines = last.status, [last.sentence.n]
        stretch = payment_stretch(events)
        paid_like = [e for e in stretch if e.status in ("paid", "partially_paid")]
        share = [s.n for s in statements_from(call, stretch) if patient_share(s, call)]
        line_denials = [e for e in stretch if e.status == "denied"]
        partial = any(e.status == "partially_paid" for e in stretch) or line_denials or share
        if paid_like and partial and status in ("paid", "partially_paid", "denied"):
            status, denied_part = "partially_paid", bool(line_denials)
            status_lines = sorted({*status_lines, *share, *[e.sentence.n for e in stretch if e.status != "paid"]})
        if not any(e.sentence.line.human for e in events):
            confidence -= 0.15  # only the phone system said it
    outcome.claim_status = status
    if status_lines:
        outcome.evidence["claim_status"] = status_lines

    # Reference: call-level, so any payer line counts, whichever claim was being discussed.
    payer_lines = [line for line in call.lines if line.payer]
    ref, disputed = identifier(call, REF_KEY, REF_ASK, payer_lines)
    if ref is not None:
        outcome.reference_number = ref.value
        outcome.evidence["reference_number"] = ref.lines
        if disputed:
            outcome.flag("The agent's read-back of the reference number differed and the payer did not confirm it.")
            confidence -= 0.2
    unread = unread_offers(call, REF_KEY, payer_lines, ref, REF_ASK)
    if unread:
        # a number a person can recover from the recording is better flagged than silently null
        outcome.flag(unread_reference(unread[-1]))
        confidence -= 0.15

    if call.reps:
        name, line_n = _status_rep(call, status_lines)
        outcome.rep_name = name
        outcome.evidence["rep_name"] = [line_n]

    denial = (
        denial_code(call, denied_only=status == "partially_paid") if status in ("denied", "partially_paid") else None
    )
    if denial is not None:
        outcome.denial_code, outcome.evidence["denial_code"] = denial[0], denial[1]
    elif status == "denied":
        outcome.flag("The claim is denied but no denial code was stated.")
        confidence -= 0.1
    # a held claim has its remark too ("pended ... Remark N-three-fifty")
    if status in ("denied", "partially_paid", "paid", "pending_info"):
        outcome.remark_codes, remark_lines = remarks(call)
        if outcome.remark_codes:
            outcome.evidence["remark_codes"] = remark_lines

    if status in ("paid", "partially_paid", "denied") or (status == "reprocessing" and pays_more(call)):
        paid = paid_amount(call)
        # a payment the denial came after was taken back (or was another part's): it does not stand
        overtaken = status == "denied" and paid is not None and status_lines and paid.lines[0] <= status_lines[-1]
        if paid is not None and Decimal(paid.value) > 0 and not overtaken:
            outcome.paid_amount = Decimal(paid.value)
            outcome.evidence["paid_amount"] = paid.lines
        in_scope_payer = [line for line in payer_lines if any(s.in_scope for s in line.sentences)]
        check, check_disputed = identifier(
            call, CHECK_KEY, re.compile(r"\b(?:check|eft|trace)\b", re.I), in_scope_payer
        )
        if check is not None and (outcome.paid_amount is not None or status != "denied"):
            outcome.check_or_eft_number = check.value
            outcome.evidence["check_or_eft_number"] = check.lines
            if check_disputed:
                outcome.flag("The agent's read-back of the check or EFT number differed and was not confirmed.")
                confidence -= 0.1
        unread = unread_offers(call, CHECK_KEY, in_scope_payer, check) if status != "denied" else []
        if unread:
            outcome.flag(f"A check or EFT number was read out on line {unread[-1]} but could not be parsed.")
            confidence -= 0.1
        when = payment_date(call)
        if when is not None and (outcome.paid_amount is not None or status != "denied"):
            outcome.payment_date, outcome.evidence["payment_date"] = when[0], [when[1]]
        doubt = money_in_doubt(call) if outcome.paid_amount is not None or overtaken else None
        if doubt is not None:
            outcome.flag(
                f"Line {doubt} speaks of money taken back or another insurer's payment: "
                "check whose payment this is and whether it stands."
            )
            confidence -= 0.1
        elif overtaken and Decimal(paid.value) > 0:
            # a payment then a denial with no take-back: one part may have paid (a partial payment)
            outcome.flag(
                f"A payment of ${paid.value} was read out on line {paid.lines[0]} of a claim read as denied: "
                "check whether part of the claim was paid."
            )
            confidence -= 0.1
        if status in ("paid", "partially_paid") and outcome.paid_amount is None:
            outcome.flag("The claim was paid but no paid amount was stated.")
            confidence -= 0.1

    follow_up = follow_up_wait(call, call.sentences())
    outcome.call_outcome, outcome_lines = call_outcome(status, outcome.denial_code, call, follow_up, denied_part)
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
        outcome.flag(NO_STATUS)
    if outcome.reference_number is None and outcome.human_reached and status != "unknown":
        confidence -= 0.05
    outcome.confidence = round(max(0.1, min(confidence, 0.95)), 2)
    outcome.next_steps = _next_steps(outcome)
    return outcome


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
