"""Who acts, and from where: kept with every signature and audit entry."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest

from billingpulse.lib.ratelimit import client_ip
from billingpulse.models import User


@dataclass(frozen=True)
class Actor:
    user: User
    ip_address: str | None = None
    user_agent: str = ""

    @classmethod
    def of(cls, request: HttpRequest) -> Actor:
        return cls(
            user=request.user,  # type: ignore[arg-type]
            ip_address=ip_address(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
        )


def ip_address(request: HttpRequest) -> str | None:
    """The client's address as recorded with what it did (None when it can't be told)."""
    ip = client_ip(request)
    return None if ip == "unknown" else ip
