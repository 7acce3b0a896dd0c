from __future__ import annotations

from django.http import HttpRequest

from billingpulse.sections import SECTIONS


def shell(request: HttpRequest) -> dict:
    """Navigation for the app shell, with the current section marked."""
    match = getattr(request, "resolver_match", None)
    current = ""
    if match:
        current = f"{match.namespace}:index" if match.namespace else match.url_name or ""
    return {"nav_sections": SECTIONS.values(), "nav_current": current}
