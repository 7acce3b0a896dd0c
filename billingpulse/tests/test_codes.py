from __future__ import annotations

from datetime import date

import pytest
from django.db import connection

from billingpulse import codes
from billingpulse.codes import Status
from billingpulse.tests.icd10 import load_cdc_2027, load_codes

ON_POSTGRESQL = connection.vendor == "postgresql"


@pytest.fixture
def icd10(db):
    load_codes()


def _starts_words(text: str, terms: list[str]) -> bool:
    """Whether every term starts some word of ``text``."""
    return all(any(word.startswith(term) for word in codes.words(text)) for term in terms)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("e119", "E11.9"),
        (" E11.9 ", "E11.9"),
        ("E11.", "E11"),
        ("e11", "E11"),
        ("s72001a", "S72.001A"),
        ("u071", "U07.1"),
        ("E1.19", "E1.19"),  # not a code: kept as typed, so that an error names it
        ("99213", "99213"),
        ("", ""),
    ],
)
def test_it_normalises_codes(typed, expected):
    assert codes.normalize(typed) == expected


@pytest.mark.parametrize(
    ("code", "ok"), [("U07.1", True), ("E11.9", True), ("I10", True), ("E1.19", False), ("11.9", False)]
)
def test_it_knows_the_shape_of_a_code(code, ok):
    assert codes.has_code_format(code) is ok


# --- search (runs on SQLite and, with DATABASE_URL, on PostgreSQL with its indexes)


def test_it_finds_codes_by_prefix_in_code_order(icd10, django_assert_num_queries):
    with django_assert_num_queries(1):
        found = codes.search("e11.6")

    assert [c.code for c in found[:4]] == ["E11.6", "E11.61", "E11.610", "E11.618"]
    assert all(c.code.startswith("E11.6") for c in found)


def test_it_finds_codes_by_prefix_typed_without_the_dot(icd10):
    assert [c.code for c in codes.search("e119")] == ["E11.9"]


def test_it_takes_a_single_letter_as_a_code_prefix(icd10):
    assert {c.code[0] for c in codes.search("u")} == {"U"}


def test_it_finds_codes_by_word_prefixes_categories_first(icd10, django_assert_num_queries):
    with django_assert_num_queries(1):
        found = codes.search("type 2 diab")

    found_codes = [c.code for c in found]
    assert found_codes[0] == "E11"
    assert "E11.9" in found_codes
    assert all(_starts_words(c.description, ["type", "2", "diab"]) for c in found)
    assert found[0].release == "FY2026 (April 1, 2026)"
    assert (
        found[0].attribution == "ICD-10-CM, National Center for Health Statistics/CDC, FY2026 (April 1, 2026) release"
    )


def test_it_matches_the_start_of_words_only(icd10):
    assert [c.code for c in codes.search("covid")][:2] == ["U09", "U07.1"]
    assert codes.search("ovid") == []


def test_it_needs_every_word(icd10):
    assert [c.code for c in codes.search("hypertension essential")] == ["I10"]
    assert codes.search("hypertension femur") == []


def test_it_limits_the_results(icd10):
    assert len(codes.search("diab", limit=3)) == 3


@pytest.mark.parametrize("query", ["", "   ", "--", "()"])
def test_it_finds_nothing_for_an_empty_query(icd10, query, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert codes.search(query) == []


def test_it_finds_nothing_without_a_code_set(db):
    assert codes.search("diab") == []


def test_it_searches_the_code_set_in_effect(icd10):
    load_cdc_2027()

    # FY2027's sample has no E11.A (the package's FY2026 has); today and later use FY2027.
    assert [c.code for c in codes.search("e11", on=date(2026, 12, 1))] == ["E11", "E11.9"]
    assert "E11.A" in [c.code for c in codes.search("e11", on=date(2026, 3, 1), limit=200)]


@pytest.mark.skipif(not ON_POSTGRESQL, reason="the search indexes exist on PostgreSQL only")
def test_it_has_the_search_indexes_on_postgresql(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'billingpulse_diagnosiscode'")
        names = {row[0] for row in cursor.fetchall()}
        cursor.execute(
            "SELECT collation_name FROM information_schema.columns "
            "WHERE table_name = 'billingpulse_diagnosiscode' AND column_name = 'code'"
        )
        collation = cursor.fetchone()[0]

    assert {"diagnosis_code_search_trgm", "diagnosis_code_picker_order", "diagnosis_code_unique_per_set"} <= names
    assert collation == "C"


# --- checking codes


def test_it_tells_billable_header_and_unknown_codes_apart(icd10, django_assert_num_queries):
    with django_assert_num_queries(2):
        results = codes.check(["E11.9", "E11", "S72.001", "E11.99", "u071"])

    assert results["E11.9"] == codes.CodeCheck(
        "E11.9", Status.BILLABLE, "Type 2 diabetes mellitus without complications"
    )
    assert results["E11"].status == Status.HEADER
    assert results["E11"].message == "E11 is a category, not a billable code; pick a billable code such as E11.9."
    assert results["S72.001"].message == (
        "S72.001 needs more characters to be billable; pick a billable code such as S72.001A."
    )
    assert results["E11.99"].status == Status.UNKNOWN
    assert results["E11.99"].message == (
        "E11.99 is not an ICD-10-CM code (checked against the FY2026 code set). Check it for a typo."
    )
    assert results["u071"].status == Status.BILLABLE and results["u071"].ok
    assert [r.ok for r in results.values()] == [True, False, False, False, True]


def test_it_only_checks_the_shape_without_a_code_set(db):
    results = codes.check(["E11.99", "U07.1", "11.9"])

    assert [r.status for r in results.values()] == [Status.UNCHECKED, Status.UNCHECKED, Status.INVALID]
    assert results["E11.99"].ok
    assert not codes.is_billable("U07.1")


def test_it_asks_nothing_for_no_codes(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert codes.check([]) == {}


def test_it_answers_is_billable(icd10):
    assert codes.is_billable("E11.9")
    assert not codes.is_billable("E11")
    assert not codes.is_billable("E11.99")


def test_it_checks_against_the_code_set_for_the_date_of_service(icd10):
    load_cdc_2027()

    assert codes.check(["E11.A"], on=date(2026, 3, 1))["E11.A"].status == Status.BILLABLE
    assert codes.check(["E11.A"], on=date(2026, 10, 1))["E11.A"].message == (
        "E11.A is not an ICD-10-CM code (checked against the FY2027 code set). Check it for a typo."
    )


def test_it_checks_a_date_no_set_covers_against_the_newest(icd10):
    # The FY2027 gap: until FY2027 is loaded, later dates of service use FY2026.
    assert codes.code_set_for(date(2026, 12, 5)).version == "FY2026"
    assert codes.check(["E11.9"], on=date(2026, 12, 5))["E11.9"].ok


def test_it_lists_problems_for_the_biller(icd10):
    assert codes.problems(["E11.9", "E11"]) == [
        "E11 is a category, not a billable code; pick a billable code such as E11.9."
    ]
