from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError
from openpyxl import Workbook

from billingpulse.models import Patient
from billingpulse.tests.factories import PatientFactory, UserFactory
from claims.importing import engine
from claims.importing.errors import ImportFileError
from claims.models import Claim, ClaimEvent, ClaimImport, InsurancePolicy
from claims.tests.db_faults import fail_database, refuse_rows
from claims.tests.factories import ClaimFactory, PayerFactory

HEADER = "Claim No,Patient,DOB,DOS,Amount,Code,Denial,Payer ID,Member ID,CPT,ICD10\n"


def csv_file(body: str, header: str = HEADER, name: str = "claims.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (header + body).encode(), content_type="text/csv")


def run(practice, user, upload, default_payer=None) -> ClaimImport:
    claim_import = engine.inspect_upload(practice=practice, user=user, upload=upload, default_payer=default_payer)
    assert engine.start(claim_import)
    return engine.run_import(claim_import.pk)


@pytest.fixture
def aetna(practice):
    return PayerFactory(practice=practice, name="Aetna", payer_id="60054", timely_filing_days=120)


@pytest.fixture
def bcbs(practice):
    return PayerFactory(practice=practice, name="BCBS Texas", payer_id="00590")


@pytest.mark.django_db
def test_it_imports_claims_with_patients_policies_lines_and_events(practice, owner, aetna):
    result = run(
        practice,
        owner,
        csv_file(
            'A-1,Maria Lopez,03/14/1980,09/01/2026,"$1,250.00",CO-16,Missing info,60054,W123,99213,E119\n'
            'A-2,"LOPEZ, MARIA",1980-03-14,9/2/26,85,,,60054,W123,,\n'
        ),
    )

    assert (result.status, result.imported_count, result.updated_count, result.rejected_count) == ("done", 2, 0, 0)
    first = Claim.objects.get(claim_number="A-1")
    assert first.status == Claim.Status.DENIED
    assert first.denial_code == "CO-16"
    assert first.total_charge == Decimal("1250.00")
    assert first.diagnosis_codes == ["E11.9"]
    assert first.timely_filing_deadline == date(2026, 9, 1) + timedelta(days=120)
    assert list(first.lines.values_list("procedure_code", "charge")) == [("99213", Decimal("1250.00"))]
    assert Claim.objects.get(claim_number="A-2").status == Claim.Status.SUBMITTED
    # Both rows are the same person: one patient and one policy.
    assert Patient.objects.filter(practice=practice).count() == 1
    assert InsurancePolicy.objects.get().member_id == "W123"
    event = ClaimEvent.objects.filter(claim=first).get()
    assert (event.kind, event.actor, event.source) == ("imported", owner, "import")
    assert "claims.csv, row 2" in event.message


@pytest.mark.django_db
def test_it_updates_on_reimport_without_duplicates(practice, owner, aetna):
    body = "A-1,Maria Lopez,03/14/1980,09/01/2026,100.00,,,60054,W1,,\n"
    run(practice, owner, csv_file(body))

    second = run(
        practice, owner, csv_file(body.replace("100.00", "120.00").replace(",,,60054", ",CO-97,Bundled,60054"))
    )

    assert (second.imported_count, second.updated_count) == (0, 1)
    claim = Claim.objects.get()
    assert claim.total_charge == Decimal("120.00")
    assert claim.status == Claim.Status.DENIED
    assert Patient.objects.count() == 1
    kinds = list(claim.events.order_by("id").values_list("kind", flat=True))
    assert kinds == ["imported", "updated", "status_changed"]


@pytest.mark.django_db
def test_it_matches_an_existing_patient_by_name_and_birth_date(practice, owner, aetna):
    patient = PatientFactory(practice=practice, first_name="Maria", last_name="Lopez", date_of_birth=date(1980, 3, 14))
    PatientFactory(practice=practice, first_name="Maria", last_name="Lopez", date_of_birth=date(1955, 1, 1))

    run(practice, owner, csv_file("A-1,maria lopez,03/14/1980,09/01/2026,100,,,60054,,,\n"))

    assert Claim.objects.get().patient == patient
    assert Patient.objects.count() == 2


@pytest.mark.django_db
def test_it_reports_every_bad_row_and_imports_the_rest(practice, owner, aetna):
    result = run(
        practice,
        owner,
        csv_file(
            "A-1,Maria Lopez,03/14/1980,13/45/2026,100,,,60054,,,\n"
            ",Maria Lopez,03/14/1980,09/01/2026,100,,,60054,,,\n"
            "A-3,Maria Lopez,03/14/1980,09/01/2026,-$40.00,,,60054,,,\n"
            "A-4,Maria Lopez,03/14/1980,09/01/2026,100,,,99999,,,\n"
            "A-5,Maria Lopez,03/14/1980,09/01/2026,100,,,60054,,,\n"
            "A-5,Maria Lopez,03/14/1980,09/02/2026,100,,,60054,,,\n"
            "A-7,Joe Bloggs,,09/01/2026,100,,,60054,,,\n"
        ),
    )

    errors = {(e.row_number, e.column): e.message for e in result.row_errors.all()}
    assert errors[(2, "DOS")] == "13/45/2026 is not a real date. Use MM/DD/YYYY."
    assert errors[(3, "Claim No")] == "Claim number is missing."
    assert errors[(4, "Amount")] == "Amount cannot be negative."
    assert "Payer ID 99999 is not one of your payers" in errors[(5, "Payer ID")]
    assert errors[(7, "Claim No")].startswith("Claim number A-5 appears more than once; first on row 6")
    assert errors[(8, "DOB")] == "Date of birth is missing; it is needed to add this patient."
    assert (result.imported_count, result.rejected_count) == (1, 6)
    assert list(Claim.objects.values_list("claim_number", flat=True)) == ["A-5"]


@pytest.mark.django_db
def test_it_finds_repeats_across_batches(practice, owner, aetna, monkeypatch):
    monkeypatch.setattr(engine, "BATCH_SIZE", 2)
    rows = "".join(f"A-{n},Maria Lopez,03/14/1980,09/01/2026,100,,,60054,,,\n" for n in (1, 2, 3, 1))

    result = run(practice, owner, csv_file(rows))

    assert (result.imported_count, result.rejected_count) == (3, 1)
    assert "appears more than once earlier in this file" in result.row_errors.get().message
    assert result.row_errors.get().row_number == 5


@pytest.mark.django_db
def test_it_uses_the_chosen_payer_when_the_file_has_none(practice, owner, aetna):
    upload = csv_file("A-1,Maria Lopez,03/14/1980,09/01/2026,100\n", header="Claim #,Patient,DOB,DOS,Balance\n")

    result = run(practice, owner, upload, default_payer=aetna)

    assert result.imported_count == 1
    assert Claim.objects.get().payer == aetna


@pytest.mark.django_db
def test_it_matches_payer_ids_that_excel_turned_into_numbers(practice, owner, bcbs):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["AR export"])
    sheet.append(["claim_no", "patient_name", "dob", "date_of_service", "amount", "payer_id"])
    sheet.append(["X-1", "Ann Lee", date(1970, 1, 2), date(2026, 8, 3), 250.5, 590])
    sheet.append(["TOTAL", None, None, None, 250.5])
    buffer = io.BytesIO()
    workbook.save(buffer)

    result = run(practice, owner, SimpleUploadedFile("export.xlsx", buffer.getvalue()))

    assert (result.imported_count, result.rejected_count) == (1, 0)
    claim = Claim.objects.get()
    assert (claim.payer, claim.total_charge, claim.service_date_from) == (bcbs, Decimal("250.50"), date(2026, 8, 3))


@pytest.mark.django_db
def test_it_gives_the_same_result_when_run_again_after_an_interruption(practice, owner, aetna):
    upload = csv_file(
        "A-1,Maria Lopez,03/14/1980,09/01/2026,100,,,60054,,,\nA-2,Bo Chan,01/01/1990,09/01/2026,5,,,1,,,\n"
    )
    claim_import = engine.inspect_upload(practice=practice, user=owner, upload=upload)
    engine.start(claim_import)
    engine.run_import(claim_import.pk)
    # A worker killed at the very end leaves the import running; the redelivered task reruns it.
    ClaimImport.objects.filter(pk=claim_import.pk).update(status=ClaimImport.Status.RUNNING)

    again = engine.run_import(claim_import.pk)

    # It carries on after the rows already written: nothing is imported or counted twice.
    assert (again.status, again.imported_count, again.updated_count, again.rejected_count) == ("done", 1, 0, 1)
    assert Claim.objects.count() == 1
    assert ClaimEvent.objects.count() == 1
    assert again.row_errors.count() == 1


@pytest.mark.django_db
def test_it_does_not_run_an_import_twice_at_once_or_after_it_finished(practice, owner, aetna):
    claim_import = run(practice, owner, csv_file("A-1,Maria Lopez,03/14/1980,09/01/2026,100,,,60054,,,\n"))

    assert engine.run_import(claim_import.pk) is None
    assert not engine.start(claim_import)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "not a CSV or Excel"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40, ".xlsx"),
        ("empty.csv", b"", "empty"),
        ("notes.csv", b"hello,world\nfoo,bar\n", "header row"),
        ("header-only.csv", HEADER.encode(), "no claims"),
    ],
)
def test_it_refuses_unreadable_files_and_keeps_nothing(practice, owner, name, content, message, settings, tmp_path):
    with pytest.raises(ImportFileError) as caught:
        engine.inspect_upload(practice=practice, user=owner, upload=SimpleUploadedFile(name, content))

    assert message in caught.value.message
    assert not ClaimImport.objects.exists()
    media = tmp_path / "media"
    assert not media.exists() or not any(media.rglob("*.*"))


@pytest.mark.django_db
def test_it_refuses_a_file_over_the_size_limit(practice, owner, settings):
    settings.CLAIM_IMPORT_MAX_BYTES = 100

    with pytest.raises(ImportFileError, match="larger than"):
        engine.inspect_upload(practice=practice, user=owner, upload=csv_file("A-1,x y,,,,\n" * 20))
    assert not ClaimImport.objects.exists()


@pytest.mark.django_db
def test_it_keeps_imports_inside_the_practice(practice, owner, other_practice, aetna):
    ClaimFactory(practice=other_practice, claim_number="A-1")
    PayerFactory(practice=other_practice, payer_id="60054")

    result = run(practice, owner, csv_file("A-1,Maria Lopez,03/14/1980,09/01/2026,100,,,60054,,,\n"))

    assert result.imported_count == 1
    assert Claim.objects.get(practice=practice).payer == aetna
    assert Claim.objects.filter(claim_number="A-1").count() == 2
    assert not Patient.objects.filter(practice=other_practice, last_name="Lopez").exists()


@pytest.mark.django_db
def test_it_checks_a_corrected_mapping(practice, owner, aetna):
    claim_import = engine.inspect_upload(
        practice=practice, user=owner, upload=csv_file("A-1,Maria Lopez,03/14/1980,09/01/2026,100,,,60054,,,\n")
    )

    problems = engine.save_mapping(claim_import, {0: "claim_number", 1: "claim_number", 3: "date_of_service"}, None)

    assert "Two columns are set to Claim number; choose one." in problems
    assert "Choose the column with the amount." in problems
    claim_import.refresh_from_db()
    assert claim_import.column_mapping["4"] == "amount"


@pytest.mark.django_db
def test_it_marks_the_import_failed_when_the_stored_file_is_gone(practice, owner, aetna):
    claim_import = engine.inspect_upload(
        practice=practice, user=UserFactory(practice=practice), upload=csv_file("A-1,M L,01/01/1990,09/01/2026,1\n")
    )
    engine.start(claim_import)
    claim_import.file.storage.delete(claim_import.file.name)

    with pytest.raises(FileNotFoundError):
        engine.run_import(claim_import.pk)

    claim_import.refresh_from_db()
    assert claim_import.status == ClaimImport.Status.FAILED
    assert "error on our side" in claim_import.failure_message


# --- No row fails the whole import


@pytest.mark.django_db
def test_it_rejects_dates_out_of_range_and_imports_the_other_rows(practice, owner, aetna):
    upload = csv_file(
        "A-1,Maria Lopez,03/14/1980,09/01/2026,09/02/2026,100,60054\n"
        "A-2,Bo Chan,01/01/1990,12/31/9999,,100,60054\n"
        "A-3,Ann Lee,01/01/0001,09/01/2026,,100,60054\n"
        "A-4,Joe Ray,01/01/1990,09/01/2026,01/01/2200,100,60054\n"
        "A-5,Eve Ng,01/01/1990,09/01/2026,,100,60054\n",
        header="Claim No,Patient,DOB,DOS,DOS To,Amount,Payer ID\n",
    )

    result = run(practice, owner, upload)

    assert (result.status, result.imported_count, result.rejected_count) == ("done", 2, 3)
    errors = [(e.row_number, e.column, e.value, e.message) for e in result.row_errors.all()]
    between = "Enter a date between 01/01/1900 and 12/31/2199."
    assert errors == [
        (3, "DOS", "12/31/9999", f"12/31/9999 is outside the dates we accept. {between}"),
        (4, "DOB", "01/01/0001", f"01/01/0001 is outside the dates we accept. {between}"),
        (5, "DOS To", "01/01/2200", f"01/01/2200 is outside the dates we accept. {between}"),
    ]
    assert sorted(Claim.objects.values_list("claim_number", flat=True)) == ["A-1", "A-5"]


@pytest.mark.django_db
def test_it_rejects_excel_dates_out_of_range(practice, owner, aetna):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["claim_no", "patient_name", "dob", "date_of_service", "amount", "payer_id"])
    sheet.append(["X-1", "Ann Lee", date(1970, 1, 2), date(9999, 12, 31), 250, "60054"])
    sheet.append(["X-2", "Bo Chan", date(1970, 1, 2), date(2026, 8, 3), 250, "60054"])
    buffer = io.BytesIO()
    workbook.save(buffer)

    result = run(practice, owner, SimpleUploadedFile("export.xlsx", buffer.getvalue()))

    assert (result.status, result.imported_count, result.rejected_count) == ("done", 1, 1)
    assert result.row_errors.get().message.startswith("12/31/9999 is outside the dates we accept.")


@pytest.mark.django_db
def test_it_holds_a_deadline_past_year_9999_at_the_last_date(practice, owner):
    PayerFactory(practice=practice, payer_id="60054", timely_filing_days=2_000_000_000)

    result = run(practice, owner, csv_file("A-1,Maria Lopez,03/14/1980,09/01/2026,100,,,60054,,,\n"))

    assert (result.status, result.imported_count) == ("done", 1)
    assert Claim.objects.get().timely_filing_deadline == date.max


@pytest.mark.django_db
def test_it_rejects_a_row_the_database_refuses_and_imports_the_rest(practice, owner, aetna):
    refuse_rows("claims_claim", "NEW.claim_number = 'A-2'")

    result = run(
        practice,
        owner,
        csv_file(
            "A-1,Maria Lopez,03/14/1980,09/01/2026,100,,,60054,W1,99213,\n"
            "A-2,Bo Chan,01/01/1990,09/01/2026,100,,,60054,W2,99213,\n"
            "A-3,Ann Lee,02/02/1970,09/01/2026,100,,,60054,W3,99213,\n"
        ),
    )

    assert (result.status, result.imported_count, result.updated_count, result.rejected_count) == ("done", 2, 0, 1)
    error = result.row_errors.get()
    assert error.row_number == 3
    assert error.message.startswith("This row could not be imported: ")
    assert "Traceback" not in error.message and "refused by the test" not in error.message
    assert sorted(Claim.objects.values_list("claim_number", flat=True)) == ["A-1", "A-3"]
    # Nothing of the refused row is left behind: not its patient, policy, line or event.
    assert sorted(Patient.objects.values_list("last_name", flat=True)) == ["Lee", "Lopez"]
    assert sorted(InsurancePolicy.objects.values_list("member_id", flat=True)) == ["W1", "W3"]
    assert ClaimEvent.objects.count() == 2


@pytest.mark.django_db
def test_it_rejects_an_update_the_database_refuses_and_updates_the_rest(practice, owner, aetna):
    body = "A-1,Maria Lopez,03/14/1980,09/01/2026,100,,,60054,,,\nA-2,Bo Chan,01/01/1990,09/01/2026,100,,,60054,,,\n"
    run(practice, owner, csv_file(body))
    refuse_rows("claims_claim", "NEW.claim_number = 'A-1'", event="UPDATE")

    result = run(practice, owner, csv_file(body.replace(",100,", ",120,")))

    assert (result.status, result.imported_count, result.updated_count, result.rejected_count) == ("done", 0, 1, 1)
    assert result.row_errors.get().row_number == 2
    totals = dict(Claim.objects.values_list("claim_number", "total_charge"))
    assert totals == {"A-1": Decimal("100.00"), "A-2": Decimal("120.00")}


@pytest.mark.django_db
def test_it_rolls_back_the_batch_and_names_the_imported_rows_when_the_database_fails(
    practice, owner, aetna, monkeypatch
):
    monkeypatch.setattr(engine, "BATCH_SIZE", 2)
    # Row 5's claim is written, then its event fails: the database, not the row, is at fault.
    # Found by its claim, not its message: the message may be stored encrypted (billingpulse.encryption).
    fail_database("claims_claimevent", "NEW.claim_id = (SELECT id FROM claims_claim WHERE claim_number = 'A-4')")
    upload = csv_file(
        "A-1,Maria Lopez,03/14/1980,09/01/2026,100,,,60054,,,\n"
        "A-2,Bo Chan,01/01/1990,09/01/2026,100,,,60054,,,\n"
        "A-3,Ann Lee,02/02/1970,09/01/2026,,,,60054,,,\n"
        "A-4,Joe Ray,03/03/1960,09/01/2026,100,,,60054,,,\n"
        "A-5,Eve Ng,04/04/1950,09/01/2026,100,,,60054,,,\n"
    )
    claim_import = engine.inspect_upload(practice=practice, user=owner, upload=upload)
    engine.start(claim_import)

    with pytest.raises(OperationalError):
        engine.run_import(claim_import.pk)

    claim_import.refresh_from_db()
    assert claim_import.status == ClaimImport.Status.FAILED
    assert claim_import.failure_message == (
        "Rows 2–3 were imported; the import stopped at row 4 because of an error on our side. "
        "Upload the file again to import the rest: claims already imported are updated, not duplicated."
    )
    # The first batch is in; nothing of the second (not even row 4's rejection) is.
    assert sorted(Claim.objects.values_list("claim_number", flat=True)) == ["A-1", "A-2"]
    assert sorted(Patient.objects.values_list("last_name", flat=True)) == ["Chan", "Lopez"]
    assert ClaimEvent.objects.count() == 2
    assert not claim_import.row_errors.exists()
    counts = (claim_import.processed_rows, claim_import.imported_count, claim_import.rejected_count)
    assert counts == (2, 2, 0)


@pytest.mark.django_db
def test_it_names_no_rows_when_the_first_batch_fails(practice, owner, aetna):
    fail_database("claims_claim", "1 = 1")
    claim_import = engine.inspect_upload(
        practice=practice, user=owner, upload=csv_file("A-1,Maria Lopez,03/14/1980,09/01/2026,100,,,60054,,,\n")
    )
    engine.start(claim_import)

    with pytest.raises(OperationalError):
        engine.run_import(claim_import.pk)

    claim_import.refresh_from_db()
    assert claim_import.failure_message == (
        "The import stopped at row 2 because of an error on our side. Nothing was imported."
    )
    assert not Claim.objects.exists()
    assert not Patient.objects.exists()


@pytest.mark.django_db
def test_it_leaves_the_import_running_for_a_retry_and_carries_on_without_counting_twice(
    practice, owner, aetna, monkeypatch
):
    monkeypatch.setattr(engine, "BATCH_SIZE", 2)
    # Found by its claim, not its message: the message may be stored encrypted (billingpulse.encryption).
    fail_database(
        "claims_claimevent", "NEW.claim_id = (SELECT id FROM claims_claim WHERE claim_number = 'A-4')", times=1
    )
    upload = csv_file(
        "A-1,Maria Lopez,03/14/1980,09/01/2026,100,,,60054,,,\n"
        "A-2,Bo Chan,01/01/1990,09/01/2026,,,,60054,,,\n"
        "A-3,Ann Lee,02/02/1970,09/01/2026,100,,,60054,,,\n"
        "A-4,Joe Ray,03/03/1960,09/01/2026,100,,,60054,,,\n"
        "A-5,Eve Ng,04/04/1950,09/01/2026,100,,,60054,,,\n"
    )
    claim_import = engine.inspect_upload(practice=practice, user=owner, upload=upload)
    engine.start(claim_import)

    with pytest.raises(OperationalError):
        engine.run_import(claim_import.pk, can_retry=True)
    claim_import.refresh_from_db()
    # The biller still sees it importing, with the first batch counted.
    assert claim_import.status == ClaimImport.Status.RUNNING
    assert (claim_import.processed_rows, claim_import.imported_count, claim_import.rejected_count) == (2, 1, 1)

    again = engine.run_import(claim_import.pk, can_retry=True)

    assert (again.status, again.processed_rows, again.imported_count, again.rejected_count) == ("done", 5, 4, 1)
    assert Claim.objects.count() == 4
    assert ClaimEvent.objects.count() == 4
    assert list(again.row_errors.values_list("row_number", flat=True)) == [3]


@pytest.mark.django_db
def test_it_reads_decimal_comma_amounts_in_a_file_separated_by_semicolons(practice, owner, aetna):
    upload = SimpleUploadedFile(
        "export.csv",
        (
            b"Claim No;Patient;DOB;DOS;Amount;Payer ID\n"
            b"E-1;Maria Lopez;03/14/1980;09/01/2026;1.234,56;60054\n"
            b"E-2;Bo Chan;01/01/1990;09/02/2026;85,00;60054\n"
            b"E-3;Ann Lee;02/02/1970;09/03/2026;1,234;60054\n"
            b";;;;1.319,56;\n"
        ),
    )

    result = run(practice, owner, upload)

    # The last row is the file's total, skipped rather than reported.
    assert (result.status, result.imported_count, result.rejected_count) == ("done", 2, 1)
    amounts = dict(Claim.objects.values_list("claim_number", "total_charge"))
    assert amounts == {"E-1": Decimal("1234.56"), "E-2": Decimal("85.00")}
    error = result.row_errors.get()
    assert (error.row_number, error.column, error.value) == (4, "Amount", "1,234")
    assert error.message.startswith("1,234 could be read two ways.")


@pytest.mark.django_db
def test_it_keeps_commas_as_thousands_separators_in_a_comma_separated_file(practice, owner, aetna):
    result = run(
        practice,
        owner,
        csv_file(
            'C-1,Maria Lopez,03/14/1980,09/01/2026,"1,234.56",,,60054,,,\n'
            'C-2,Bo Chan,01/01/1990,09/02/2026,"85,00",,,60054,,,\n'
        ),
    )

    assert (result.imported_count, result.rejected_count) == (1, 1)
    assert Claim.objects.get().total_charge == Decimal("1234.56")
    assert result.row_errors.get().message == "85,00 is not an amount. Write it like 1250.00 or $1,250.00."
