"""Running requests at the same moment, for tests of what identical simultaneous requests do."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connections

WAIT = 30  # seconds; far more than any request in these tests takes


def at_once(requests: list[Callable]) -> list:
    """Run the requests in threads released together; their responses, in order. A 500 raises."""
    start = threading.Barrier(len(requests))
    responses: list = [None] * len(requests)
    errors: list[BaseException] = []

    def run(index: int, request: Callable) -> None:
        try:
            start.wait(timeout=WAIT)
            responses[index] = request()
        except BaseException as error:  # surfaced below: a thread cannot fail the test itself
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WAIT * 4)
    assert errors == []
    assert all(response is not None for response in responses)
    return responses
