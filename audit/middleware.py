"""Access logging: one middleware records every successful read of the pages and API routes in
``audit.registry.ACCESS``, and keeps the request at hand for entries written while it runs."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse

from audit import registry
from audit.context import current_request
from audit.services import record_view

log = logging.getLogger(__name__)


class AuditMiddleware:
    """Place after the authentication and practice middleware."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_request.set(request)
        try:
            response = self.get_response(request)
            if request.method in ("GET", "HEAD") and 200 <= response.status_code < 300:
                self._log_access(request)
        finally:
            current_request.reset(token)
        return response

    def _log_access(self, request: HttpRequest) -> None:
        match = request.resolver_match
        access = registry.ACCESS.get(match.view_name) if match else None
        if access is None or _refreshes_itself(request):
            return
        # The user as the view saw it: API token users are authenticated by DRF inside the view,
        # which sets them on this request too.
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.practice_id is None:
            return
        pk = match.kwargs.get(access.id_kwarg, "") if access.id_kwarg else ""
        query = request.META.get("QUERY_STRING", "")
        try:
            # One INSERT: it finds the record's patient itself, and writes nothing for a record
            # of another practice; the entry is chained with the practice's next batch.
            record_view(
                access.action,
                user=user,
                resource_type=access.resource_type,
                resource_id=pk,
                detail=f"?{query}"[:500] if query else "",
                request=request,
            )
        except Exception:
            # The page has been served; an entry that could not be written is logged loudly
            # rather than turned into an error page.
            log.exception("Could not record %s of %s %s", access.action, access.resource_type, pk)


def _refreshes_itself(request: HttpRequest) -> bool:
    """An HTMX request for the page it was sent from (polling, filters): the view is already logged."""
    if request.headers.get("HX-Request") != "true":
        return False
    current = request.headers.get("HX-Current-URL", "")
    return urlsplit(current).path == request.path
