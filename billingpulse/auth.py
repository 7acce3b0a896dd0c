from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

User = get_user_model()

# An email address is at most 254 characters (RFC 5321); a password past 4,096 is not one a
# person typed. Longer input is a failed sign-in, never a database lookup or a slow hash.
MAX_EMAIL_LENGTH = 254
MAX_PASSWORD_LENGTH = 4096


class EmailBackend(ModelBackend):
    """Sign in by email address, whatever its capitalisation."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        username = (username or kwargs.get("email") or "").strip().lower()
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
