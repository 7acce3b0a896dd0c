"""The seam between the call queue and a voice platform.

A provider places a call and can look one up. ``vapi`` talks to Vapi's REST API
(``telephony/vapi.py``); ``sandbox`` simulates the call and its webhooks locally
(``telephony/sandbox.py``). Both report back through the same webhook code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from django.conf import settings

if TYPE_CHECKING:
    from telephony.models import Call


class ProviderError(Exception):
    """The platform refused the call (a definite failure: nothing was placed)."""


class AmbiguousProviderError(ProviderError):
    """We do not know whether the call was placed (timeout, dropped connection).

    Never retry the create request after this: reconcile first (``find_call``).
    """


class CallProvider(Protocol):
    name: str

    def start_call(self, call: Call) -> str:
        """Place the call; return the platform's call id. Raises ProviderError."""

    def fetch_call(self, provider_call_id: str) -> dict | None:
        """The platform's view of a call (Vapi's ``Call`` shape), or None if unknown."""

    def find_call(self, call: Call) -> dict | None:
        """Look for a call placed for ``call`` whose create response we never saw."""


def get_provider(name: str | None = None) -> CallProvider:
    name = name or settings.TELEPHONY_PROVIDER
    if name == "vapi":
        from telephony.vapi import VapiProvider

        return VapiProvider()
    from telephony.sandbox import SandboxProvider

    return SandboxProvider()
