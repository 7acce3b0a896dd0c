"""Operations that change practices and their users. Each is atomic and validated."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from billingpulse.lib.unique import Duplicate, unique_errors
from billingpulse.models import EMAIL_TAKEN, Invitation, Practice, User, hash_invitation_token

HEARTBEAT_KEY = "billingpulse:worker-heartbeat"

ALREADY_MEMBER = "{email} is already a member of your practice."
LAST_ADMIN = "A practice needs at least one active admin. Make someone else an admin first."


@transaction.atomic
def sign_up(*, email: str, password: str, practice_name: str, full_name: str = "") -> User:
    """Create a practice with this person as its first admin (neither, if the email is taken)."""
    practice = Practice.objects.create(name=practice_name.strip())
    # A taken email (two sign-ups at once) is the form's own field error: User.email's message.
    with unique_errors():
        return User.objects.create_user(
            email=email, password=password, full_name=full_name.strip(), practice=practice, role=User.Role.ADMIN
        )


@transaction.atomic
def invite_member(*, practice: Practice, invited_by: User, email: str, full_name: str, role: str) -> Invitation:
    """Invite an address to the practice: a pending ``Invitation``, and an email after commit.

    No account is made here; the invitee makes it by accepting the link. Inviting an
    address that already has a pending invitation re-sends it (a new link; the old one
    stops working) with the name and role given now, so there is never a second row.
    What the inviter sees is the same whether or not the address has an account in
    another practice (or is an operator's): such an address gets a note saying someone
    tried to add it, never a link (see ``_send_invitation``). An address already in this
    practice is a field error.
    """
    email = email.strip().lower()
    # Accepting an invitation takes the same lock, so "already a member" holds until commit.
    _lock_practice_team(practice.pk)
    if User.objects.filter(practice=practice, email__iexact=email).exists():
        raise ValidationError({"email": ALREADY_MEMBER.format(email=email)})
    invitation = _open_invitation(practice, email) or Invitation(practice=practice, email=email)
    token = _fill_invitation(invitation, invited_by=invited_by, full_name=full_name, role=role)
    try:
        with unique_errors():
            invitation.save()
    except Duplicate:
        # Another request invited the address a moment ago: re-send that invitation instead.
        invitation = _open_invitation(practice, email)
        if invitation is None:
            raise
        token = _fill_invitation(invitation, invited_by=invited_by, full_name=full_name, role=role)
        invitation.save()
    transaction.on_commit(lambda: _send_invitation(invitation.pk, token))
    return invitation


def _open_invitation(practice: Practice, email: str) -> Invitation | None:
    return Invitation.objects.open().select_for_update().filter(practice=practice, email=email).first()


def _fill_invitation(invitation: Invitation, *, invited_by: User, full_name: str, role: str) -> str:
    invitation.full_name = full_name.strip()
    invitation.role = role
    invitation.invited_by = invited_by
    return invitation.issue_token()


def _account(email: str) -> User | None:
    return User.objects.filter(email__iexact=email).first()


def account_exists(email: str) -> bool:
    """Whether an address has an account in any practice (for its owner's eyes only: the invitee's page)."""
    return _account(email) is not None


def _send_invitation(invitation_id: int, token: str) -> None:
    """Email the invitation: its link to an address with no account, a note to one with an account elsewhere.

    Decided when sending, after commit, from the accounts as they are then. Nothing is
    sent for an invitation that is no longer open, or was re-sent meanwhile with a newer
    token (that send carries the link that works), or to an address that has meanwhile
    joined this very practice.
    """
    invitation = Invitation.objects.select_related("practice", "invited_by").filter(pk=invitation_id).first()
    if invitation is None or not invitation.is_open or invitation.token_hash != hash_invitation_token(token):
        return
    existing = _account(invitation.email)
    if existing is None:
        _send_invitation_link(invitation, token)
    elif existing.practice_id != invitation.practice_id:
        _send_existing_account_notice(existing, invitation.practice, invitation.invited_by)


def _send_invitation_link(invitation: Invitation, token: str) -> None:
    path = reverse("invitation_accept", kwargs={"token": token})
    context = {
        "invitation": invitation,
        "invited_by": invitation.invited_by,
        "practice": invitation.practice,
        "link": settings.SITE_URL + path,
        "expires_at": invitation.expires_at,
        "time_zone": invitation.practice.time_zone,
    }
    send_mail(
        subject=f"You are invited to join {invitation.practice} on BillingPulse",
        message=render_to_string("billingpulse/emails/invitation.txt", context),
        from_email=None,
        recipient_list=[invitation.email],
    )


def _send_existing_account_notice(user: User, practice: Practice, invited_by: User | None) -> None:
    """Tell an address with an account elsewhere that someone tried to add it (their own practice stays unnamed)."""
    context = {
        "user": user,
        "invited_by": invited_by,
        "practice": practice,
        "login_url": settings.SITE_URL + reverse("login"),
    }
    send_mail(
        subject=f"Someone tried to add you to {practice} on BillingPulse",
        message=render_to_string("billingpulse/emails/invitation_existing_account.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )


@transaction.atomic
def withdraw_invitation(invitation: Invitation) -> bool:
    """Withdraw an open invitation, so its link stops working; False if it was no longer open."""
    withdrawn = Invitation.objects.open().filter(pk=invitation.pk).update(revoked_at=timezone.now())
    return bool(withdrawn)


class InvitationUnusable(Exception):
    """The invitation was accepted, withdrawn or expired (perhaps just now, by another request)."""


@transaction.atomic
def accept_invitation(*, invitation: Invitation, full_name: str, password: str) -> User:
    """Make the invited account in the invitation's practice, with its role, and mark it accepted.

    An address that has an account anywhere is the email field's error (``EMAIL_TAKEN``),
    also when the account got in a moment ago (the unique constraint, through
    ``unique_errors``); nothing is created then and the invitation stays open.
    """
    _lock_practice_team(invitation.practice_id)
    # Marked accepted first, and only if still usable: a second acceptance at once finds nothing.
    now = timezone.now()
    if not Invitation.objects.usable(now).filter(pk=invitation.pk).update(accepted_at=now):
        raise InvitationUnusable(invitation.pk)
    if _account(invitation.email) is not None:
        raise ValidationError({"email": ValidationError(EMAIL_TAKEN, code="unique")})
    with unique_errors():
        user = User.objects.create_user(
            email=invitation.email,
            password=password,
            full_name=full_name.strip(),
            practice_id=invitation.practice_id,
            role=invitation.role,
        )
    return user


def _lock_practice_team(practice_id: int) -> None:
    """Serialize changes to a practice's admins: two demotions at once could otherwise leave none.

    A no-op UPDATE of the practice row before anything is read: the second writer waits
    for the first to commit and then reads its result. It is a write, so it serializes on
    SQLite too, where SELECT ... FOR UPDATE is a no-op; PostgreSQL holds the row lock.
    """
    Practice.objects.filter(pk=practice_id).update(name=F("name"))


def _ensure_another_active_admin(user: User) -> None:
    others = User.objects.filter(practice_id=user.practice_id, role=User.Role.ADMIN, is_active=True).exclude(pk=user.pk)
    if not others.exists():
        raise ValidationError(LAST_ADMIN)


@transaction.atomic
def change_role(*, user: User, role: str) -> User:
    _lock_practice_team(user.practice_id)
    # Read again under the lock: the caller's copy may predate another admin's change.
    current = User.objects.get(pk=user.pk)
    if current.role == User.Role.ADMIN and role != User.Role.ADMIN and current.is_active:
        _ensure_another_active_admin(current)
    user.role = role
    user.save(update_fields=["role"])
    return user


@transaction.atomic
def set_active(*, user: User, active: bool) -> User:
    _lock_practice_team(user.practice_id)
    current = User.objects.get(pk=user.pk)
    if not active and current.role == User.Role.ADMIN and current.is_active:
        _ensure_another_active_admin(current)
    user.is_active = active
    user.save(update_fields=["is_active"])
    if not active:
        # A deactivated user's API token stops working at once.
        Token.objects.filter(user=user).delete()
    return user


@transaction.atomic
def regenerate_api_token(user: User) -> Token:
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)


def record_worker_heartbeat() -> None:
    cache.set(HEARTBEAT_KEY, timezone.now().isoformat(), timeout=60 * 60)


def last_worker_heartbeat() -> datetime | None:
    value = cache.get(HEARTBEAT_KEY)
    return datetime.fromisoformat(value) if value else None
