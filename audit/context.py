"""The request being served, so entries written anywhere below it know who, from where and which request."""

from __future__ import annotations

from contextvars import ContextVar

from django.http import HttpRequest

from billingpulse.lib.request_id import current_request_id

current_request: ContextVar[HttpRequest | None] = ContextVar("audit_request", default=None)


def request_id() -> str | None:
    """The request id for django-auditlog's ``cid`` (AUDITLOG_CID_GETTER)."""
    value = current_request_id.get()
    return None if value == "-" else value
