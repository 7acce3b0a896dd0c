"""A call provider answering from memory, for tests of the queue (the seam is ``get_provider``)."""

from __future__ import annotations

from telephony.models import Call


class FakeProvider:
    name = "sandbox"

    def __init__(self, error: Exception | None = None, on_start=None):
        self.error = error
        self.on_start = on_start
        self.started: list[int] = []

    def start_call(self, call: Call) -> str:
        self.started.append(call.pk)
        if self.on_start:
            self.on_start(call)
        if self.error:
            raise self.error
        return f"fake-{call.pk}"

    def fetch_call(self, provider_call_id: str) -> dict | None:
        return None

    def find_call(self, call: Call) -> dict | None:
        return None
