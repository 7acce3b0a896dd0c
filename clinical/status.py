"""The clinical note's status machine: every status, and the moves allowed between them.

A note is written as a *draft*, is *in progress* once someone has typed into it, and may be
marked *completed* (ready for the provider's signature, say by a scribe). Signing seals its
content; from then on it can only be locked, or corrected by an amendment: a new version that
keeps the original readable, which becomes *amended* when the new version is signed.

    draft ──► in progress ◄──► completed
      └───────────┴──────────────┴──► signed ──► locked
                                        │          │
                                        └► amended ◄┘   (once an amendment of it is signed)
"""

from __future__ import annotations

from django.db import models


class NoteStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    SIGNED = "signed", "Signed"
    AMENDED = "amended", "Amended"
    LOCKED = "locked", "Locked"


S = NoteStatus

# Statuses whose content is sealed by a signature: no path may change it.
SEALED = frozenset({S.SIGNED, S.LOCKED, S.AMENDED})
EDITABLE = frozenset({S.DRAFT, S.IN_PROGRESS, S.COMPLETED})

TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.IN_PROGRESS, S.COMPLETED, S.SIGNED}),
    S.IN_PROGRESS: frozenset({S.COMPLETED, S.SIGNED}),
    S.COMPLETED: frozenset({S.IN_PROGRESS, S.SIGNED}),
    S.SIGNED: frozenset({S.LOCKED, S.AMENDED}),
    S.LOCKED: frozenset({S.AMENDED}),
    S.AMENDED: frozenset(),
}


def can_move(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, frozenset())
