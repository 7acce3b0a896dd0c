"""Lockout after repeated failed sign-ins, by django-axes (configured in settings: ``AXES_*``).

``LOGIN_FAILURE_LIMIT`` failed sign-ins in a row for one account from one address lock that
account at that address for ``LOGIN_LOCKOUT_MINUTES`` after the last of them (axes' username +
IP combination). Locking the account everywhere would let anyone who knows an address keep its
owner out, and locking the address alone would lock a whole office behind one address out at
once; the combination does neither. A guesser who moves between many addresses gets
``LOGIN_FAILURE_LIMIT - 1`` tries per address per lockout period, against passwords of at least
ten characters that are not common ones, and two-factor sign-in where a practice requires it.
A practice admin unlocks a member at once (``unlock``, on the sign-in security page); an operator
can with ``manage.py axes_reset_username EMAIL``.

Axes is the only sign-in limit: ``billingpulse.lib.ratelimit`` counts sign-ups and share-link
guesses, never sign-ins, so no attempt is counted twice.
"""

from __future__ import annotations

import math

from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.utils import timezone

from billingpulse.lib import ratelimit
from billingpulse.models import Practice, User


def client_ip(request) -> str | None:
    """The address axes counts a sign-in from (settings.AXES_CLIENT_IP_CALLABLE): the one
    ``ratelimit.client_ip`` trusts, or None when the request has none (axes stores it in an IP
    column, which PostgreSQL will not compare with a placeholder such as "unknown")."""
    address = ratelimit.client_ip(request)
    return None if address == "unknown" else address


def minutes_left(username: str) -> int:
    """Whole minutes (at least 1) until the account's lockout ends."""
    last = AccessAttempt.objects.filter(username=username).order_by("-attempt_time").first()
    if last is None:
        return max(1, math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    ends = last.attempt_time + settings.AXES_COOLOFF_TIME
    return max(1, math.ceil((ends - timezone.now()).total_seconds() / 60))


def locked_emails(practice: Practice) -> set[str]:
    """The addresses of the practice's members whose sign-in is locked now."""
    emails = list(User.objects.filter(practice=practice).values_list("email", flat=True))
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    attempts = AccessAttempt.objects.filter(
        username__in=emails, attempt_time__gte=since, failures_since_start__gte=settings.AXES_FAILURE_LIMIT
    )
    return set(attempts.values_list("username", flat=True))


def unlock(member: User) -> bool:
    """Forget the member's failed sign-ins; whether there were any."""
    return reset(username=member.email) > 0
