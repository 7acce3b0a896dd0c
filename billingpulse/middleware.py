from __future__ import annotations

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse

from billingpulse.lib.request_id import HEADER, accept_or_generate, current_request_id
from billingpulse.tenancy import PracticeMiddleware

__all__ = ["PracticeMiddleware", "QueryStringMiddleware", "RequestIDMiddleware"]

# The longest query string answered: what gunicorn accepts in a whole request line (4,094
# bytes), so the development server refuses what production would, and no search term or
# filter can be long enough to trouble the database (SQLite refuses LIKE patterns > 50 kB).
MAX_QUERY_STRING_BYTES = 4096


class QueryStringMiddleware:
    """Refuse query strings no page or API filter of ours builds, before any view reads them:
    longer than ``MAX_QUERY_STRING_BYTES`` (414), or holding a NUL character, which no
    search or filter means and PostgreSQL cannot compare text with (400)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if len(request.META.get("QUERY_STRING", "")) > MAX_QUERY_STRING_BYTES:
            return _plain("This address is too long: shorten the search or the filters.", status=414)
        if any("\x00" in text for key, values in request.GET.lists() for text in (key, *values)):
            return _plain("This address holds a NUL character, which no search or filter can use.", status=400)
        return self.get_response(request)


def _plain(message: str, *, status: int) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


class RequestIDMiddleware:
    """Keep a valid incoming X-Request-ID (else make one), log with it, and return it."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = accept_or_generate(request.headers.get(HEADER))
        request.request_id = request_id  # type: ignore[attr-defined]
        # Kept until the response is finished (not just until this returns), so that
        # Django's own "Not Found"/"Bad Request" log lines, written after the
        # middleware chain, carry the id too.
        current_request_id.set(request_id)
        response = self.get_response(request)
        response[HEADER] = request_id
        return response


def _forget_request_id(**_kwargs) -> None:
    current_request_id.set("-")


request_finished.connect(_forget_request_id, dispatch_uid="billingpulse-forget-request-id")
