from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from claims.importing.values import (
    cell_text,
    normalize_claim_status,
    normalize_denial_code,
    normalize_payer_id,
    parse_cpt,
    parse_date,
    parse_icd10_list,
    parse_member_id,
    parse_modifiers,
    parse_money,
    parse_npi,
    parse_place_of_service,
    parse_units,
    split_denial_text,
    split_patient_name,
    split_procedure,
    validate_icd10_code,
    validate_procedure_code,
)

# --- dates


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("03/14/2026", date(2026, 3, 14)),
        ("3/4/2026", date(2026, 3, 4)),
        ("03/14/26", date(2026, 3, 14)),
        ("2026-03-14", date(2026, 3, 14)),
        ("2026/3/14", date(2026, 3, 14)),
        ("03-14-2026", date(2026, 3, 14)),
        ("03.14.2026", date(2026, 3, 14)),
        ("14-Mar-2026", date(2026, 3, 14)),
        ("14 MAR 26", date(2026, 3, 14)),
        ("Mar 14, 2026", date(2026, 3, 14)),
        ("March 14 2026", date(2026, 3, 14)),
        ("Sept. 3, 2026", date(2026, 9, 3)),
        ("20260314", date(2026, 3, 14)),
        ("2026-03-14 00:00:00", date(2026, 3, 14)),
        ("3/14/2026 9:30 AM", date(2026, 3, 14)),
        ("2026-03-14T10:00:00Z", date(2026, 3, 14)),
    ],
)
def test_it_parses_the_usual_date_forms(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("value", [46095, 46095.0, 46095.75, "46095", "46095.0"], ids=repr)
def test_it_reads_excel_serial_dates(value):
    assert parse_date(value) == date(2026, 3, 14)


def test_it_rejects_numbers_outside_the_excel_date_range():
    with pytest.raises(ValueError, match="^19999 is not a date. Use MM/DD/YYYY.$"):
        parse_date(19999)
    with pytest.raises(ValueError, match="is not a date"):
        parse_date("80001")


def test_it_takes_date_and_datetime_cells_as_they_are():
    assert parse_date(date(2026, 3, 14)) == date(2026, 3, 14)
    assert parse_date(datetime(2026, 3, 14, 15, 30)) == date(2026, 3, 14)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("11/29/25", date(2025, 11, 29)),
        ("01/02/27", date(2027, 1, 2)),
        ("01/02/28", date(1928, 1, 2)),
        ("05/12/40", date(1940, 5, 12)),
        ("07/04/99", date(1999, 7, 4)),
        ("07/04/00", date(2000, 7, 4)),
    ],
)
def test_it_pivots_two_digit_years_at_next_year(text, expected):
    assert parse_date(text, this_year=2026) == expected


@pytest.mark.parametrize("text", ["13/45/2026", "02/30/2026", "00/10/2026", "2026-02-29", "14/03/2026", "00/00/0000"])
def test_it_rejects_impossible_dates(text):
    with pytest.raises(ValueError) as error:
        parse_date(text)
    assert str(error.value) == f"{text} is not a real date. Use MM/DD/YYYY."


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("12/31/9999", "12/31/9999"),
        ("01/01/0001", "01/01/0001"),
        ("03/14/1850", "03/14/1850"),
        ("2200-01-01", "2200-01-01"),
        ("12319999", "12319999"),
        (date(9999, 12, 31), "12/31/9999"),
        (datetime(1899, 12, 25), "12/25/1899"),
    ],
    ids=repr,
)
def test_it_rejects_dates_outside_the_shared_range(value, shown):
    with pytest.raises(ValueError) as error:
        parse_date(value)
    assert str(error.value) == (
        f"{shown} is outside the dates we accept. Enter a date between 01/01/1900 and 12/31/2199."
    )


def test_it_accepts_the_ends_of_the_shared_range():
    assert parse_date("01/01/1900") == date(1900, 1, 1)
    assert parse_date("12/31/2199") == date(2199, 12, 31)
    assert parse_date(datetime(2199, 12, 31, 23, 59)) == date(2199, 12, 31)


@pytest.mark.parametrize("text", ["abc", "3rd", "Smarch 3, 2026", "2026", "3/14"])
def test_it_rejects_text_that_is_not_a_date(text):
    with pytest.raises(ValueError) as error:
        parse_date(text)
    assert str(error.value) == f"{text} is not a date. Use MM/DD/YYYY."


@pytest.mark.parametrize("value", [None, "", "   ", True])
def test_it_says_a_blank_date_is_missing(value):
    with pytest.raises(ValueError, match="missing"):
        parse_date(value)


# --- money


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("$1,250.00", "1250.00"),
        ("1250", "1250.00"),
        ("1,250.5", "1250.50"),
        ("$ 85", "85.00"),
        ("1,234,567.89", "1234567.89"),
        (".5", "0.50"),
        ("(40.00)", "-40.00"),
        ("($40.00)", "-40.00"),
        ("$(40.00)", "-40.00"),
        ("-$40.00", "-40.00"),
        ("$-40", "-40.00"),
        ("40.00-", "-40.00"),
        ("$ -", "0.00"),
        ("2.675", "2.68"),
        ("2.674", "2.67"),
        (85, "85.00"),
        (312.4, "312.40"),
        (4870.25, "4870.25"),
        (2.675, "2.68"),
        (0.1 + 0.2, "0.30"),
        (Decimal("12.5"), "12.50"),
    ],
    ids=repr,
)
def test_it_parses_money(value, expected):
    amount = parse_money(value)
    assert amount == Decimal(expected)
    assert str(amount) == expected


@pytest.mark.parametrize("text", ["abc", "1.2.3", "12,34", "1,2345.00", "$$40", "-(40)", "(40", "1e5", "40 USD", "N/A"])
def test_it_rejects_text_that_is_not_an_amount(text):
    with pytest.raises(ValueError) as error:
        parse_money(text)
    assert str(error.value) == f"{text} is not an amount. Write it like 1250.00 or $1,250.00."


@pytest.mark.parametrize(
    "value",
    ["$12,345,678,901.00", "9999999999.995", "-9999999999.999", 10**30, 1e300, Decimal("1E+999999")],
    ids=repr,
)
def test_it_rejects_amounts_too_large_to_store(value):
    # 12 digits, 2 after the point: 9,999,999,999.99 is the most a claim amount can hold,
    # also once rounded to cents.
    with pytest.raises(ValueError, match="too large"):
        parse_money(value)


def test_it_accepts_the_largest_amount_that_fits():
    assert parse_money("9999999999.994") == Decimal("9999999999.99")
    assert parse_money("-$9,999,999,999.99") == Decimal("-9999999999.99")


def test_it_says_not_a_number_is_not_an_amount():
    with pytest.raises(ValueError, match="is not an amount"):
        parse_money(float("nan"))


@pytest.mark.parametrize("value", [None, "", True])
def test_it_says_a_blank_amount_is_missing(value):
    with pytest.raises(ValueError, match="missing"):
        parse_money(value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("85,00", "85.00"),
        ("85,5", "85.50"),
        ("1.234,56", "1234.56"),
        ("$1.234,56", "1234.56"),
        ("1.234.567,89", "1234567.89"),
        ("1.234.567", "1234567.00"),
        ("-85,00", "-85.00"),
        ("(1.234,56)", "-1234.56"),
        ("85,00-", "-85.00"),
        (",50", "0.50"),
        # A file separated by semicolons may still write amounts the US way.
        ("1,234.56", "1234.56"),
        ("85.00", "85.00"),
        ("1,234,567", "1234567.00"),
        ("1250", "1250.00"),
    ],
)
def test_it_reads_decimal_commas_in_files_separated_by_semicolons(text, expected):
    assert parse_money(text, decimal_comma=True) == Decimal(expected)


@pytest.mark.parametrize("text", ["1,234", "1.234", "$12,500", "(1.234)"])
def test_it_refuses_to_guess_an_amount_that_reads_two_ways(text):
    # One separator and three digits after it: a thousands separator or a decimal separator?
    with pytest.raises(ValueError) as error:
        parse_money(text, decimal_comma=True)
    assert str(error.value).startswith(f"{text} could be read two ways.")


@pytest.mark.parametrize("text", ["12.34,56", "1.23,4", "85,00,00", "1,234,56", "abc"])
def test_it_rejects_decimal_comma_amounts_with_misplaced_separators(text):
    with pytest.raises(ValueError) as error:
        parse_money(text, decimal_comma=True)
    assert str(error.value) == f"{text} is not an amount. Write it like 1250,00 or 1.250,00."


@pytest.mark.parametrize(("text", "expected"), [("1,234.56", "1234.56"), ("1,234", "1234.00"), ("1.234", "1.23")])
def test_it_keeps_reading_commas_as_thousands_separators_in_other_files(text, expected):
    assert parse_money(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["85,00", "1.234,56"])
def test_it_does_not_take_a_comma_for_a_decimal_point_in_other_files(text):
    with pytest.raises(ValueError, match="is not an amount"):
        parse_money(text)


# --- names


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Maria Lopez", ("Maria", "Lopez")),
        ("  Maria   Lopez ", ("Maria", "Lopez")),
        ("LOPEZ, MARIA", ("Maria", "Lopez")),
        ("LOPEZ,MARIA", ("Maria", "Lopez")),
        ("Lopez, Maria A", ("Maria", "Lopez")),
        ("Lopez, Maria A.", ("Maria", "Lopez")),
        ("Maria A. Lopez", ("Maria", "Lopez")),
        ("Lopez, Mary Ann", ("Mary Ann", "Lopez")),
        ("O'BRIEN, SEAN", ("Sean", "O'Brien")),
        ("O\u2019Brien, Sean", ("Sean", "O'Brien")),
        ("MCDONALD, RONALD", ("Ronald", "McDonald")),
        ("SMITH-JONES, ANNA", ("Anna", "Smith-Jones")),
        ("anna smith-jones", ("Anna", "Smith-Jones")),
        ("McDonald, Ronald", ("Ronald", "McDonald")),
        ("LOPEZ, Maria", ("Maria", "Lopez")),
        ("maria DE LA CRUZ", ("Maria", "De La Cruz")),
        ("Maria de la Cruz", ("Maria", "de la Cruz")),
        ("Smith Jr, John", ("John", "Smith")),
        ("John Smith III", ("John", "Smith")),
        ("Wei Kim", ("Wei", "Kim")),
    ],
)
def test_it_splits_patient_names(value, expected):
    assert split_patient_name(value) == expected


@pytest.mark.parametrize("value", ["Maria", "Lopez,", ", Maria", "", None, "  "])
def test_it_asks_for_first_and_last_name(value):
    with pytest.raises(ValueError, match="^Write the patient's first and last name.$"):
        split_patient_name(value)


# --- denial codes


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("CO-16", "CO-16"),
        ("co16", "CO-16"),
        ("CO 16", "CO-16"),
        ("CO_16", "CO-16"),
        ("PR-1", "PR-1"),
        ("OA-23", "OA-23"),
        ("PI-45", "PI-45"),
        ("CR-18", "CR-18"),
        ("CO-A1", "CO-A1"),
        ("coa1", "CO-A1"),
        ("CO-197", "CO-197"),
        ("CO-016", "CO-16"),
        ("16", "16"),
        ("A1", "A1"),
        (16, "16"),
        (16.0, "16"),
    ],
    ids=repr,
)
def test_it_normalises_denial_codes(value, expected):
    assert normalize_denial_code(value) == expected


@pytest.mark.parametrize("text", ["XX-999999", "CO-1000", "CO", "N130", "MA130", "0", "CO-0", "Missing info", "AB1"])
def test_it_rejects_what_is_not_a_denial_code(text):
    with pytest.raises(ValueError) as error:
        normalize_denial_code(text)
    assert str(error.value).startswith(f"{text.upper()} is not a denial code. Write a group and reason code like CO-16")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("CO-16", ("CO-16", "")),
        ("CO-16: Claim lacks information", ("CO-16", "Claim lacks information")),
        ("co16 - Missing info", ("CO-16", "Missing info")),
        ("PR 1 Deductible amount", ("PR-1", "Deductible amount")),
        ("97 \u2013 Bundled", ("97", "Bundled")),
    ],
)
def test_it_separates_a_denial_description_written_after_the_code(value, expected):
    assert split_denial_text(value) == expected


def test_it_rejects_a_denial_description_without_a_code():
    with pytest.raises(ValueError, match="is not a denial code"):
        split_denial_text("Bundled with another service")


# --- ICD-10


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("E11.9", ["E11.9"]),
        ("e119", ["E11.9"]),
        ("I10", ["I10"]),
        ("E11.9, Z00.00", ["E11.9", "Z00.00"]),
        ("E11.9;Z0000|I10", ["E11.9", "Z00.00", "I10"]),
        ("E11.9  M54.5\nT81.4XXA", ["E11.9", "M54.5", "T81.4XXA"]),
        ("E119, E11.9", ["E11.9"]),
        ("", []),
    ],
)
def test_it_parses_diagnosis_code_lists(text, expected):
    assert parse_icd10_list(text) == expected


def test_it_names_the_bad_diagnosis_code():
    with pytest.raises(ValueError, match="^XYZ is not an ICD-10 code. Write codes like E11.9 or E119.$"):
        parse_icd10_list("E11.9, XYZ")


def test_it_names_every_bad_diagnosis_code():
    with pytest.raises(ValueError, match="^Q1, 12 and E1.19 are not ICD-10 codes"):
        parse_icd10_list("Q1 12 E11.9 E1.19")


def test_it_points_out_icd9_codes():
    with pytest.raises(ValueError, match="^250.00 looks like an ICD-9 code"):
        parse_icd10_list("250.00")


@pytest.mark.parametrize("code", ["E11.99999", "11.9", "EE1.9"])
def test_it_rejects_codes_outside_the_icd10_format(code):
    with pytest.raises(ValueError):
        validate_icd10_code(code)


def test_it_accepts_u_codes():
    assert validate_icd10_code("u071") == "U07.1"
    assert parse_icd10_list("U07.1, U09.9") == ["U07.1", "U09.9"]


def test_it_returns_the_normalised_icd10_code():
    assert validate_icd10_code(" z0000 ") == "Z00.00"


# --- procedures


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("99213", "99213"),
        (99213, "99213"),
        (99213.0, "99213"),
        ("0001f", "0001F"),
        ("0042T", "0042T"),
        ("j1100", "J1100"),
        ("G0008", "G0008"),
        (100, "00100"),
        ("1967", "01967"),
    ],
    ids=repr,
)
def test_it_parses_procedure_codes(value, expected):
    assert parse_cpt(value) == expected


@pytest.mark.parametrize("text", ["9921", "992135", "W1234", "J11", "ABCDE", "99", "Office visit"])
def test_it_rejects_what_is_not_a_procedure_code(text):
    with pytest.raises(ValueError, match="is not a CPT or HCPCS code. A code has five characters"):
        parse_cpt(text)


def test_it_validates_a_single_procedure_code():
    assert validate_procedure_code("e0114") == "E0114"
    with pytest.raises(ValueError):
        validate_procedure_code("X12")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("99213", ("99213", [])),
        ("99213-25", ("99213", ["25"])),
        ("99213 25 59", ("99213", ["25", "59"])),
        ("73030-rt", ("73030", ["RT"])),
    ],
)
def test_it_separates_modifiers_written_after_the_procedure(value, expected):
    assert split_procedure(value) == expected


def test_it_parses_modifiers():
    assert parse_modifiers("25, 59") == ["25", "59"]
    assert parse_modifiers("rt-lt") == ["RT", "LT"]
    assert parse_modifiers(25) == ["25"]
    with pytest.raises(ValueError, match="^5 is not a modifier"):
        parse_modifiers("5")
    with pytest.raises(ValueError, match="at most four"):
        parse_modifiers("25 59 RT LT XS")


# --- identifiers and small fields


def test_it_keeps_payer_id_leading_zeros_written_as_text():
    assert normalize_payer_id("00590") == "00590"
    assert normalize_payer_id(" sx107 ") == "SX107"


def test_it_cannot_recover_payer_id_zeros_excel_dropped():
    assert normalize_payer_id(590) == "590"
    assert normalize_payer_id(60054.0) == "60054"


@pytest.mark.parametrize("text", ["600 54", "60054!", "X" * 21])
def test_it_rejects_what_is_not_a_payer_id(text):
    with pytest.raises(ValueError, match="is not a payer ID"):
        normalize_payer_id(text)


def test_it_tidies_member_ids():
    assert parse_member_id(" w123 456 789 ") == "W123456789"
    assert parse_member_id(123456789) == "123456789"
    with pytest.raises(ValueError, match="too long"):
        parse_member_id("W" * 41)


def test_it_checks_npi_check_digits():
    assert parse_npi("1234567893") == "1234567893"
    assert parse_npi(1234567893) == "1234567893"
    with pytest.raises(ValueError, match="is not a valid NPI"):
        parse_npi("1234567890")
    with pytest.raises(ValueError, match="is not a valid NPI"):
        parse_npi("12345")


def test_it_pads_place_of_service_codes():
    assert parse_place_of_service(11) == "11"
    assert parse_place_of_service("2") == "02"
    with pytest.raises(ValueError, match="is not a place of service code"):
        parse_place_of_service("Office")


def test_it_parses_units():
    assert parse_units("1") == Decimal("1")
    assert parse_units(2.5) == Decimal("2.50")
    assert parse_units("99999.99") == Decimal("99999.99")
    with pytest.raises(ValueError, match="more than zero"):
        parse_units("0")
    # Stored with 2 decimal places: this would be 0 units.
    with pytest.raises(ValueError, match="more than zero"):
        parse_units("0.001")
    # 7 digits at most: this rounds up to 100000.00.
    with pytest.raises(ValueError, match="too many units"):
        parse_units("99999.999")
    with pytest.raises(ValueError, match="too many units"):
        parse_units("1" * 400)
    with pytest.raises(ValueError, match="is not a number of units"):
        parse_units("two")


def test_it_turns_claim_statuses_into_keys():
    assert normalize_claim_status("In Process") == "in_process"
    assert normalize_claim_status("DENIED") == "denied"
    assert normalize_claim_status("Pending information") == "pending_info"


def test_it_writes_cells_as_the_biller_reads_them():
    assert cell_text(None) == ""
    assert cell_text("  CLM-1 ") == "CLM-1"
    assert cell_text(590.0) == "590"
    assert cell_text(125.5) == "125.5"
    assert cell_text(datetime(2026, 3, 14)) == "03/14/2026"
    assert cell_text(date(2026, 3, 14)) == "03/14/2026"
