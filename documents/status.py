"""The document's review status machine: every status, and the moves allowed between them.

A document arrives *pending review* (or as a *draft* its uploader is still filing). A reviewer
marks it *reviewed*; an admin *approves* it. Either may send it back with a comment. Any
document can be *archived* and restored to draft. A new version sends a reviewed or approved
document back to review: what was approved was the earlier file.

    draft ──► pending review ──► reviewed ──► approved
      ▲            ▲   └──────────◄┘ ◄──────────┘     (sent back)
      └── archived ◄── (from any status)
"""

from __future__ import annotations

from django.db import models


class DocumentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PENDING_REVIEW = "pending_review", "Pending review"
    REVIEWED = "reviewed", "Reviewed"
    APPROVED = "approved", "Approved"
    ARCHIVED = "archived", "Archived"


S = DocumentStatus

TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.PENDING_REVIEW, S.ARCHIVED}),
    S.PENDING_REVIEW: frozenset({S.REVIEWED, S.DRAFT, S.ARCHIVED}),
    S.REVIEWED: frozenset({S.APPROVED, S.PENDING_REVIEW, S.ARCHIVED}),
    S.APPROVED: frozenset({S.PENDING_REVIEW, S.ARCHIVED}),
    S.ARCHIVED: frozenset({S.DRAFT}),
}
# Moves only a practice admin may make.
ADMIN_ONLY = frozenset({S.APPROVED})


def can_move(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, frozenset())
