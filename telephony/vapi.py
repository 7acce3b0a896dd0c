"""Vapi's REST API: place a call, fetch one, and find one whose create answer we never saw.

This is the only module that talks to Vapi. Creating a call is not idempotent (Vapi has
no idempotency key), so the create request is sent exactly once per attempt: no retries,
and a failure after the request may have reached Vapi raises ``AmbiguousProviderError`` so
that the caller reconciles (``find_call``) before trying again. Reads retry a little.

Logs carry ids, HTTP statuses and Vapi's error text, never claim or patient facts.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, timedelta
from typing import TYPE_CHECKING
from urllib.parse import quote

import httpx
from django.conf import settings

from telephony import prompts
from telephony.ingest import our_call_id
from telephony.providers import AmbiguousProviderError, ProviderError

if TYPE_CHECKING:
    from telephony.models import Call

logger = logging.getLogger(__name__)

READ_ATTEMPTS = 3
READ_BACKOFF_SECONDS = 0.5
ERROR_TEXT_LIMIT = 500
# Failures raised before a single byte of the request left this machine: nothing was placed.
NOT_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
)
# A gateway answered for Vapi: Vapi itself may have created the call before the gateway gave up.
GATEWAY_STATUSES = {502, 504}
FIND_WINDOW = timedelta(minutes=10)


class VapiClient:
    def __init__(self, *, api_key: str | None = None, base_url: str | None = None, timeout: float | None = None):
        self.api_key = settings.VAPI_API_KEY if api_key is None else api_key
        self.base_url = (base_url or settings.VAPI_BASE_URL).rstrip("/")
        self.timeout = settings.VAPI_TIMEOUT_SECONDS if timeout is None else timeout

    def create_call(self, body: dict, *, call_id: int | None = None) -> dict:
        """``POST /call``, once. Returns Vapi's ``Call``; raises ProviderError or AmbiguousProviderError."""
        self._require_key()
        try:
            with self._http() as http:
                response = http.post("/call", json=body)
        except NOT_SENT as error:
            logger.warning("Vapi create for call %s not sent: %s", call_id, type(error).__name__)
            raise ProviderError(f"Could not reach Vapi ({type(error).__name__}).") from error
        except httpx.TransportError as error:
            logger.warning("Vapi create for call %s has no answer: %s", call_id, type(error).__name__)
            raise AmbiguousProviderError(
                f"No answer from Vapi ({type(error).__name__}); the call may have been placed."
            ) from error
        if response.status_code in GATEWAY_STATUSES:
            logger.warning("Vapi create for call %s: gateway error %s", call_id, response.status_code)
            raise AmbiguousProviderError(
                f"Vapi's gateway answered {response.status_code}; the call may have been placed."
            )
        if not response.is_success:
            text = _error_text(response)
            logger.warning("Vapi refused call %s: HTTP %s %s", call_id, response.status_code, text)
            raise ProviderError(f"Vapi refused the call (HTTP {response.status_code}): {text}")
        data = _json_or_none(response)
        if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not data["id"]:
            logger.warning("Vapi accepted call %s without a call id (HTTP %s)", call_id, response.status_code)
            raise AmbiguousProviderError("Vapi accepted the call but its answer has no call id.")
        return data

    def get_call(self, provider_call_id: str) -> dict | None:
        """``GET /call/{id}``: Vapi's ``Call``, or None when Vapi does not know the id."""
        response = self._read(f"/call/{quote(provider_call_id, safe='')}")
        if response.status_code == 404:
            return None
        data = _json_or_none(response)
        if not isinstance(data, dict):
            raise ProviderError("Vapi's answer to GET /call/{id} is not a call.")
        return data

    def list_calls(self, params: dict) -> list[dict]:
        """``GET /call`` with Vapi's filters (``phoneNumberId``, ``createdAtGe``, ``limit``...)."""
        response = self._read("/call", params=params)
        data = _json_or_none(response)
        if not isinstance(data, list):
            raise ProviderError("Vapi's answer to GET /call is not a list of calls.")
        return [item for item in data if isinstance(item, dict)]

    def _read(self, path: str, params: dict | None = None) -> httpx.Response:
        """A GET, retried on network errors, 429 and 5xx (reads are safe to repeat); 404 is returned."""
        self._require_key()
        problem = ""
        for attempt in range(1, READ_ATTEMPTS + 1):
            if attempt > 1:
                time.sleep(READ_BACKOFF_SECONDS * 2 ** (attempt - 2))
            try:
                with self._http() as http:
                    response = http.get(path, params=params)
            except httpx.TransportError as error:
                problem = type(error).__name__
                continue
            if response.status_code == 429 or response.status_code >= 500:
                problem = f"HTTP {response.status_code}"
                continue
            if response.is_success or response.status_code == 404:
                return response
            text = _error_text(response)
            logger.warning("Vapi GET %s failed: HTTP %s %s", path, response.status_code, text)
            raise ProviderError(f"Vapi answered HTTP {response.status_code}: {text}")
        logger.warning("Vapi GET %s failed after %s attempts: %s", path, READ_ATTEMPTS, problem)
        raise ProviderError(f"Vapi did not answer ({problem}).")

    def _http(self) -> httpx.Client:
        # A fresh connection per request: no pooled connection that went stale can turn a
        # create that was never sent into an ambiguous one.
        return httpx.Client(
            base_url=self.base_url,
            timeout=self.timeout,
            headers={"Authorization": f"Bearer {self.api_key}", "Accept": "application/json"},
            transport=httpx.HTTPTransport(retries=0),
        )

    def _require_key(self) -> None:
        if not self.api_key:
            raise ProviderError("VAPI_API_KEY is not set.")


class VapiProvider:
    """Places payer calls through Vapi (``TELEPHONY_PROVIDER=vapi``)."""

    name = "vapi"

    def __init__(self, client: VapiClient | None = None) -> None:
        self.client = client or VapiClient()

    def start_call(self, call: Call) -> str:
        body = build_call_request(call)
        return self.client.create_call(body, call_id=call.pk)["id"]

    def fetch_call(self, provider_call_id: str) -> dict | None:
        return self.client.get_call(provider_call_id)

    def find_call(self, call: Call) -> dict | None:
        """The Vapi call placed for ``call``, found by the call id we put in its metadata."""
        placed = call.placed_at or call.created_at
        params = {
            "phoneNumberId": settings.VAPI_PHONE_NUMBER_ID,
            "createdAtGe": _iso(placed - FIND_WINDOW),
            "createdAtLe": _iso(placed + FIND_WINDOW),
            "limit": 100,
        }
        matches = [item for item in self.client.list_calls(params) if our_call_id(item)[0] == call.pk]
        if len(matches) > 1:
            logger.error("Vapi has %s calls for call %s; using the first placed", len(matches), call.pk)
        matches.sort(key=lambda item: str(item.get("createdAt", "")))
        return matches[0] if matches else None


def build_call_request(call: Call) -> dict:
    """The ``POST /call`` body for ``call``: the payer's number, our number, and the assistant."""
    if not settings.VAPI_PHONE_NUMBER_ID:
        raise ProviderError("VAPI_PHONE_NUMBER_ID is not set.")
    payer = call.payer
    if not payer.phone:
        raise ProviderError(f"{payer.name} has no claims phone number.")
    customer = {"number": payer.phone, "name": payer.name[:40], "externalId": prompts.external_id(call)}
    if payer.phone_extension:
        customer["extension"] = payer.phone_extension
    body: dict = {
        "phoneNumberId": settings.VAPI_PHONE_NUMBER_ID,
        "customer": customer,
        "name": f"BillingPulse call {call.pk}"[:40],
    }
    if settings.VAPI_ASSISTANT_ID:
        body["assistantId"] = settings.VAPI_ASSISTANT_ID
        body["assistantOverrides"] = prompts.assistant_overrides(call)
    else:
        body["assistant"] = prompts.transient_assistant(call)
        # Overrides apply to a transient assistant too; the metadata is echoed back from here.
        body["assistantOverrides"] = {"metadata": prompts.call_metadata(call)}
    return body


def _error_text(response: httpx.Response) -> str:
    return " ".join(response.text.split())[:ERROR_TEXT_LIMIT] or "(empty body)"


def _json_or_none(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return None


def _iso(moment) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
