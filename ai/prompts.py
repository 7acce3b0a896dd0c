"""What the outcome extractor sends to the model: instructions, the call, and the answer's shape.

The model answers in JSON that follows ``OUTCOME_SCHEMA`` (structured output, strict mode):
for each field of a ``CallOutcome`` the value and the numbers of the transcript lines that
state it. Lines are numbered in the prompt exactly as ``transcript_lines`` numbers them, so
the evidence can be checked against the transcript afterwards.

Only what the model needs to read the call goes out: the patient's name, date of birth and
member id stay here (the name is masked where the transcript repeats it verbatim).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from ai.outcome import CALL_OUTCOMES, CLAIM_STATUSES, ClaimContext, KnowledgeHit, transcript_lines

SCHEMA_NAME = "call_outcome"

SYSTEM_PROMPT = """\
You read transcripts of phone calls that a medical practice's voice agent made to an insurance \
payer about one claim, and you record what the call established about that claim.

The transcript lines are numbered. "AI:" lines are our agent; "User:" lines are the payer's side \
(the phone menu and the representatives alike). For every field, give the value and the numbers \
of the lines that state it. Only record what the payer's side said or confirmed; never guess a \
value, and never take it from the claim details or the reference notes. When the call does not \
state a value, use null (an empty list for remark codes, "unknown" for the claim status) with no lines.

How to fill the fields:
- claim_status: paid, partially_paid (the payer states a patient share or a denied line alongside \
a payment; a payment read out without either is paid), denied, in_process, pending_info (the payer \
waits for something from the practice or the patient), not_on_file, reprocessing, or unknown. If \
the status changes during the call (a human corrects the phone menu, a representative looks \
again), the last statement counts.
- reference_number: the reference the representative or the phone menu gives for this call. A \
claim number, internal control number (ICN), NPI, tax id, member id or check number is never the \
reference number. Give letters and digits only, without spaces or dashes.
- rep_name: the representative who gave the claim status (after a transfer, the second one), as \
they gave it; with a last initial write it like "Veronica T.". Keep it even if the call failed \
after they answered.
- denial_code: the denial that stands now, as GROUP-NUMBER (e.g. "CO-16") when the group (CO, PR, \
OA, PI, CR) is said or the liability leaves no doubt; the bare number (e.g. "197") otherwise. A \
denial that has been overtaken (sent for reprocessing, paid on appeal, a corrected claim now in \
process) is not the outcome: use null. A denial described only in words gets a code only when \
exactly one code fits and the representative's words leave no doubt. A partial payment with one \
denied line keeps that line's code.
- remark_codes: remittance advice remark codes stated (e.g. "N130"), else an empty list.
- paid_amount: what the payer paid, as a decimal string like "312.40"; never the billed or allowed \
amount; null when the payer paid nothing.
- check_or_eft_number: the check or EFT trace number, letters and digits only.
- payment_date: YYYY-MM-DD. Relative dates ("the twenty-ninth of last month") count from the call date.
- follow_up_days: only when call_outcome is follow_up: calendar days from the call date until the \
next call. Two weeks is 14, a month is 30, business days n become ceil(n * 7 / 5) calendar days. \
For a range, use the number the agent agreed with the representative, else the upper bound. \
Otherwise null (a deadline for the practice to send something is not a follow-up date).
- call_outcome: resolved (nothing more to do: paid in full, or a patient-responsibility denial \
such as PR-1, PR-2 or PR-3 fully explained, which is denied and resolved), follow_up (the payer is \
working on it; call again later), action_required (the practice must act: send records, a \
corrected claim, an appeal, coordination of benefits, an authorization), or failed (no claim \
information obtained: voicemail, phone menu dead end, disconnected, could not be verified, payer \
closed).
- human_reached: true when a human representative came on the line.
- next_steps: one or two plain sentences for the billing staff: what happens next and who does it.
- confidence: from 0 to 1, how sure you are of the record as a whole.

The reference notes explain denial codes and payer policies; use them to understand the call \
and to word next_steps, never as a source of values."""


def _field(value_schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "properties": {
            "value": value_schema,
            "lines": {
                "type": "array",
                "items": {"type": "integer"},
                "description": "Numbers of the transcript lines that state the value.",
            },
        },
        "required": ["value", "lines"],
        "additionalProperties": False,
    }


_NULLABLE_STRING = {"type": ["string", "null"]}

# Strict structured output: every property required, no others, null spelled out in the type.
OUTCOME_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "claim_status": _field({"type": "string", "enum": list(CLAIM_STATUSES)}, "The claim's status."),
        "reference_number": _field(_NULLABLE_STRING, "The call reference number."),
        "rep_name": _field(_NULLABLE_STRING, "The representative who gave the status."),
        "denial_code": _field(_NULLABLE_STRING, "The standing denial code, e.g. CO-16."),
        "remark_codes": _field({"type": "array", "items": {"type": "string"}}, "Remark codes stated."),
        "paid_amount": _field(_NULLABLE_STRING, "Amount paid by the payer, e.g. 312.40."),
        "check_or_eft_number": _field(_NULLABLE_STRING, "Check or EFT number."),
        "payment_date": _field(_NULLABLE_STRING, "Payment date, YYYY-MM-DD."),
        "follow_up_days": _field({"type": ["integer", "null"]}, "Days until the next call."),
        "call_outcome": _field({"type": "string", "enum": list(CALL_OUTCOMES)}, "What the call means for us."),
        "human_reached": _field({"type": "boolean"}, "Whether a human representative answered."),
        "next_steps": _field({"type": "string"}, "What happens next, for the billing staff."),
        "confidence": {"type": "number", "description": "0 to 1: how sure the record is as a whole."},
    },
    "additionalProperties": False,
}
OUTCOME_SCHEMA["required"] = list(OUTCOME_SCHEMA["properties"])

RESPONSE_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {"name": SCHEMA_NAME, "strict": True, "schema": OUTCOME_SCHEMA},
}


def numbered_transcript(transcript: str, claim: ClaimContext) -> str:
    """The transcript with 1-based line numbers, the patient's name masked where it appears verbatim."""
    name = claim.patient_name.strip()
    pattern = re.compile(re.escape(name), re.IGNORECASE) if name else None
    numbered = []
    for number, line in enumerate(transcript_lines(transcript), start=1):
        if pattern:
            line = pattern.sub("[patient]", line)
        numbered.append(f"{number}: {line}")
    return "\n".join(numbered)


def _claim_details(claim: ClaimContext) -> str:
    details = {
        "call_date": claim.call_date.isoformat() if claim.call_date else None,
        "claim_number": claim.claim_number or None,
        "payer": claim.payer or None,
        "date_of_service": claim.date_of_service or None,
        "billed_amount": claim.billed_amount or None,
        "prior_denial_code": claim.prior_denial_code,
    }
    return json.dumps({key: value for key, value in details.items() if value is not None}, indent=2)


def user_message(transcript: str, claim: ClaimContext, knowledge: Sequence[KnowledgeHit] = ()) -> str:
    parts = [f"Claim details (what the practice knew before the call):\n{_claim_details(claim)}"]
    if knowledge:
        notes = "\n\n".join(f"[{hit.title}]\n{hit.text.strip()}" for hit in knowledge)
        parts.append(f"Reference notes:\n{notes}")
    parts.append(f"Transcript:\n{numbered_transcript(transcript, claim)}")
    return "\n\n".join(parts)


def messages(transcript: str, claim: ClaimContext, knowledge: Sequence[KnowledgeHit] = ()) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": user_message(transcript, claim, knowledge)},
    ]
