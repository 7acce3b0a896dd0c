"""``POST /api/webhooks/vapi``: Vapi's server messages (and the sandbox's, signed the same way).

The view only verifies, parses and hands the message to ``telephony.ingest``; the post-call
pipeline runs in Celery. Verification, per settings:

* ``VAPI_WEBHOOK_SECRET`` set: the request carries it as ``Authorization: Bearer <secret>``
  or ``X-Vapi-Secret: <secret>``;
* ``VAPI_WEBHOOK_HMAC_SECRET`` set: ``x-signature`` is the hex HMAC-SHA256 of
  ``"{x-timestamp}.{raw body}"``, and ``x-timestamp`` (seconds or milliseconds since the
  epoch; Vapi does not say which) is within ``VAPI_WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS``;
* both set: both are required. Neither set: every request is refused.

A refused request gets 401 with an empty body: nothing tells a caller which check failed.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import time

from django.conf import settings
from django.http import HttpRequest
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, authentication_classes, permission_classes, renderer_classes
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from billingpulse.lib import strict_json
from telephony import ingest

logger = logging.getLogger(__name__)


# For Vapi only: not part of the public API's schema.
@extend_schema(exclude=True)
@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
@renderer_classes([JSONRenderer])
def vapi_webhook(request: Request) -> Response:
    limit = settings.VAPI_WEBHOOK_MAX_BYTES
    declared = _content_length(request._request)
    if declared is None:
        return Response({"detail": "Bad Content-Length header."}, status=400)
    if declared > limit:
        return Response({"detail": "The body is too large."}, status=413)
    if not _configured() or not _secret_ok(request._request):
        return Response(status=401)
    # Read at most one byte past the limit, whatever Content-Length claimed.
    body = request._request.read(limit + 1)
    if len(body) > limit:
        return Response({"detail": "The body is too large."}, status=413)
    if not _signature_ok(request._request, body):
        return Response(status=401)
    try:
        envelope = strict_json.loads(body)
    except strict_json.StrictJSONError as error:
        return Response({"detail": str(error)}, status=400)
    message = envelope.get("message") if isinstance(envelope, dict) else None
    if not isinstance(message, dict):
        return Response({"detail": 'Expected a JSON object {"message": {...}}.'}, status=400)
    result = ingest.ingest_message(message)
    return Response(result.body, status=result.status_code)


def sign(body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The headers a delivery of ``body`` needs to pass this webhook's checks under current settings.

    ``timestamp`` defaults to now, in milliseconds (as Vapi's message timestamps are).
    """
    headers = {}
    if settings.VAPI_WEBHOOK_SECRET:
        headers["X-Vapi-Secret"] = settings.VAPI_WEBHOOK_SECRET
    if settings.VAPI_WEBHOOK_HMAC_SECRET:
        stamp = str(int(time.time() * 1000) if timestamp is None else timestamp)
        headers["x-timestamp"] = stamp
        headers["x-signature"] = _signature(settings.VAPI_WEBHOOK_HMAC_SECRET, stamp, body)
    return headers


def _configured() -> bool:
    if settings.VAPI_WEBHOOK_SECRET or settings.VAPI_WEBHOOK_HMAC_SECRET:
        return True
    logger.warning("Vapi webhook refused a request: set VAPI_WEBHOOK_SECRET or VAPI_WEBHOOK_HMAC_SECRET")
    return False


def _secret_ok(request: HttpRequest) -> bool:
    secret = settings.VAPI_WEBHOOK_SECRET
    if not secret:
        return True
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    offered = [token.strip()] if scheme.lower() == "bearer" else []
    if "X-Vapi-Secret" in request.headers:
        offered.append(request.headers["X-Vapi-Secret"].strip())
    # Compare every candidate, so timing does not tell which header was tried.
    ok = False
    for candidate in offered:
        ok |= hmac.compare_digest(candidate.encode(), secret.encode())
    if not ok:
        logger.warning("Vapi webhook refused a request: shared secret missing or wrong")
    return ok


def _signature_ok(request: HttpRequest, body: bytes) -> bool:
    secret = settings.VAPI_WEBHOOK_HMAC_SECRET
    if not secret:
        return True
    stamp = request.headers.get("x-timestamp", "").strip()
    offered = request.headers.get("x-signature", "").strip().lower().removeprefix("sha256=")
    if not stamp or not offered:
        logger.warning("Vapi webhook refused a request: signature headers missing")
        return False
    if not _fresh(stamp):
        logger.warning("Vapi webhook refused a request: timestamp outside the allowed window")
        return False
    if not hmac.compare_digest(offered.encode(), _signature(secret, stamp, body).encode()):
        logger.warning("Vapi webhook refused a request: bad signature")
        return False
    return True


def _signature(secret: str, stamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _fresh(stamp: str) -> bool:
    """Within the tolerance of now, read as seconds or, when it is that large, milliseconds."""
    try:
        value = float(stamp)
    except ValueError:
        return False
    if not math.isfinite(value):
        return False
    seconds = value / 1000 if value > 1e11 else value
    return abs(time.time() - seconds) <= settings.VAPI_WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS


def _content_length(request: HttpRequest) -> int | None:
    raw = request.META.get("CONTENT_LENGTH") or "0"
    try:
        length = int(raw)
    except ValueError:
        return None
    return length if length >= 0 else None
