"""GET /exports/claims/: the filtered worklist, every page, as CSV or XLSX, for admins."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import Action, AuditEntry
from claims.models import Claim
from claims.tests.factories import ClaimFactory, PayerFactory
from exports.tests.conftest import content_of, csv_rows, xlsx_sheets

pytestmark = pytest.mark.django_db
URL = "/exports/claims/"


@pytest.fixture
def payer(practice):
    return PayerFactory(practice=practice, name="Aetna")


@pytest.fixture
def denied(practice, payer):
    return ClaimFactory(
        practice=practice,
        payer=payer,
        claim_number="CLM-DENIED",
        status=Claim.Status.DENIED,
        denial_code="CO-16",
        denial_reason='=HYPERLINK("http://evil.example")',
        next_steps="Send the operative report.",
        total_charge=Decimal("1200.00"),
        paid_amount=Decimal("200.00"),
        service_date_from=date(2026, 9, 1),
        next_follow_up_date=date(2026, 12, 20),
        patient__first_name="Maria",
        patient__last_name="Lopez",
        patient__date_of_birth=date(1980, 3, 14),
    )


def test_it_exports_the_filtered_claims_as_csv(owner_client, denied, practice):
    ClaimFactory(practice=practice, status=Claim.Status.SUBMITTED, claim_number="CLM-OTHER")

    response = owner_client.get(URL, {"format": "csv", "status": "denied"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="claims-')
    header, *rows = csv_rows(response)
    assert header[:5] == ["Claim number", "Patient", "Date of birth", "Payer", "Date of service"]
    assert [row[0] for row in rows] == ["CLM-DENIED"]
    row = dict(zip(header, rows[0], strict=True))
    assert row["Patient"] == "Lopez, Maria" and row["Date of birth"] == "1980-03-14"
    assert (row["Charge"], row["Paid"], row["Balance"]) == ("1200.00", "200.00", "1000.00")
    assert (row["Status"], row["Denial code"], row["Follow-up"]) == ("Denied", "CO-16", "2026-12-20")
    assert row["Denial reason"] == '\'=HYPERLINK("http://evil.example")'
    assert row["Next steps"] == "Send the operative report."


def test_it_exports_every_page_in_the_worklists_order(owner_client, practice, payer):
    for number in range(60):
        ClaimFactory(practice=practice, payer=payer, claim_number=f"N-{number:03d}", total_charge=Decimal(number))

    response = owner_client.get(URL, {"format": "csv", "sort": "-amount"})

    numbers = [row[0] for row in csv_rows(response)[1:]]
    assert len(numbers) == 60
    assert numbers[:2] == ["N-059", "N-058"]


def test_it_exports_xlsx_with_decrypted_text_numbers_and_dates(owner_client, denied, settings):
    settings.ENCRYPT_SENSITIVE_FIELDS, settings.ENCRYPTION_KEYS = True, [Fernet.generate_key().decode()]
    Claim.objects.filter(pk=denied.pk).update(next_steps="")
    denied.next_steps = "Call back after the appeal posts."
    denied.save()
    with connection.cursor() as cursor:
        cursor.execute("SELECT next_steps FROM claims_claim WHERE id = %s", [denied.pk])
        assert cursor.fetchone()[0].startswith("fe1:")

    response = owner_client.get(URL, {"format": "xlsx", "status": "all"})

    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    header, row = xlsx_sheets(content_of(response))["Claims"]
    row = dict(zip(header, row, strict=True))
    assert row["Next steps"] == "Call back after the appeal posts."
    assert row["Charge"] == 1200 and row["Date of service"].date() == date(2026, 9, 1)
    assert b"fe1:" not in content_of(owner_client.get(URL, {"format": "csv", "status": "all"}))


def test_it_exports_only_the_practices_own_claims(outsider_client, denied, outsider):
    ClaimFactory(practice=outsider.practice, claim_number="BRAVO-1")

    # The outsider names practice A's payer: not one of theirs, so the filter is left out.
    response = outsider_client.get(URL, {"format": "csv", "status": "all", "payer": denied.payer_id})

    assert [row[0] for row in csv_rows(response)[1:]] == ["BRAVO-1"]


def test_it_leaves_out_an_invalid_filter_as_the_page_does(owner_client, denied):
    response = owner_client.get(URL, {"format": "csv", "status": "bogus", "deadline": "many"})

    assert response.status_code == 200
    assert [row[0] for row in csv_rows(response)[1:]] == ["CLM-DENIED"]


def test_it_refuses_an_unknown_format(owner_client, denied):
    response = owner_client.get(URL, {"format": "pdf"})

    assert response.status_code == 400
    assert "Choose CSV or XLSX" in response.content.decode()


def test_it_refuses_staff(teammate_client, denied):
    assert teammate_client.get(URL, {"format": "csv"}).status_code == 403


def test_it_sends_anonymous_visitors_to_sign_in(client):
    response = client.get(URL)

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_answers_only_get(owner_client):
    assert owner_client.post(URL).status_code == 405


def test_it_records_the_export_in_the_audit_trail(owner_client, owner, denied):
    content_of(owner_client.get(URL, {"format": "xlsx", "status": "denied"}))

    entry = AuditEntry.objects.get(action=Action.EXPORTED)
    assert (entry.actor, entry.resource_type, entry.practice_id) == (owner, "claim", owner.practice_id)
    assert "status=denied" in entry.message


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_its_queries_do_not_grow_with_the_rows(owner_client, practice, payer, file_format):
    def queries_for_export() -> int:
        with CaptureQueriesContext(connection) as captured:
            content_of(owner_client.get(URL, {"format": file_format, "payer": payer.pk}))
        return len(captured)

    ClaimFactory.create_batch(3, practice=practice, payer=payer)
    few = queries_for_export()
    ClaimFactory.create_batch(40, practice=practice, payer=payer)

    assert queries_for_export() == few
