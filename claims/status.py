"""The claim status machine: every status, and the moves allowed between them.

A claim is imported or created as *submitted* (unpaid, no word yet) or *denied* (a denial
code came with it), and from there moves as the payer answers. Every status a payer call
can report (in process, pending information, not on file, denied, reprocessing,
partially paid, paid) can be reached from every open status, because the payer's answer
is the truth whatever we believed before. Closing and writing off are the biller's.

    draft ──► submitted ──► accepted ──► in process ──► paid ──► closed
                 │  ▲           │            │  ▲          ▲
                 ▼  │           ▼            ▼  │          │
             rejected       pending info   denied ──► appealed
                                             │
                                             ▼
                                        reprocessing ──► partially paid ──► written off
"""

from __future__ import annotations

from django.db import models


class ClaimStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    ACCEPTED = "accepted", "Accepted"
    IN_PROCESS = "in_process", "In process"
    PENDING_INFO = "pending_info", "Pending information"
    NOT_ON_FILE = "not_on_file", "Not on file"
    REJECTED = "rejected", "Rejected"
    DENIED = "denied", "Denied"
    REPROCESSING = "reprocessing", "Reprocessing"
    APPEALED = "appealed", "Appealed"
    PARTIALLY_PAID = "partially_paid", "Partially paid"
    PAID = "paid", "Paid"
    WRITTEN_OFF = "written_off", "Written off"
    CLOSED = "closed", "Closed"


S = ClaimStatus

# What a payer can tell us on a call; reachable from every open status.
PAYER_REPORTABLE = {
    S.IN_PROCESS,
    S.PENDING_INFO,
    S.NOT_ON_FILE,
    S.DENIED,
    S.REPROCESSING,
    S.PARTIALLY_PAID,
    S.PAID,
}
OPEN = {
    S.SUBMITTED,
    S.ACCEPTED,
    S.IN_PROCESS,
    S.PENDING_INFO,
    S.NOT_ON_FILE,
    S.REJECTED,
    S.DENIED,
    S.REPROCESSING,
    S.APPEALED,
    S.PARTIALLY_PAID,
}
# Statuses whose claims still need work: the worklist's default view and the call queue.
NEEDS_FOLLOW_UP = OPEN
# Moves that stop the money or end the work must say why; the timeline keeps the reason.
REASON_REQUIRED = {S.DENIED, S.REJECTED, S.WRITTEN_OFF, S.CLOSED}

TRANSITIONS: dict[str, set[str]] = {
    S.DRAFT: {S.SUBMITTED, S.CLOSED},
    S.SUBMITTED: PAYER_REPORTABLE | {S.ACCEPTED, S.REJECTED, S.WRITTEN_OFF, S.CLOSED},
    S.ACCEPTED: PAYER_REPORTABLE | {S.WRITTEN_OFF, S.CLOSED},
    S.IN_PROCESS: PAYER_REPORTABLE | {S.WRITTEN_OFF, S.CLOSED},
    S.PENDING_INFO: PAYER_REPORTABLE | {S.SUBMITTED, S.WRITTEN_OFF, S.CLOSED},
    S.NOT_ON_FILE: PAYER_REPORTABLE | {S.SUBMITTED, S.WRITTEN_OFF, S.CLOSED},
    S.REJECTED: PAYER_REPORTABLE | {S.SUBMITTED, S.WRITTEN_OFF, S.CLOSED},
    S.DENIED: PAYER_REPORTABLE | {S.SUBMITTED, S.APPEALED, S.WRITTEN_OFF, S.CLOSED},
    S.REPROCESSING: PAYER_REPORTABLE | {S.WRITTEN_OFF, S.CLOSED},
    S.APPEALED: PAYER_REPORTABLE | {S.WRITTEN_OFF, S.CLOSED},
    S.PARTIALLY_PAID: PAYER_REPORTABLE | {S.APPEALED, S.WRITTEN_OFF, S.CLOSED},
    # A paid claim can be taken back by the payer (recoupment) or closed.
    S.PAID: {S.REPROCESSING, S.PARTIALLY_PAID, S.CLOSED},
    S.WRITTEN_OFF: {S.CLOSED, S.REPROCESSING},
    S.CLOSED: {S.REPROCESSING},
}
for _status, _targets in TRANSITIONS.items():
    _targets.discard(_status)


def initial_status(denial_code: str) -> ClaimStatus:
    """A new claim (created or imported) is denied if a denial code came with it, else submitted."""
    return ClaimStatus.DENIED if denial_code else ClaimStatus.SUBMITTED


def can_move(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, set())


def missing_reason_message(target: str) -> str:
    """The sentence asking for a reason, shared by the form and the service."""
    return f"Say why the claim is {ClaimStatus(target).label.lower()}; the reason goes on the timeline."


def allowed_targets(current: str) -> list[ClaimStatus]:
    return [status for status in ClaimStatus if status in TRANSITIONS.get(current, set())]
