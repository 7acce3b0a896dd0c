"""The call status machine and the buckets a call's ending falls into.

    queued ──► dialing ──► ringing ──► in progress ──► ended
       │          │           │             │
       └──► canceled          └─────────────┴──► failed

*dialing* means Vapi (or the sandbox) accepted the call; *failed* means it could not be
placed or was lost; a call that rang and hung up without an answer still *ended*, with
its failure category saying why.
"""

from __future__ import annotations

from django.db import models


class CallStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    DIALING = "dialing", "Dialing"
    RINGING = "ringing", "Ringing"
    IN_PROGRESS = "in_progress", "In progress"
    ENDED = "ended", "Ended"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"


S = CallStatus
TRANSITIONS: dict[str, set[str]] = {
    S.QUEUED: {S.DIALING, S.RINGING, S.IN_PROGRESS, S.ENDED, S.FAILED, S.CANCELED},
    S.DIALING: {S.RINGING, S.IN_PROGRESS, S.ENDED, S.FAILED},
    S.RINGING: {S.IN_PROGRESS, S.ENDED, S.FAILED},
    S.IN_PROGRESS: {S.ENDED, S.FAILED},
    S.ENDED: set(),
    S.FAILED: set(),
    S.CANCELED: set(),
}
ACTIVE = {S.QUEUED, S.DIALING, S.RINGING, S.IN_PROGRESS}
FINISHED = {S.ENDED, S.FAILED, S.CANCELED}


def can_move(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, set())


class FailureCategory(models.TextChoices):
    NONE = "", "Completed"
    NO_ANSWER = "no_answer", "No answer or busy"
    VOICEMAIL = "voicemail", "Reached voicemail"
    IVR_FAILURE = "ivr_failure", "Could not get through the phone menu"
    HOLD_TOO_LONG = "hold_too_long", "Hold took too long"
    PAYER_REFUSED = "payer_refused", "Payer would not give information"
    PROVIDER_ERROR = "provider_error", "Voice platform error"
    OUR_ERROR = "our_error", "Error on our side"
    CANCELED = "canceled", "Canceled"
