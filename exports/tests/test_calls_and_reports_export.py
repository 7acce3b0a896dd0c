"""Exports of the calls list and of each report, for admins."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from audit.models import Action, AuditEntry
from claims.tests.factories import ClaimFactory
from exports.tests.conftest import content_of, csv_rows, xlsx_sheets
from telephony.models import Call
from telephony.tests.factories import CallFactory

pytestmark = pytest.mark.django_db
REPORTS = ["denial-trends", "payer-performance", "ar-aging", "calling-operations"]


def test_it_exports_the_filtered_calls_with_their_summaries(owner_client, practice, settings):
    settings.ENCRYPT_SENSITIVE_FIELDS, settings.ENCRYPTION_KEYS = True, [Fernet.generate_key().decode()]
    claim = ClaimFactory(practice=practice, claim_number="CLM-9", patient__last_name="Lopez")
    CallFactory(practice=practice, claim=claim, summary="+Paid on check 123", outcome={"reference_number": "R-1"})
    CallFactory(practice=practice, status=Call.Status.FAILED)

    response = owner_client.get("/exports/calls/", {"format": "csv", "status": "ended"})

    header, *rows = csv_rows(response)
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert (row["Claim number"], row["Status"], row["Call reference"]) == ("CLM-9", "Ended", "R-1")
    assert row["Summary"] == "'+Paid on check 123"
    assert row["Patient"].startswith("Lopez, ")
    assert AuditEntry.objects.get(action=Action.EXPORTED).resource_type == "call"


def test_it_exports_calls_as_xlsx_with_local_times(owner_client, practice):
    CallFactory(practice=practice)

    rows = xlsx_sheets(content_of(owner_client.get("/exports/calls/", {"format": "xlsx"})))["Calls"]

    assert rows[0][0] == "Started" and rows[1][0].tzinfo is None


def test_it_keeps_another_practices_calls_out(outsider_client, practice):
    CallFactory(practice=practice)

    assert csv_rows(outsider_client.get("/exports/calls/", {"format": "csv"}))[1:] == []


@pytest.mark.parametrize("report", REPORTS)
def test_it_exports_each_report_as_xlsx_sheets(owner_client, practice, report):
    ClaimFactory(practice=practice, status="denied", denial_code="CO-16")

    response = owner_client.get(f"/exports/reports/{report}/", {"format": "xlsx", "days": "30"})

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith(f'attachment; filename="{report}-')
    sheets = xlsx_sheets(content_of(response))
    assert sheets and all(rows for rows in sheets.values())


def test_it_exports_a_reports_tables_one_after_another_in_csv(owner_client, practice):
    ClaimFactory(practice=practice, status="denied", denial_code="CO-16")

    rows = csv_rows(owner_client.get("/exports/reports/denial-trends/", {"format": "csv", "days": "bogus"}))

    assert rows[0] == ["By denial code"] and rows[1] == ["Denial code", "Denied claims", "Billed"]
    assert rows[2] == ["CO-16", "1", "250.00"]


@pytest.mark.parametrize("path", ["/exports/calls/", *(f"/exports/reports/{report}/" for report in REPORTS)])
def test_it_refuses_staff(teammate_client, path):
    assert teammate_client.get(path).status_code == 403


def test_it_shows_export_links_to_admins_only(owner_client, teammate_client):
    assert "/exports/calls/?" not in teammate_client.get("/calls/").content.decode()
    assert "/exports/reports/ar-aging/?format=csv" in owner_client.get("/reports/ar-aging/").content.decode()
    assert "/exports/reports/ar-aging/" not in teammate_client.get("/reports/ar-aging/").content.decode()
