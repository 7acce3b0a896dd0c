"""Operations that change practices and their users. Each is atomic and validated."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.authtoken.models import Token

from billingpulse.lib.unique import Duplicate, unique_errors
from billingpulse.models import Practice, User

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
def invite_member(*, practice: Practice, invited_by: User, email: str, full_name: str, role: str) -> User | None:
    """Add a user to the practice and email them a link to choose their password.

    An address that already has an account in another practice (or an operator's) is not
    added and the inviter is not told: the answer must not reveal who uses BillingPulse.
    That address gets a note instead, saying someone tried to add it. Returns the new
    user, or None in that case. An address already in this practice is a field error.
    Emails go out after the transaction commits, so a failed insert sends nothing.
    """
    email = email.strip().lower()
    existing = _account(email)
    if existing is None:
        try:
            with unique_errors():
                user = User.objects.create_user(
                    email=email, password=None, full_name=full_name.strip(), practice=practice, role=role
                )
        except Duplicate:
            # Added a moment ago by another request: answer as if it had been there all along.
            existing = _account(email)
            if existing is None:
                raise
        else:
            transaction.on_commit(lambda: _send_invitation(user, invited_by))
            return user
    if existing.practice_id == practice.pk:
        raise ValidationError({"email": ALREADY_MEMBER.format(email=email)})
    transaction.on_commit(lambda: _send_existing_account_notice(existing, practice, invited_by))
    return None


def _account(email: str) -> User | None:
    return User.objects.filter(email__iexact=email).first()


def _send_invitation(user: User, invited_by: User) -> None:
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    context = {"user": user, "invited_by": invited_by, "practice": user.practice, "link": settings.SITE_URL + path}
    send_mail(
        subject=f"You have been added to {user.practice} on BillingPulse",
        message=render_to_string("billingpulse/emails/invitation.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )


def _send_existing_account_notice(user: User, practice: Practice, invited_by: User) -> None:
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
