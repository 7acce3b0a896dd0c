from __future__ import annotations

from datetime import datetime

import pytest

from claims.importing.headers import (
    ALIASES,
    FIELDS,
    LABELS,
    HeaderMatch,
    column_notes,
    detect_header,
    match_header,
    normalize_header,
    validate_mapping,
)


@pytest.mark.parametrize(
    ("header", "field"),
    [
        # claim number, with every way of writing "number"
        ("Claim #", "claim_number"),
        ("Claim#", "claim_number"),
        ("CLAIM NO.", "claim_number"),
        ("claim_no", "claim_number"),
        ("ClaimNo", "claim_number"),
        ("Claim Number", "claim_number"),
        ("claim-number", "claim_number"),
        ("Claim Num", "claim_number"),
        ("Claim ID", "claim_number"),
        ("Claim", "claim_number"),
        # patient
        ("Patient", "patient_name"),
        ("Patient Name", "patient_name"),
        ("patient_name", "patient_name"),
        ("Patient Full Name", "patient_name"),
        ("NAME", "patient_name"),
        ("First Name", "patient_first_name"),
        ("Last Name", "patient_last_name"),
        ("DOB", "patient_dob"),
        ("D.O.B.", "patient_dob"),
        ("Date of Birth", "patient_dob"),
        ("Birth Date", "patient_dob"),
        ("PatientDOB", "patient_dob"),
        ("patient_dob", "patient_dob"),
        # dates of service
        ("DOS", "date_of_service"),
        ("Date of Service", "date_of_service"),
        ("date_of_service", "date_of_service"),
        ("Service Date", "date_of_service"),
        ("From Date", "date_of_service"),
        ("DOS From", "date_of_service"),
        ("DOS (From)", "date_of_service"),
        ("DOS To", "date_of_service_to"),
        ("Thru Date", "date_of_service_to"),
        # money
        ("Amount", "amount"),
        ("Amount ($)", "amount"),
        ("Balance", "amount"),
        ("Billed", "amount"),
        ("Charge", "amount"),
        ("Charges", "amount"),
        ("Total Charge", "amount"),
        ("Claim Amount", "amount"),
        ("Outstanding", "amount"),
        ("Paid", "paid_amount"),
        ("Paid Amount", "paid_amount"),
        # denials: a bare "code" is the denial code
        ("Denial Reason", "denial_reason"),
        ("Denial", "denial_reason"),
        ("Reason", "denial_reason"),
        ("Denial Description", "denial_reason"),
        ("Denial Code", "denial_code"),
        ("Code", "denial_code"),
        ("CARC", "denial_code"),
        ("Adjustment Code", "denial_code"),
        ("Reason Code", "denial_code"),
        # payer
        ("Payer ID", "payer_id"),
        ("PayerID", "payer_id"),
        ("payer_id", "payer_id"),
        ("Payer Number", "payer_id"),
        ("Payer #", "payer_id"),
        ("Primary Payer ID", "payer_id"),
        ("Payer", "payer_name"),
        ("payer_name", "payer_name"),
        ("Insurance", "payer_name"),
        ("Carrier", "payer_name"),
        ("Plan", "payer_name"),
        ("Primary Insurance", "payer_name"),
        ("Member ID", "member_id"),
        ("Member", "member_id"),
        ("Subscriber ID", "member_id"),
        ("Policy Number", "member_id"),
        ("Policy #", "member_id"),
        ("Insured ID", "member_id"),
        ("Group #", "group_number"),
        # procedures and diagnoses
        ("CPT", "cpt"),
        ("CPT Code", "cpt"),
        ("Procedure", "cpt"),
        ("Procedure Code", "cpt"),
        ("HCPCS", "cpt"),
        ("CPT/HCPCS", "cpt"),
        ("Modifier", "modifiers"),
        ("Modifier 1", "modifiers"),
        ("Units", "units"),
        ("ICD10", "icd10"),
        ("ICD-10", "icd10"),
        ("Diagnosis", "icd10"),
        ("Dx", "icd10"),
        ("Diagnosis Codes", "icd10"),
        ("POS", "place_of_service"),
        ("Status", "claim_status"),
        ("NPI", "provider_npi"),
        ("Account #", "account_number"),
        ("MRN", "account_number"),
    ],
)
def test_it_recognises_column_names(header, field):
    assert match_header(header) == field


@pytest.mark.parametrize("header", ["note", "Notes", "ICN", "Date", "Description", "Modifier 2", "#", "", "   "])
def test_it_leaves_unknown_column_names_unmapped(header):
    assert match_header(header) is None


def test_it_normalises_header_text():
    assert normalize_header("Claim #") == "claimnumber"
    assert normalize_header("  DOS (From) ") == "dosfrom"
    assert normalize_header("ClaimNo") == "claimnumber"
    assert normalize_header("ICD-10") == "icd10"


def test_it_matches_every_field_by_its_own_name_and_label():
    for name, label, _required in FIELDS:
        assert match_header(name) == name
        assert match_header(label) == name
    for name, aliases in ALIASES.items():
        for alias in aliases:
            assert match_header(alias) == name, alias


def test_it_lists_fields_for_a_mapping_form():
    names = [name for name, _label, _required in FIELDS]
    assert names[:2] == ["claim_number", "patient_name"]
    required = {name for name, _label, required in FIELDS if required}
    assert required == {"claim_number", "patient_name", "date_of_service", "amount"}
    assert LABELS["icd10"] == "Diagnosis codes (ICD-10)"
    assert LABELS["cpt"] == "CPT/HCPCS"


# --- finding the header row


def test_it_finds_the_header_on_the_first_row():
    match = detect_header([(1, ["Claim #", "Patient", "DOB", "DOS", "Balance", "note"]), (2, ["CLM-1", "Ana Kim"])])
    assert match == HeaderMatch(
        row_number=1,
        headers=["Claim #", "Patient", "DOB", "DOS", "Balance", "note"],
        mapping={0: "claim_number", 1: "patient_name", 2: "patient_dob", 3: "date_of_service", 4: "amount"},
        unmapped=[5],
    )


def test_it_skips_title_rows_above_the_header():
    rows = [
        (1, ["Practice AR export", None, None, "Run 2026-11-02"]),
        (2, ["Denials for October"]),
        (4, ["claim_no", "patient_name", "date_of_service", "amount", "payer"]),
        (5, ["X26-1", "Ana Kim", datetime(2026, 3, 3), 240, "Aetna"]),
    ]
    match = detect_header(rows)
    assert match is not None
    assert match.row_number == 4
    assert match.mapping == {0: "claim_number", 1: "patient_name", 2: "date_of_service", 3: "amount", 4: "payer_name"}


def test_it_picks_the_row_naming_the_most_fields():
    rows = [
        (1, ["Claim", "Patient"]),
        (2, ["Claim #", "Patient", "DOS", "Amount"]),
    ]
    assert detect_header(rows).row_number == 2


def test_it_needs_a_claim_number_or_patient_column_in_the_header():
    assert detect_header([(1, ["DOS", "Amount", "Payer", "Denial Code"])]) is None


def test_it_needs_two_known_columns_in_the_header():
    assert detect_header([(1, ["Claim #", "Foo", "Bar"])]) is None


def test_it_gives_up_when_no_row_looks_like_a_header():
    assert detect_header([(1, ["CLM-1", "Ana Kim", "240.00"]), (2, ["CLM-2", "Wei Kim", "85.00"])]) is None
    assert detect_header([]) is None


def test_it_only_looks_at_the_first_fifteen_rows():
    rows = [(n, [f"Line {n}"]) for n in range(1, 16)] + [(16, ["Claim #", "Patient", "DOS", "Amount"])]
    assert detect_header(rows) is None


def test_it_maps_a_field_to_its_first_column_only():
    match = detect_header([(1, ["Claim #", "Claim ID", "Patient", "Charges", "Billed"])])
    assert match.mapping == {0: "claim_number", 2: "patient_name", 3: "amount"}
    assert match.unmapped == [1, 4]


@pytest.mark.parametrize(
    ("balance", "charge"),
    [
        ("Balance", "Charges"),
        ("Balance Due", "Charge"),
        ("Outstanding", "Billed Amount"),
        ("Amount Due", "Total Charges"),
        ("Outstanding Balance", "Amount"),
    ],
)
def test_it_takes_the_charge_as_the_amount_and_the_balance_as_the_opening_balance(balance, charge):
    # The balance is what is still owed after payments; the claim's amount is what was billed.
    for headers, charge_index, balance_index in (
        (["Claim #", "Patient", balance, charge], 3, 2),
        (["Claim #", "Patient", charge, balance], 2, 3),
    ):
        match = detect_header([(1, headers)])
        assert match.mapping == {
            0: "claim_number",
            1: "patient_name",
            charge_index: "amount",
            balance_index: "opening_balance",
        }
        assert match.unmapped == []


def test_it_takes_only_the_first_balance_column_beside_a_charge():
    match = detect_header([(1, ["Claim #", "Patient", "Charges", "Balance", "Ins Balance"])])
    assert match.mapping == {0: "claim_number", 1: "patient_name", 2: "amount", 3: "opening_balance"}
    assert match.unmapped == [4]


def test_it_explains_that_a_balance_column_becomes_the_opening_balance():
    headers = ["Claim #", "Patient", "Balance Due", "Charges", "Note"]

    notes = column_notes(headers, {0: "claim_number", 1: "patient_name", 2: "opening_balance", 3: "amount"})

    assert notes == {
        2: "This looks like the balance still owed. It becomes the claim's opening balance: the part of "
        "Charges it leaves out is posted to the ledger as paid or adjusted before the import."
    }


def test_it_explains_why_a_balance_column_set_aside_is_not_imported():
    headers = ["Claim #", "Patient", "Balance Due", "Charges", "Balance"]

    ignored = column_notes(headers, {0: "claim_number", 1: "patient_name", 3: "amount"})
    second = column_notes(headers, {0: "claim_number", 1: "patient_name", 2: "opening_balance", 3: "amount"})

    assert ignored == {
        2: "This looks like the balance still owed. It is not imported; choose Opening balance to start "
        "each claim with it.",
        4: "This looks like the balance still owed. It is not imported; choose Opening balance to start "
        "each claim with it.",
    }
    assert second[4] == (
        "This looks like the balance still owed. It is not imported: the opening balance comes from Balance Due."
    )


def test_it_has_nothing_to_say_about_a_balance_column_used_as_the_amount():
    headers = ["Claim #", "Patient", "Balance", "Charges"]

    assert column_notes(headers, {0: "claim_number", 1: "patient_name", 2: "amount"}) == {}
    assert column_notes(headers, {0: "claim_number", 1: "patient_name"}) == {}


def test_it_does_not_take_numbers_or_dates_as_column_names():
    match = detect_header([(1, ["Claim #", "Patient", 2026, datetime(2026, 1, 1), None, "DOS"])])
    assert match.mapping == {0: "claim_number", 1: "patient_name", 5: "date_of_service"}
    assert match.unmapped == [2, 3]
    assert match.headers == ["Claim #", "Patient", "2026", "01/01/2026", "", "DOS"]


def test_it_names_columns_as_the_file_does():
    match = detect_header([(1, ["Claim #", "Patient", "DOS", "Balance"])])
    assert match.column_name("amount") == "Balance"
    assert match.column_name("patient_dob") == "Patient date of birth"


# --- checking a mapping

COMPLETE = {0: "claim_number", 1: "patient_name", 2: "date_of_service", 3: "amount", 4: "payer_id"}


def test_it_accepts_a_complete_mapping():
    assert validate_mapping(COMPLETE, has_default_payer=False) == []


def test_it_accepts_mapping_keys_from_json():
    assert validate_mapping({str(index): name for index, name in COMPLETE.items()}, has_default_payer=False) == []


def test_it_accepts_first_and_last_name_columns_instead_of_a_name():
    mapping = {**COMPLETE, 1: "patient_first_name", 5: "patient_last_name"}
    assert validate_mapping(mapping, has_default_payer=False) == []


@pytest.mark.parametrize(
    ("field", "problem"),
    [
        ("claim_number", "Choose the column with the claim number."),
        ("patient_name", "Choose the column with the patient name, or the columns with the first and last name."),
        ("date_of_service", "Choose the column with the date of service."),
        ("amount", "Choose the column with the amount."),
        ("payer_id", "Choose the column with the payer or payer ID, or pick one payer for the whole file."),
    ],
)
def test_it_reports_each_missing_column(field, problem):
    mapping = {index: name for index, name in COMPLETE.items() if name != field}
    assert validate_mapping(mapping, has_default_payer=False) == [problem]


def test_it_needs_both_first_and_last_name_columns():
    mapping = {**COMPLETE, 1: "patient_first_name"}
    assert validate_mapping(mapping, has_default_payer=False) == [
        "Choose the column with the patient name, or the columns with the first and last name."
    ]


def test_it_lets_a_default_payer_stand_in_for_the_payer_column():
    mapping = {index: name for index, name in COMPLETE.items() if name != "payer_id"}
    assert validate_mapping(mapping, has_default_payer=True) == []
    assert validate_mapping({**mapping, 4: "payer_name"}, has_default_payer=False) == []


def test_it_does_not_require_a_date_of_birth():
    assert "patient_dob" not in COMPLETE.values()
    assert validate_mapping(COMPLETE, has_default_payer=False) == []


def test_it_reports_unknown_fields():
    assert validate_mapping({**COMPLETE, 5: "favourite_colour"}, has_default_payer=False) == [
        "favourite_colour is not a field we know."
    ]


def test_it_reports_everything_missing_from_an_empty_mapping():
    assert len(validate_mapping({}, has_default_payer=False)) == 5
