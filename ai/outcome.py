"""What an outcome extractor reads and what it returns.

``ClaimContext`` is what the practice knew before the call (the corpus's ``claim`` record);
``CallOutcome`` is what the call established. Every value in an outcome carries its
evidence: the numbers (1-based) of the transcript lines it came from. ``ai`` knows nothing
of the claims app; the post-call pipeline builds the context from a claim.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from decimal import Decimal
from typing import Any

CLAIM_STATUSES = (
    "paid",
    "partially_paid",
    "denied",
    "in_process",
    "pending_info",
    "not_on_file",
    "reprocessing",
    "unknown",
)
CALL_OUTCOMES = ("resolved", "follow_up", "action_required", "failed")
# The review reason of a call that established no status, and only that: nothing a person could correct.
NO_STATUS = "No claim status was obtained on this call."
# The review reason of a reference number read out but not parsed (``unread_reference(line)``): the
# reference is left empty, so nothing wrong is applied; a person can take it from the recording.
_UNREAD_REFERENCE = "A reference number was read out on line {} but could not be parsed; check the recording."


def unread_reference(line: int) -> str:
    return _UNREAD_REFERENCE.format(line)


def is_unread_reference(reason: str) -> bool:
    return re.fullmatch(re.escape(_UNREAD_REFERENCE).replace(r"\{\}", r"\d+"), reason) is not None


# The fields that carry evidence, in the order the corpus lists them.
VALUE_FIELDS = (
    "claim_status",
    "reference_number",
    "rep_name",
    "denial_code",
    "remark_codes",
    "paid_amount",
    "check_or_eft_number",
    "payment_date",
    "follow_up_days",
    "call_outcome",
    "human_reached",
)
# A value of these kinds is dropped unless its evidence states it: never invented.
GROUNDED_FIELDS = ("reference_number", "paid_amount", "check_or_eft_number", "denial_code", "payment_date")
# What a value can be before it is a misreading: a claim is never paid a hundred million, a
# payment is dated 1900–2199 (the product's date range), a payer never asks for a call back
# more than a year out. Beyond these, ``ai.grounding.ground`` drops the value for review.
MAX_PAID_AMOUNT = Decimal("99999999.99")
PAYMENT_DATES = (date(1900, 1, 1), date(2199, 12, 31))
MAX_FOLLOW_UP_DAYS = 365


@dataclass(frozen=True)
class ClaimContext:
    claim_number: str = ""
    patient_name: str = ""
    patient_dob: str = ""  # YYYY-MM-DD
    date_of_service: str = ""  # YYYY-MM-DD
    billed_amount: str = ""  # decimal string
    payer: str = ""
    member_id: str = ""
    prior_denial_code: str | None = None
    call_date: date | None = None  # relative dates in the call count from this day

    @classmethod
    def from_record(cls, claim: dict, call_date: date | str | None = None) -> ClaimContext:
        """From a corpus record's ``claim`` object (unknown keys ignored)."""
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in claim.items() if key in known and value is not None}
        if isinstance(call_date, str):
            call_date = date.fromisoformat(call_date)
        return cls(**{**values, "call_date": call_date})


@dataclass(frozen=True)
class KnowledgeHit:
    """One knowledge-base entry retrieved for a call: shown to the extractor, recorded on the outcome."""

    id: str  # "denial-code:12" / "payer-policy:7"
    kind: str  # "denial_code" | "payer_policy"
    title: str  # "CO-16" / "Aetna — timely filing"
    text: str
    score: float | None = None
    code: str = ""  # a denial code entry's reason code, "16"
    remedy: str = ""  # a denial code entry's usual remedy


@dataclass
class CallOutcome:
    claim_status: str = "unknown"
    reference_number: str | None = None
    rep_name: str | None = None
    denial_code: str | None = None  # "CO-16", or the bare number when no group was said
    remark_codes: list[str] = field(default_factory=list)
    paid_amount: Decimal | None = None
    check_or_eft_number: str | None = None
    payment_date: date | None = None
    follow_up_days: int | None = None
    call_outcome: str = "failed"
    human_reached: bool = False
    next_steps: str = ""
    confidence: float = 0.0
    # field name → transcript line numbers (1-based) its value came from
    evidence: dict[str, list[int]] = field(default_factory=dict)
    needs_review: bool = False
    review_reasons: list[str] = field(default_factory=list)
    extractor: str = ""
    knowledge_used: list[str] = field(default_factory=list)  # KnowledgeHit ids

    def flag(self, reason: str) -> None:
        self.needs_review = True
        if reason not in self.review_reasons:
            self.review_reasons.append(reason)

    def settle_review(self, *, reached_nobody: bool) -> CallOutcome:
        """The review gate's last word, the same for the pipeline and ``extract_outcomes``.

        A call that reached nobody (voicemail, a dead IVR, no answer) has nothing a person could
        correct: it is failed, and the failure policy decides what happens next. Unless the phone
        system read something out that the reader could not place: then a person listens.
        """
        if reached_nobody and all(reason == NO_STATUS for reason in self.review_reasons):
            self.call_outcome, self.needs_review, self.review_reasons = "failed", False, []
        return self

    def expected_fields(self) -> dict[str, Any]:
        """The values under the corpus's ``expected`` field names, JSON-ready."""
        data = self.to_json()
        return {name: data[name] for name in VALUE_FIELDS}

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["paid_amount"] = str(self.paid_amount) if self.paid_amount is not None else None
        data["payment_date"] = self.payment_date.isoformat() if self.payment_date else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CallOutcome:
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in (data or {}).items() if key in known}
        if values.get("paid_amount") is not None:
            values["paid_amount"] = Decimal(str(values["paid_amount"]))
        if values.get("payment_date"):
            values["payment_date"] = date.fromisoformat(values["payment_date"])
        values["evidence"] = {key: [int(n) for n in lines] for key, lines in (values.get("evidence") or {}).items()}
        return cls(**values)


def transcript_lines(transcript: str) -> list[str]:
    """The transcript's lines; evidence line n is ``transcript_lines(t)[n - 1]``."""
    return transcript.splitlines()
