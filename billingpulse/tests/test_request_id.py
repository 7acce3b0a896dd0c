from __future__ import annotations

import logging
import re

import pytest
from django.conf import settings

from billingpulse.lib.request_id import RequestIDLogFilter, current_request_id


def test_it_generates_a_request_id(client):
    response = client.get("/health")
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_it_keeps_a_valid_incoming_request_id(client):
    response = client.get("/health", HTTP_X_REQUEST_ID="lb-2026.11.21:abc-123")
    assert response["X-Request-ID"] == "lb-2026.11.21:abc-123"


@pytest.mark.parametrize(
    "bad",
    ["x" * 200, "abc\r\nSet-Cookie: a=b", "short", "has spaces in it", "ünïcødé-value-123"],
)
def test_it_replaces_a_malformed_request_id(client, bad):
    response = client.get("/health", HTTP_X_REQUEST_ID=bad)

    assert response.status_code == 200
    assert response["X-Request-ID"] != bad
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


@pytest.mark.django_db
def test_it_puts_the_request_id_on_error_pages_too(client):
    response = client.get("/no/such/page", HTTP_X_REQUEST_ID="trace-0000-1111")
    assert response.status_code == 404
    assert response["X-Request-ID"] == "trace-0000-1111"


@pytest.mark.django_db
def test_it_logs_with_the_request_id(client):
    # The same filter and format as the LOGGING setting, on Django's request logger,
    # which logs every 404 while the request is being handled.
    records: list[str] = []
    handler = logging.Handler()
    handler.addFilter(RequestIDLogFilter())
    handler.setFormatter(logging.Formatter(settings.LOGGING["formatters"]["standard"]["format"]))
    handler.emit = lambda record: records.append(handler.format(record))
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        client.get("/no/such/page", HTTP_X_REQUEST_ID="trace-abcdef-42")
    finally:
        logger.removeHandler(handler)

    assert any("[trace-abcdef-42]" in line and "Not Found" in line for line in records)
    assert current_request_id.get() == "-"
