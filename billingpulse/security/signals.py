"""At sign-in: the session starts its idle clock and learns whether a second factor is due."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from billingpulse.security import sessions, two_factor


@receiver(user_logged_in, dispatch_uid="billingpulse-security-signed-in")
def _signed_in(sender, request, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    sessions.record_activity(request.session)
    two_factor.start_session(request.session, user)
