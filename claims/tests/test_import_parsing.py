from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import islice
from pathlib import Path

import pytest
from openpyxl import Workbook

from claims.importing.errors import RowError
from claims.importing.headers import detect_header
from claims.importing.readers import open_table
from claims.importing.rows import ClaimRow, DuplicateTracker, RowParser, is_totals_row, parse_row

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples" / "claims"

HEADERS = ["Claim #", "Patient", "DOB", "DOS", "Balance", "Denial Code", "Denial", "Payer ID", "Member ID"]
MAPPING = detect_header([(1, HEADERS)]).mapping


def _parse(values: list, headers: list[str] = HEADERS, **kwargs) -> tuple[ClaimRow | None, list[RowError]]:
    mapping = detect_header([(1, headers)]).mapping
    return parse_row(7, values, mapping, headers, **kwargs)


def _messages(values: list, headers: list[str] = HEADERS, **kwargs) -> list[tuple[str, str, str]]:
    row, errors = _parse(values, headers, **kwargs)
    assert row is None
    return [(error.column, error.value, error.message) for error in errors]


GOOD = ["CLM-1", "LOPEZ, MARIA", "1980-05-01", "03/14/26", "$1,250.00", "co16", "Missing info", "00590", "w123 456"]


# --- one row


def test_it_parses_a_good_row():
    row, errors = _parse(GOOD)
    assert errors == []
    assert row == ClaimRow(
        row_number=7,
        claim_number="CLM-1",
        first_name="Maria",
        last_name="Lopez",
        dob=date(1980, 5, 1),
        date_of_service=date(2026, 3, 14),
        amount=Decimal("1250.00"),
        denial_code="CO-16",
        denial_reason="Missing info",
        payer_id="00590",
        member_id="W123456",
    )


def test_it_parses_every_optional_field():
    headers = [
        "Claim #",
        "First Name",
        "Last Name",
        "DOS From",
        "DOS To",
        "Charges",
        "Paid",
        "Payer",
        "Group #",
        "CPT",
        "Mod",
        "Units",
        "Dx",
        "POS",
        "Status",
        "NPI",
        "Account #",
        "Denial Code",
    ]
    values = [
        "CLM-2",
        "ANNA",
        "SMITH-JONES",
        "03/01/2026",
        "03/02/2026",
        "240",
        "(0.00)",
        "Aetna",
        "GRP-9",
        "99213-25",
        "59",
        "2",
        "E119, I10",
        "11",
        "In Process",
        "1234567893",
        "A-100",
        "CO-97: Bundled with another service",
    ]
    row, errors = _parse(values, headers)
    assert errors == []
    assert (row.first_name, row.last_name) == ("Anna", "Smith-Jones")
    assert (row.date_of_service, row.date_of_service_to) == (date(2026, 3, 1), date(2026, 3, 2))
    assert (row.amount, row.paid_amount) == (Decimal("240.00"), Decimal("0.00"))
    assert (row.payer_id, row.payer_name, row.group_number) == ("", "Aetna", "GRP-9")
    assert (row.cpt, row.modifiers, row.units) == ("99213", ["25", "59"], Decimal("2"))
    assert row.icd10 == ["E11.9", "I10"]
    assert (row.place_of_service, row.claim_status, row.provider_npi) == ("11", "in_process", "1234567893")
    assert row.account_number == "A-100"
    assert (row.denial_code, row.denial_reason) == ("CO-97", "Bundled with another service")
    assert row.dob is None


def test_it_parses_excel_cells():
    values = ["CLM-3", "Wei Kim", datetime(1975, 1, 28), datetime(2026, 3, 3), 4870.25, None, None, 60054, None]
    row, errors = _parse(values)
    assert errors == []
    assert row.dob == date(1975, 1, 28)
    assert row.amount == Decimal("4870.25")
    assert row.payer_id == "60054"


def test_it_reports_every_problem_in_a_row_under_the_file_column_names():
    values = ["CLM-1", "Maria", "13/45/1980", "abc", "-$40.00", "XX-999999", None, "600 54", None]
    assert _messages(values) == [
        ("Patient", "Maria", "Write the patient's first and last name."),
        ("DOB", "13/45/1980", "13/45/1980 is not a real date. Use MM/DD/YYYY."),
        ("DOS", "abc", "abc is not a date. Use MM/DD/YYYY."),
        ("Balance", "-$40.00", "Amount cannot be negative."),
        (
            "Denial Code",
            "XX-999999",
            "XX-999999 is not a denial code. Write a group and reason code like CO-16, "
            "or the reason code alone like 16.",
        ),
        ("Payer ID", "600 54", "600 54 is not a payer ID. A payer ID is letters and digits, like 60054."),
    ]


# A file with a charge, a paid amount and the balance still owed.
BALANCE_HEADERS = ["Claim #", "Patient", "DOS", "Charges", "Paid", "Balance"]


def test_it_reads_the_balance_beside_a_charge_as_the_opening_balance():
    row, errors = _parse(["CLM-1", "Maria Lopez", "03/14/26", "$100.00", "", "$35.50"], BALANCE_HEADERS)
    assert errors == []
    assert (row.amount, row.paid_amount, row.opening_balance) == (Decimal("100.00"), None, Decimal("35.50"))

    row, errors = _parse(["CLM-1", "Maria Lopez", "03/14/26", "$100.00", "", ""], BALANCE_HEADERS)
    assert (errors, row.opening_balance) == ([], None)


@pytest.mark.parametrize(
    ("paid", "balance", "message"),
    [
        ("", "-$5.00", "Balance cannot be negative."),
        ("", "(5.00)", "Balance cannot be negative."),
        ("", "$100.01", "The balance ($100.01) is more than the charge ($100.00)."),
        ("$40.00", "$60.01", "The balance ($60.01) is more than the charge less the paid amount ($60.00)."),
    ],
)
def test_it_refuses_a_balance_the_charge_cannot_leave(paid, balance, message):
    values = ["CLM-1", "Maria Lopez", "03/14/26", "$100.00", paid, balance]
    assert _messages(values, BALANCE_HEADERS) == [("Balance", balance, message)]


def test_it_accepts_a_balance_equal_to_the_charge_less_the_paid_amount():
    row, errors = _parse(["CLM-1", "Maria Lopez", "03/14/26", "$100.00", "$40.00", "$60.00"], BALANCE_HEADERS)
    assert errors == []
    assert row.opening_balance == Decimal("60.00")


@pytest.mark.parametrize(
    ("index", "column", "message"),
    [
        (0, "Claim #", "Claim number is missing."),
        (1, "Patient", "Patient name is missing."),
        (3, "DOS", "Date of service is missing."),
        (4, "Balance", "Amount is missing."),
    ],
)
def test_it_reports_a_missing_required_value(index, column, message):
    values = list(GOOD)
    values[index] = None
    assert _messages(values) == [(column, "", message)]


def test_it_treats_empty_text_as_missing():
    values = list(GOOD)
    values[0] = ""
    assert _messages(values) == [("Claim #", "", "Claim number is missing.")]


def test_it_reports_a_short_row_as_missing_its_last_values():
    assert _messages(GOOD[:4]) == [("Balance", "", "Amount is missing.")]


def test_it_names_a_missing_column_by_its_label():
    headers = ["Claim #", "Patient", "DOB"]
    assert _messages(["CLM-1", "Maria Lopez", "1980-05-01"], headers) == [
        ("Date of service", "", "Date of service is missing."),
        ("Amount", "", "Amount is missing."),
    ]


IN_RANGE = "Enter a date between 01/01/1900 and 12/31/2199."


@pytest.mark.parametrize(
    ("index", "value", "column", "message"),
    [
        (4, "12,34", "Balance", "12,34 is not an amount. Write it like 1250.00 or $1,250.00."),
        (4, "(40.00)", "Balance", "Amount cannot be negative."),
        (3, "13/45/2026", "DOS", "13/45/2026 is not a real date. Use MM/DD/YYYY."),
        (3, "1979-01-01", "DOS", "Date of service is before the date of birth."),
        (1, "Maria", "Patient", "Write the patient's first and last name."),
        (8, "W" * 41, "Member ID", f"{'W' * 41} is too long for a member ID (at most 40 characters)."),
        (0, "C" * 51, "Claim #", "Claim number is longer than 50 characters."),
        (3, "12/31/9999", "DOS", f"12/31/9999 is outside the dates we accept. {IN_RANGE}"),
        (2, "0001-01-01", "DOB", f"0001-01-01 is outside the dates we accept. {IN_RANGE}"),
        (1, "Maria " + "L" * 101, "Patient", "Patient last name is longer than 100 characters."),
    ],
)
def test_it_reports_each_kind_of_bad_value(index, value, column, message):
    values = list(GOOD)
    values[index] = value
    assert _messages(values) == [(column, value, message)]


def test_it_names_the_column_of_a_first_name_too_long_to_store():
    headers = ["Claim #", "First Name", "Last Name", "DOS", "Balance"]
    messages = _messages(["CLM-1", "M" * 101, "Lopez", "03/14/2026", "85"], headers)
    assert messages == [("First Name", "M" * 101, "Patient first name is longer than 100 characters.")]


def test_it_rejects_a_date_of_birth_in_the_future():
    values = list(GOOD)
    values[2] = (date.today() + timedelta(days=2)).isoformat()
    assert _messages(values)[0][2] == "Date of birth is in the future."


def test_it_rejects_a_service_end_before_its_start():
    headers = ["Claim #", "Patient", "DOS From", "DOS To", "Balance"]
    messages = _messages(["CLM-1", "Maria Lopez", "03/14/2026", "03/13/2026", "85"], headers)
    assert messages == [("DOS To", "03/13/2026", "Date of service (to) is before the date of service.")]


def test_it_rejects_bad_codes():
    headers = ["Claim #", "Patient", "DOS", "Balance", "CPT", "ICD-10", "Paid", "NPI"]
    values = ["CLM-1", "Maria Lopez", "03/14/2026", "85", "9921", "E11.9, XYZ", "-5", "1234567890"]
    assert [column for column, _value, _message in _messages(values, headers)] == ["CPT", "ICD-10", "Paid", "NPI"]


def test_it_takes_first_and_last_name_columns_over_a_full_name():
    headers = ["Claim #", "Patient", "First Name", "Last Name", "DOS", "Balance"]
    row, errors = _parse(["CLM-1", "M Lopez", "Maria", "O'BRIEN", "03/14/2026", "85"], headers)
    assert (row.first_name, row.last_name) == ("Maria", "O'Brien")
    row, errors = _parse(["CLM-1", "Maria Lopez", None, None, "03/14/2026", "85"], headers)
    assert (row.first_name, row.last_name) == ("Maria", "Lopez")


def test_it_reports_a_missing_first_or_last_name():
    headers = ["Claim #", "First Name", "Last Name", "DOS", "Balance"]
    assert _messages(["CLM-1", "Maria", None, "03/14/2026", "85"], headers) == [
        ("Last Name", "", "Patient last name is missing.")
    ]
    assert _messages(["CLM-1", None, None, "03/14/2026", "85"], headers) == [
        ("Last Name", "", "Patient name is missing.")
    ]


def test_it_requires_a_payer_only_when_asked():
    values = list(GOOD)
    values[7] = None
    row, errors = _parse(values)
    assert errors == []
    assert _messages(values, require_payer=True) == [("Payer ID", "", "Payer is missing.")]
    values[7] = "  "
    assert _messages(values, require_payer=True) == [("Payer ID", "", "Payer is missing.")]
    values[7] = "60054!"
    assert _messages(values, require_payer=True)[0][2].startswith("60054! is not a payer ID.")


def test_it_takes_mapping_keys_from_json():
    mapping = {str(index): name for index, name in MAPPING.items()}
    row, errors = parse_row(3, GOOD, mapping, HEADERS)
    assert errors == []
    assert row.row_number == 3


def test_it_parses_with_a_parser_built_once():
    parser = RowParser(MAPPING, HEADERS)
    rows = [parser.parse(number, GOOD)[0] for number in (2, 3)]
    assert [row.row_number for row in rows] == [2, 3]
    assert parser.column("amount") == "Balance"


# --- totals rows


@pytest.mark.parametrize(
    "values",
    [
        ["TOTAL", None, None, None, 133013.7],
        ["Totals", None, None, None, "$1,250.00"],
        ["Grand Total:", None, None, None, "1250"],
        ["Total (150 claims)"],
        [None, "Subtotal", None, None, 500],
        [None, "Sum", None, None, 500],
        [None, None, None, None, 133013.7],
        [None, None, None, None, "$133,013.70"],
    ],
)
def test_it_recognises_totals_rows(values):
    assert is_totals_row(values, MAPPING)


@pytest.mark.parametrize(
    "values",
    [
        GOOD,
        ["CLM-9", "Total Care", None, None, 50],
        [None, "Maria Lopez", "1980-05-01", "03/14/2026", "85"],
        [None, "Total Care Clinic", None, None, 50],
        [None, None, None, "03/14/2026", 85],
        [None, None, None, None, "n/a"],
    ],
)
def test_it_does_not_take_claims_for_totals(values):
    assert not is_totals_row(values, MAPPING)


# --- repeated claim numbers


def test_it_reports_a_claim_number_seen_before():
    tracker = DuplicateTracker("Claim #")
    first = ClaimRow(
        row_number=121, claim_number="CLM-1", first_name="A", last_name="B", date_of_service=date(2026, 1, 1), amount=1
    )
    again = ClaimRow(
        row_number=130, claim_number="clm-1", first_name="A", last_name="B", date_of_service=date(2026, 1, 1), amount=1
    )
    assert tracker.check(first) is None
    assert tracker.check(again) == RowError(
        130, "Claim #", "clm-1", "Claim number clm-1 appears again; first on row 121."
    )


# --- the sample exports


def _parse_file(path: Path) -> tuple[int, list[RowError], int, int, list[RowError]]:
    """(header row, parse errors, good rows, totals rows, repeats) for a whole file."""
    with path.open("rb") as handle, open_table(handle, path.name, 20 * 1024 * 1024) as table:
        match = detect_header(list(islice(table.rows(), 15)))
        parser = RowParser(match.mapping, match.headers)
        tracker = DuplicateTracker(match.column_name("claim_number"))
        errors, repeats, good, totals = [], [], 0, 0
        for number, values in table.rows():
            if number <= match.row_number:
                continue
            if parser.is_totals(values):
                totals += 1
                continue
            row, row_errors = parser.parse(number, values)
            errors += row_errors
            if row is not None:
                repeat = tracker.check(row)
                if repeat:
                    repeats.append(repeat)
                else:
                    good += 1
        return match, errors, good, totals, repeats


@pytest.fixture
def samples() -> Path:
    if not (SAMPLES / "claims-messy.csv").exists() or not (SAMPLES / "claims-export.xlsx").exists():
        pytest.skip("The sample claim files are not next to the repository.")
    return SAMPLES


def test_it_maps_the_sample_csv_header(samples):
    with (samples / "claims-messy.csv").open("rb") as handle:
        match = detect_header(list(islice(open_table(handle, "claims-messy.csv", 20 * 1024 * 1024).rows(), 15)))
    assert match.row_number == 1
    assert {match.headers[index]: field for index, field in match.mapping.items()} == {
        "Claim #": "claim_number",
        "Patient": "patient_name",
        "DOB": "patient_dob",
        "DOS": "date_of_service",
        "Balance": "amount",
        "Denial Code": "denial_code",
        "Denial": "denial_reason",
        "Payer ID": "payer_id",
        "Member ID": "member_id",
    }
    assert [match.headers[index] for index in match.unmapped] == ["note"]


def test_it_finds_exactly_the_bad_rows_of_the_sample_csv(samples):
    match, errors, good, totals, repeats = _parse_file(samples / "claims-messy.csv")
    # The file's "note" column marks five bad rows; the unknown payer ID (row 152) needs the
    # practice's payers, so it parses fine here.
    assert [(error.row, error.column, error.value, error.message) for error in errors] == [
        (19, "DOS", "13/45/2026", "13/45/2026 is not a real date. Use MM/DD/YYYY."),
        (43, "Claim #", "", "Claim number is missing."),
        (90, "Balance", "-$40.00", "Amount cannot be negative."),
    ]
    assert repeats == [
        RowError(122, "Claim #", "CLM-26-00120", "Claim number CLM-26-00120 appears again; first on row 121.")
    ]
    assert (good, totals) == (196, 0)


def test_it_reads_the_sample_xlsx_under_its_title_row(samples):
    match, errors, good, totals, repeats = _parse_file(samples / "claims-export.xlsx")
    assert match.row_number == 2
    assert match.mapping == {
        0: "claim_number",
        1: "patient_name",
        2: "patient_dob",
        3: "date_of_service",
        4: "amount",
        5: "denial_code",
        6: "denial_reason",
        7: "payer_name",
    }
    assert errors == []
    assert repeats == []
    assert (good, totals) == (150, 1)


# --- a whole small workbook, end to end


def test_it_parses_a_workbook_with_a_title_row_and_totals():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Denials by payer", None, "Printed 11/02/2026"])
    sheet.append([])
    sheet.append(["Claim No.", "Patient Name", "Service Date", "Charges", "Insurance", "CARC"])
    sheet.append(["A-1", "KIM, WEI", datetime(2026, 3, 3), 240, "Aetna", "CO-16"])
    sheet.append(["A-2", "Ana Lopez", 46095, 125.5, "Cigna", None])
    sheet.append(["A-3", "Ana Lopez", "13/45/2026", "abc", "Cigna", "PR1"])
    sheet.append(["Grand Total", None, None, 365.5])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)

    table = open_table(buffer, "denials.xlsx", 1024 * 1024)
    match = detect_header(list(islice(table.rows(), 15)))
    results = [
        (number, parse_row(number, values, match.mapping, match.headers))
        for number, values in table.rows()
        if number > match.row_number and not is_totals_row(values, match.mapping)
    ]

    assert match.row_number == 3
    assert [number for number, _result in results] == [4, 5, 6]
    first, second = results[0][1][0], results[1][1][0]
    assert (first.first_name, first.last_name, first.payer_name, first.denial_code) == ("Wei", "Kim", "Aetna", "CO-16")
    assert (second.date_of_service, second.amount) == (date(2026, 3, 14), Decimal("125.50"))
    assert [(error.row, error.column) for error in results[2][1][1]] == [(6, "Service Date"), (6, "Charges")]
