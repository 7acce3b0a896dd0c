from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import cached_property

from billingpulse.sections import SECTIONS


def shell(request: HttpRequest) -> dict:
    """Navigation for the app shell, with the current section marked."""
    match = getattr(request, "resolver_match", None)
    current = ""
    if match:
        current = f"{match.namespace}:index" if match.namespace else match.url_name or ""
    return {"nav_sections": SECTIONS.values(), "nav_current": current, "nav_inbox": InboxBadge(request)}


class InboxBadge:
    """The navigation's inbox count, counted only if a page shows it, and at most once."""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request

    @cached_property
    def count(self) -> int:
        practice = getattr(self.request, "practice", None)
        user = getattr(self.request, "user", None)
        if practice is None or user is None or not user.is_authenticated:
            return 0
        from inbox.selectors import nav_count

        return nav_count(practice, user)
