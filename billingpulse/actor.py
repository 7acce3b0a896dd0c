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
        ip = client_ip(request)
        return cls(
            user=request.user,  # type: ignore[arg-type]
            ip_address=None if ip == "unknown" else ip,
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
        )
