"""Fixtures of the fuzz tests.

``FUZZ_EXAMPLES`` (an integer, default 0) deepens every fuzz test: the API fuzzer runs that
many examples per operation (and every coverage case) instead of its small default, and the
crawler tries that many hostile values per form field and query parameter instead of one.
CI leaves it unset.
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
