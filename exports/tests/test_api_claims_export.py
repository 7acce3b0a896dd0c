"""GET /api/v1/exports/claims: the filtered worklist as a streamed file, for admins."""

from __future__ import annotations

from decimal import Decimal

import pytest

from audit.models import Action, AuditEntry
from claims.models import Claim
from claims.tests.factories import ClaimFactory, PayerFactory
from exports.tests.conftest import content_of, csv_rows, xlsx_sheets

pytestmark = pytest.mark.django_db
URL = "/api/v1/exports/claims"


@pytest.fixture
def claims(practice):
    payer = PayerFactory(practice=practice)
    return [
        ClaimFactory(practice=practice, payer=payer, claim_number="A-1", status=Claim.Status.DENIED),
        ClaimFactory(practice=practice, payer=payer, claim_number="A-2", total_charge=Decimal("5.00")),
    ]


def test_it_streams_the_filtered_claims_as_csv(api, claims):
    response = api.get(URL, {"format": "csv", "status": "denied"})

    assert response.status_code == 200
    assert response.streaming
    assert [row[0] for row in csv_rows(response)[1:]] == ["A-1"]


def test_it_answers_csv_when_no_format_is_given(api, claims):
    response = api.get(URL)

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")


def test_it_streams_xlsx(api, claims):
    response = api.get(URL, {"format": "xlsx", "sort": "claim_number"})

    rows = xlsx_sheets(content_of(response))["Claims"]
    assert [row[0] for row in rows[1:]] == ["A-1", "A-2"]


def test_it_answers_400_naming_each_bad_field(api, claims, outsider):
    foreign_payer = PayerFactory(practice=outsider.practice)

    response = api.get(URL, {"format": "pdf", "status": "bogus", "payer": foreign_payer.pk, "deadline": "x"})

    assert response.status_code == 400
    assert set(response.json()) == {"format", "status", "payer", "deadline"}


def test_it_refuses_staff(teammate_api, claims):
    response = teammate_api.get(URL)

    assert response.status_code == 403
    assert response.json()["detail"] == "Only practice admins can do this."


def test_it_refuses_anonymous_callers(client):
    assert client.get(URL).status_code in (401, 403)


def test_it_shows_another_practice_none_of_the_claims(api_for, outsider, claims):
    response = api_for(outsider).get(URL, {"status": "all"})

    assert csv_rows(response)[1:] == []


def test_it_records_the_export_in_the_audit_trail(api, owner, claims):
    content_of(api.get(URL, {"format": "csv"}))

    entry = AuditEntry.objects.get(action=Action.EXPORTED)
    assert (entry.actor, entry.resource_type) == (owner, "claim")
