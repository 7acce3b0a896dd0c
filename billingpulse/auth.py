from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

User = get_user_model()

# An email address is at most 254 characters (RFC 5321); a password past 4,096 is not one a
# person typed. Longer input is a failed sign-in, never a database lookup or a slow hash.
MAX_EMAIL_LENGTH = 254
MAX_PASSWORD_LENGTH = 4096


def normalize_email(value: str | None) -> str:
    return (value or "").strip().lower()


def sign_in_username(request, credentials: dict | None) -> str:
    """The account a sign-in attempt is for, as django-axes counts failures against it.

    The same normalisation as ``EmailBackend``, so "Dana@x" and "dana@x " are one account's
    attempts, not two counters an attacker could alternate between.
    """
    credentials = credentials or {}
    raw = credentials.get("username") or credentials.get("email")
    if raw is None and request is not None:
        raw = request.POST.get("username")
    return normalize_email(raw)[:MAX_EMAIL_LENGTH]


class EmailBackend(ModelBackend):
    """Sign in by email address, whatever its capitalisation.

    Listed after django-axes' backend (settings.AUTHENTICATION_BACKENDS), which refuses a
    locked-out account first; every caller must therefore pass ``request=`` to
    ``authenticate()`` (Django's login form does; the API's token and session
    authentication never call it).
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        username = normalize_email(username or kwargs.get("email"))
        if len(username) > MAX_EMAIL_LENGTH or len(password or "") > MAX_PASSWORD_LENGTH:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)

    def get_user(self, user_id):
        # Every request of a signed-in user reads their practice (tenancy): in the same query.
        try:
            user = User._default_manager.select_related("practice").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
