"""Fixtures of the fuzz tests (tests/fuzz): a seeded practice, a record of server errors, quiet logs.

How deep the fuzz tests go is ``FUZZ_EXAMPLES`` (an integer; unset or 0 is the quick run CI
makes, about a minute in all): the API fuzzer then runs that many hypothesis examples per
operation and every coverage case, the webhook fuzzer that many deliveries (and transcripts),
and the crawler that many hostile values per form field, query name and path parameter
(``FUZZ_EXAMPLES=30`` tries every one). Every run is derandomized: the same requests each time.
"""

from __future__ import annotations

import logging

import pytest
from django.core.signals import got_request_exception

from tests.fuzz.seed import Seeded, seed_practice
from tests.fuzz.support import ServerErrorLog


@pytest.fixture
def server_errors():
    log = ServerErrorLog()
    got_request_exception.connect(log, dispatch_uid="fuzz-server-errors")
    yield log
    got_request_exception.disconnect(dispatch_uid="fuzz-server-errors")


@pytest.fixture
def seeded(db) -> Seeded:
    return seed_practice()


@pytest.fixture(autouse=True)
def _quiet_logs():
    # Thousands of 400/404 warnings would bury the report; server errors are captured above.
    logging.disable(logging.CRITICAL)
    yield
    logging.disable(logging.NOTSET)
