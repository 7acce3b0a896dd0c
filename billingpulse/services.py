"""Operations that change practices and their users. Each is atomic and validated."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.authtoken.models import Token

from billingpulse.models import Practice, User

HEARTBEAT_KEY = "billingpulse:worker-heartbeat"


EMAIL_TAKEN = "Someone already uses this email address on BillingPulse."


@transaction.atomic
def sign_up(*, email: str, password: str, practice_name: str, full_name: str = "") -> User:
    """Create a practice with this person as its first admin (neither, if the email is taken)."""
    practice = Practice.objects.create(name=practice_name.strip())
    return _create_user(
        email=email,
        password=password,
        full_name=full_name.strip(),
        practice=practice,
        role=User.Role.ADMIN,
    )


@transaction.atomic
def invite_member(*, practice: Practice, invited_by: User, email: str, full_name: str, role: str) -> User:
    """Add a user to the practice and email them a link to choose their password.

    The email is sent after the transaction commits, so a failed insert sends nothing.
    """
    user = _create_user(email=email, password=None, full_name=full_name.strip(), practice=practice, role=role)
    transaction.on_commit(lambda: _send_invitation(user, invited_by))
    return user


def _create_user(**fields) -> User:
    """A new user; an email taken since the form checked it (two requests at once) is a field error."""
    try:
        with transaction.atomic():
            return User.objects.create_user(**fields)
    except IntegrityError:
        raise ValidationError({"email": EMAIL_TAKEN}) from None


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


def _ensure_another_active_admin(user: User) -> None:
    others = User.objects.filter(practice_id=user.practice_id, role=User.Role.ADMIN, is_active=True).exclude(pk=user.pk)
    if not others.exists():
        raise ValidationError("A practice needs at least one active admin. Make someone else an admin first.")


@transaction.atomic
def change_role(*, user: User, role: str) -> User:
    # Lock the practice's admins so two simultaneous demotions cannot leave none.
    list(User.objects.select_for_update().filter(practice_id=user.practice_id, role=User.Role.ADMIN))
    if user.role == User.Role.ADMIN and role != User.Role.ADMIN:
        _ensure_another_active_admin(user)
    user.role = role
    user.save(update_fields=["role"])
    return user


@transaction.atomic
def set_active(*, user: User, active: bool) -> User:
    list(User.objects.select_for_update().filter(practice_id=user.practice_id, role=User.Role.ADMIN))
    if not active and user.role == User.Role.ADMIN:
        _ensure_another_active_admin(user)
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
