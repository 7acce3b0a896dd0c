"""The worklist's speed rests on PostgreSQL reading its pages from indexes; these tests hold it to that.

Each test fills two practices with a few thousand claims (enough for the planner to weigh a sort of
every claim against an index), asks for a worklist page, and reads the plan of the query that
fetched its rows: an index that gives the rows in the page's order, not a sort of every matching
claim. A change that loses the index (an order the index does not match, a filter that hides a
column from it) fails here rather than in a practice with 200,000 claims.
"""

from __future__ import annotations

import random
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billingpulse.models import Patient
from claims.models import Claim, Payer

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the query plans are PostgreSQL's"),
]
CLAIMS_PER_PRACTICE = 6_000
STATUSES = ["submitted", "denied", "in_process", "appealed", "paid", "closed"]
TODAY = date(2026, 11, 20)


def _fill(practices) -> None:
    """Claims of both practices, written alternately so that their rows interleave as in a shared table."""
    rng = random.Random(7)
    payers = {
        practice.pk: [Payer.objects.create(practice=practice, name=f"Payer {n}", payer_id=f"P{n}") for n in range(4)]
        for practice in practices
    }
    patients = {
        practice.pk: Patient.objects.bulk_create(
            Patient(
                practice=practice,
                first_name=rng.choice(["Ana", "Omar", "Wei"]),
                last_name=f"Name{n:04d}",
                date_of_birth=date(1970, 1, 1),
            )
            for n in range(1_200)
        )
        for practice in practices
    }
    claims = []
    for n in range(CLAIMS_PER_PRACTICE):
        for practice in practices:
            served = TODAY - timedelta(days=rng.randrange(720))
            claims.append(
                Claim(
                    practice=practice,
                    patient=rng.choice(patients[practice.pk]),
                    payer=rng.choice(payers[practice.pk]),
                    claim_number=f"CLM-{n:06d}",
                    service_date_from=served,
                    total_charge=Decimal("100.00"),
                    balance=Decimal("100.00"),
                    status=rng.choice(STATUSES),
                    denial_code=rng.choice(["", "CO-16", "CO-97"]),
                    next_follow_up_date=rng.choice([None, TODAY + timedelta(days=rng.randrange(-30, 60))]),
                    timely_filing_deadline=served + timedelta(days=90),
                )
            )
    Claim.objects.bulk_create(claims, batch_size=2_000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE claims_claim")
        cursor.execute("ANALYZE billingpulse_patient")


@pytest.fixture
def filled(practice, other_practice):
    _fill([practice, other_practice])


def _plan(client, url: str) -> str:
    """The plan of the statement that read the page's rows (it picks a page and one more: LIMIT 51)."""
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    rows = next(query["sql"] for query in captured.captured_queries if "LIMIT 51" in query["sql"])
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + rows)
        return "\n".join(line for (line,) in cursor.fetchall())


def _index(*fields: str) -> str:
    return next(index.name for index in Claim._meta.indexes if list(index.fields) == list(fields))


def _reads_in_order(plan: str, index: str) -> bool:
    """Whether the LIMIT that picks the page's claims takes them straight from ``index`` (no sort between)."""
    lines = plan.splitlines()
    limit = next(number for number, line in enumerate(lines) if re.match(r"\s*(->\s+)?Limit\b", line))
    below = next(line.strip().removeprefix("->").strip() for line in lines[limit + 1 :] if "->" in line)
    return bool(re.match(rf"Index (Only )?Scan (Backward )?using {index} ", below))


def test_the_first_page_reads_the_latest_claims_from_an_index(owner_client, filled):
    plan = _plan(owner_client, "/claims/")

    # The page's 51 claims come straight from the index in the page's order: no sort of every open claim.
    assert _reads_in_order(plan, _index("practice", "-service_date_from", "-id")), plan


def test_a_page_deep_in_the_list_starts_at_its_claim_in_the_index(owner_client, practice, filled):
    claim = Claim.objects.filter(practice=practice).order_by("-service_date_from", "-pk")[4_000]

    plan = _plan(owner_client, f"/claims/?status=all&after={claim.pk}&start=4001")

    assert _reads_in_order(plan, _index("practice", "-service_date_from", "-id")), plan
    assert re.search(r"Index Cond: .*service_date_from <= ", plan), plan


def test_a_status_filter_reads_that_status_in_order(owner_client, filled):
    plan = _plan(owner_client, "/claims/?status=denied")

    assert _reads_in_order(plan, _index("practice", "status", "-service_date_from", "-id")), plan


def test_a_deadline_filter_lists_the_nearest_deadlines_from_their_index(owner_client, filled):
    plan = _plan(owner_client, "/claims/?deadline=30")

    assert _reads_in_order(plan, _index("practice", "timely_filing_deadline", "id")), plan


def test_a_search_for_a_common_name_walks_the_latest_claims_and_stops_at_the_page(owner_client, filled):
    # One patient in three is called Omar: the 51 newest matches are near the start of the order.
    plan = _plan(owner_client, "/claims/?q=omar")

    # Read in the page's order from the index that carries the search text, no table row, no sort.
    assert _reads_in_order(plan, "claim_worklist_order"), plan
    assert "Index Only Scan using claim_worklist_order" in plan, plan


def test_a_search_for_a_rare_name_finds_its_claims_through_the_trigram_index(owner_client, filled):
    # One patient in 1,200: walking the order would read nearly every claim to fill a page.
    plan = _plan(owner_client, "/claims/?q=name0042")

    assert "Bitmap Index Scan on claim_search_trgm" in plan, plan
    assert "Seq Scan on claims_claim" not in plan, plan
