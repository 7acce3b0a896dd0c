"""A fake OpenAI-compatible Chat Completions server on loopback, for tests of the real client.

It answers ``POST /v1/chat/completions`` from a queue of scripted replies (the last one
repeats), and records every request so tests can check what the client sent.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

PATH = "/v1/chat/completions"


def completion(content: str | None, *, refusal: str | None = None, finish_reason: str = "stop") -> dict[str, Any]:
    """A Chat Completions response body carrying ``content`` as the assistant's message."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1767225600,
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal},
                "finish_reason": finish_reason,
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 900, "completion_tokens": 300, "total_tokens": 1200},
    }


def error(status: int, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"message": message, "type": "server_error", "param": None, "code": None}}


class FakeOpenAI:
    def __init__(self) -> None:
        # Threaded, so a stalled request does not hold up the client's retry.
        self.server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self.replies: list[Any] = []
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        self.server.expect_request(PATH, method="POST").respond_with_handler(self._handle)

    @property
    def base_url(self) -> str:
        return self.server.url_for("/v1")

    def start(self) -> None:
        self.server.start()

    def reset(self) -> None:
        """Forget the replies and requests so far, and let stalled requests go."""
        with self._lock:
            self._release.set()
            self._release = threading.Event()
            self.replies.clear()
            self.requests.clear()
            self.headers.clear()

    def stop(self) -> None:
        self.reset()
        if self.server.is_running():
            self.server.stop()

    def answer(self, content: dict[str, Any] | str, **kwargs: Any) -> None:
        """Reply with a completion whose message content is ``content`` (a dict is sent as JSON)."""
        text = content if isinstance(content, str) else json.dumps(content)
        self.replies.append((200, completion(text, **kwargs)))

    def fail(self, status: int, message: str = "Something went wrong", *, retry_after_ms: int | None = None) -> None:
        code, body = error(status, message)
        headers = {"retry-after-ms": str(retry_after_ms)} if retry_after_ms is not None else {}
        self.replies.append((code, body, headers))

    def page(self, html: str) -> None:
        """Reply 200 with a web page, as a proxy or a wrong base URL might."""
        self.replies.append(("page", html))

    def stall(self, seconds: float) -> None:
        """Hold the request open for ``seconds`` (or until the server stops), then fail."""
        self.replies.append(("stall", seconds))

    def _handle(self, request: Request) -> Response:
        with self._lock:
            self.requests.append(json.loads(request.get_data()))
            self.headers.append(dict(request.headers))
            reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
            release = self._release
        if reply[0] == "stall":
            release.wait(reply[1])
            return Response("too late", status=500)
        if reply[0] == "page":
            return Response(reply[1], status=200, content_type="text/html")
        status, body, *rest = reply
        headers = rest[0] if rest else {}
        return Response(json.dumps(body), status=status, headers=headers, content_type="application/json")
