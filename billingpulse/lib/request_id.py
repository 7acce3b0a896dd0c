"""The request id: one value per request, carried by the response and every log line."""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

HEADER = "X-Request-ID"
# Accept an upstream id only if it is short and plain, so it is safe to log and echo.
_VALID = re.compile(r"^[A-Za-z0-9._:\-]{8,128}$")

current_request_id: ContextVar[str] = ContextVar("request_id", default="-")


def accept_or_generate(incoming: str | None) -> str:
    if incoming and _VALID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIDLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True
