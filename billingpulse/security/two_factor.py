"""Optional two-factor sign-in: a TOTP authenticator app (django-otp), with backup codes.

A person has at most one authenticator app. Setting one up makes an unconfirmed device whose
QR code the set-up page shows; the first correct code confirms it and issues ten single-use
backup codes. After that, signing in takes the password and then a code (``verify``): the
session is "pending" between the two (see ``middleware.TwoFactorMiddleware``) and can do
nothing but enter a code or sign out.

django-otp refuses a code already used (its ``last_t``) and slows guessing down (each failure
doubles the wait before the next try), so neither is done here.

The state of the current session lives in the session under ``SESSION_KEY``; it is set at
sign-in (one query) so that ordinary requests cost none.

The API's token authentication is unaffected: a token is a credential of its own, which a
person makes on the API token page after signing in (with their second factor, when they have one).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import qrcode
import qrcode.image.svg
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from billingpulse.models import Practice, User
from billingpulse.security import events

SESSION_KEY = "security.two_factor"
PENDING = "pending"  # password given; a code still to come
VERIFIED = "verified"  # code given (or an authenticator set up) in this session
BACKUP_CODE_COUNT = 10
DEVICE_NAME = "Authenticator app"
BACKUP_NAME = "Backup codes"


class TwoFactorError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Status:
    enabled: bool
    backup_codes_left: int


def status(user: User) -> Status:
    enabled = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    left = StaticToken.objects.filter(device__user=user, device__confirmed=True).count() if enabled else 0
    return Status(enabled, left)


def has_device(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


# -- the session --------------------------------------------------------------------------------


def start_session(session: SessionBase, user: User) -> None:
    """At sign-in: a person with an authenticator app must still give a code."""
    if has_device(user):
        session[SESSION_KEY] = PENDING
    else:
        session.pop(SESSION_KEY, None)


def needs_code(session: SessionBase) -> bool:
    return session.get(SESSION_KEY) == PENDING


def is_verified(session: SessionBase) -> bool:
    return session.get(SESSION_KEY) == VERIFIED


def _mark_verified(session: SessionBase) -> None:
    # A new session key once the second factor is given, as at any change of privilege.
    session.cycle_key()
    session[SESSION_KEY] = VERIFIED


# -- set-up -------------------------------------------------------------------------------------


def pending_device(user: User) -> TOTPDevice:
    """The authenticator app being set up (made on first use, kept until confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def qr_svg(device: TOTPDevice) -> bytes:
    """The device's otpauth:// address as an SVG QR code: paths only, no style or script."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def secret_for_typing(device: TOTPDevice) -> str:
    """The key in base32, in groups of four, for apps that cannot scan."""
    from base64 import b32encode

    text = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def confirm(*, session: SessionBase, user: User, token: str) -> list[str]:
    """The first code from the new app: confirm it, issue backup codes, and return them (shown once)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        raise TwoFactorError("Start the set-up again: open the set-up page and scan the new code.")
    if not device.verify_token(_digits(token)):
        raise TwoFactorError("That code is not right. Enter the 6-digit code your app shows now.")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _new_backup_codes(user)
    _mark_verified(session)
    events.two_factor_changed(user, enabled=True)
    return codes


def regenerate_backup_codes(user: User) -> list[str]:
    if not has_device(user):
        raise TwoFactorError("Set up an authenticator app first.")
    return _new_backup_codes(user)


def _new_backup_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=BACKUP_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def disable(*, user: User, password: str) -> None:
    if not user.check_password(password):
        raise TwoFactorError("That password is not right.")
    if user.practice and user.practice.require_two_factor:
        raise TwoFactorError(
            f"{user.practice} requires two-factor sign-in, so it cannot be turned off. "
            "For a new phone, ask a practice admin to reset it."
        )
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
    events.two_factor_changed(user, enabled=False)


# -- sign-in ------------------------------------------------------------------------------------


def verify(*, session: SessionBase, user: User, code: str) -> None:
    """The second step of signing in: a code from the app, or one of the backup codes."""
    code = code.strip().replace(" ", "").replace("-", "").lower()
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        raise TwoFactorError("You have no authenticator app set up.")
    allowed, _ = device.verify_is_allowed()
    if not allowed:
        raise TwoFactorError("Too many wrong codes. Wait a minute, then enter the code your app shows.")
    if code.isdigit() and len(code) == device.digits:
        ok = device.verify_token(code)
    else:
        backup = StaticDevice.objects.filter(user=user, confirmed=True).first()
        ok = backup is not None and backup.verify_token(code)
        if not ok:
            device.throttle_increment()
    if not ok:
        raise TwoFactorError("That code is not right, or was already used. Enter the code your app shows now.")
    _mark_verified(session)


def _digits(token: str) -> str:
    return "".join(ch for ch in token if ch.isdigit())


# -- the practice -------------------------------------------------------------------------------


def set_practice_requirement(*, practice: Practice, required: bool, actor: User) -> None:
    if practice.require_two_factor == required:
        return
    practice.require_two_factor = required
    practice.save(update_fields=["require_two_factor", "updated_at"])
    events.practice_requirement_changed(practice, required=required, actor=actor)


def members_without(practice: Practice) -> list[User]:
    with_device = TOTPDevice.objects.filter(confirmed=True, user__practice=practice).values("user_id")
    return list(
        User.objects.filter(practice=practice, is_active=True)
        .exclude(pk__in=with_device)
        .order_by("full_name", "email")
    )


def reset_for(*, member: User, actor: User) -> None:
    """A practice admin removes a member's app (a lost phone); they set up a new one at next sign-in
    when the practice requires it."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=member).delete()
        StaticDevice.objects.filter(user=member).delete()
    events.two_factor_changed(member, enabled=False, actor=actor)
