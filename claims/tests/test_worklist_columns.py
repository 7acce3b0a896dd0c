"""The worklist's money and call columns: balance, days outstanding, and the call-under-way marker."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from claims.models import Claim
from claims.tests.factories import ClaimFactory
from telephony.models import Call
from telephony.tests.factories import CallFactory

TODAY = date(2026, 11, 20)
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen_today():
    # Noon in Chicago (the factories' practice time zone), so "today" is the same everywhere.
    with time_machine.travel("2026-11-20 18:00:00+00:00", tick=False):
        yield


def _row(body: str, claim: Claim) -> str:
    match = re.search(rf'<tr id="claim-{claim.pk}"[^>]*>(.*?)</tr>', body, re.S)
    assert match, f"no row for claim {claim.claim_number}"
    return match[1]


def _cell(row: str, label: str) -> str:
    """The text of the row's cell labelled ``label`` (the label phones show beside the value)."""
    match = re.search(rf'<td[^>]*data-label="{label}"[^>]*>(.*?)</td>', row, re.S)
    assert match, f"no {label} cell"
    return " ".join(re.sub(r"<[^>]+>", " ", match[1]).split())


def test_it_shows_what_is_still_owed_and_for_how_long(owner_client, practice):
    part_paid = ClaimFactory(
        practice=practice,
        claim_number="A-1",
        total_charge=Decimal("1234.00"),
        paid_amount=Decimal("200.00"),
        service_date_from=TODAY - timedelta(days=45),
    )
    settled = ClaimFactory(
        practice=practice,
        claim_number="A-2",
        status=Claim.Status.DENIED,
        total_charge=Decimal("300.00"),
        adjustment_amount=Decimal("300.00"),
        service_date_from=TODAY - timedelta(days=200),
    )

    body = owner_client.get("/claims/").content.decode()

    assert "<th" in body and ">Balance<" in body and "Days outstanding" in body
    row = _row(body, part_paid)
    assert _cell(row, "Balance") == "$1,034.00"
    assert _cell(row, "Days outstanding") == "45 days"
    assert _cell(row, "Amount") == "$1,234.00 $200.00 paid"
    # Nothing owed: no age to show.
    row = _row(body, settled)
    assert _cell(row, "Balance") == "$0.00"
    assert _cell(row, "Days outstanding") == "—"


def test_it_marks_claims_with_a_call_under_way(owner_client, practice):
    ringing = ClaimFactory(practice=practice, claim_number="A-1")
    ended = ClaimFactory(practice=practice, claim_number="A-2")
    quiet = ClaimFactory(practice=practice, claim_number="A-3")
    CallFactory(practice=practice, claim=ringing, status=Call.Status.RINGING)
    CallFactory(practice=practice, claim=ended, status=Call.Status.ENDED)

    body = owner_client.get("/claims/").content.decode()

    marker = _row(body, ringing)
    assert "Call under way" in marker
    assert f'href="/claims/{ringing.pk}/#claim-calls"' in marker
    assert "Call under way" not in _row(body, ended)
    assert "Call under way" not in _row(body, quiet)


def test_it_finds_calls_under_way_in_one_query_whatever_the_page_holds(owner_client, practice):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            body = owner_client.get("/claims/?sort=claim_number").content.decode()
        assert "Call under way" in body
        return len(queries)

    for n in range(3):
        CallFactory(practice=practice, claim=ClaimFactory(practice=practice, claim_number=f"A-{n}"), status="queued")
    few = count_queries()
    for n in range(57):
        CallFactory(practice=practice, claim=ClaimFactory(practice=practice, claim_number=f"B-{n}"), status="dialing")

    assert count_queries() == few
