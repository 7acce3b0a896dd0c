"""What sign-in security tells the audit trail: the one place two-factor changes are reported."""

from __future__ import annotations

import audit
from billingpulse.models import Practice, User


def two_factor_changed(user: User, *, enabled: bool, actor: User | None = None) -> None:
    """A person's two-factor sign-in was turned on or off (by them, or reset by an admin)."""
    if actor is not None and actor != user:
        detail = f"reset by {actor.email}"
    else:
        detail = "Authenticator app added" if enabled else "Two-factor sign-in turned off"
    audit.record("two_factor_changed", target=user, practice=user.practice, actor=actor or user, detail=detail)


def practice_requirement_changed(practice: Practice, *, required: bool, actor: User) -> None:
    detail = "Required for every member" if required else "No longer required for every member"
    audit.record("two_factor_changed", target=practice, practice=practice, actor=actor, detail=detail)
