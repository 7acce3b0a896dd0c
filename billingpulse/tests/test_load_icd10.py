from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from billingpulse.management.commands import load_icd10
from billingpulse.models import DiagnosisCode, DiagnosisCodeSet
from billingpulse.tests.icd10 import CDC_2027, load_cdc_2027, load_codes

pytestmark = pytest.mark.django_db

ATTRIBUTION = "ICD-10-CM, National Center for Health Statistics/CDC, FY2026 (April 1, 2026) release"


def test_it_loads_the_whole_code_set_of_the_package():
    out = StringIO()
    call_command("load_icd10", stdout=out)

    code_set = DiagnosisCodeSet.objects.get()
    assert (code_set.version, code_set.release) == ("FY2026", "FY2026 (April 1, 2026)")
    assert (code_set.valid_from, code_set.valid_to) == (date(2025, 10, 1), date(2026, 9, 30))
    assert code_set.source == "simple-icd-10-cm 1.5.0"
    # Categories and subcategories; chapters and blocks (E08-E13) are not codes.
    assert DiagnosisCode.objects.count() == code_set.code_count == 98_186
    assert DiagnosisCode.objects.filter(billable=True).count() == code_set.billable_count == 74_719
    assert not DiagnosisCode.objects.filter(code="E08-E13").exists()
    assert code_set.attribution == ATTRIBUTION
    assert "Loaded ICD-10-CM FY2026 (April 1, 2026): 98,186 codes, 74,719 billable" in out.getvalue()
    assert ATTRIBUTION in out.getvalue()


def test_it_stores_code_title_parent_and_billable_flag():
    load_codes("E11,U07,S72.001")

    rows = {c.code: c for c in DiagnosisCode.objects.all()}
    assert (rows["E11.9"].description, rows["E11.9"].billable, rows["E11.9"].parent) == (
        "Type 2 diabetes mellitus without complications",
        True,
        "E11",
    )
    assert (rows["E11"].billable, rows["E11"].parent, rows["E11"].billable_example) == (False, "E08-E13", "E11.9")
    assert (rows["S72.001"].billable, rows["S72.001"].billable_example) == (False, "S72.001A")
    assert rows["U07.1"].billable and rows["U07.1"].description == "COVID-19"
    assert rows["E11.9"].search_text == " type 2 diabetes mellitus without complications"


def test_it_replaces_the_same_version_when_run_again():
    load_codes("E11,U07")
    first = DiagnosisCode.objects.count()

    printed = load_codes("E11,U07")

    assert DiagnosisCodeSet.objects.count() == 1
    assert DiagnosisCode.objects.count() == first
    assert DiagnosisCode.objects.filter(code="E11.9").count() == 1
    assert f"replaced the {first:,} codes loaded before" in printed


def test_it_skips_the_package_set_when_asked_and_it_is_loaded():
    call_command("load_icd10", stdout=StringIO())
    out = StringIO()

    call_command("load_icd10", "--skip-if-loaded", stdout=out)

    assert "already loaded (98,186 codes); nothing to do" in out.getvalue()


def test_it_loads_cdc_files_as_their_own_fiscal_year_beside_the_package_set():
    load_codes("E11,U07")

    printed = load_cdc_2027()

    fy2027 = DiagnosisCodeSet.objects.get(version="FY2027")
    assert (fy2027.valid_from, fy2027.valid_to, fy2027.release) == (date(2026, 10, 1), date(2027, 9, 30), "FY2027")
    assert fy2027.source == "CDC files icd10cm-codes-2027.txt"
    assert sorted(fy2027.codes.values_list("code", "billable")) == [
        ("E11", False),
        ("E11.9", True),
        ("I10", True),
        ("U07", False),
        ("U07.1", True),
    ]
    assert DiagnosisCodeSet.objects.get(version="FY2026").codes.filter(code="E11.A").exists()
    assert "Loaded ICD-10-CM FY2027: 5 codes, 3 billable" in printed


def test_it_goes_back_to_the_package_data_after_cdc_files():
    load_cdc_2027()

    load_codes("E11")

    assert DiagnosisCodeSet.objects.get(version="FY2026").codes.filter(code="E11.A").exists()


def test_it_names_a_bad_directory(tmp_path):
    with pytest.raises(CommandError, match="is not a directory"):
        call_command("load_icd10", "--from-cdc-files", str(tmp_path / "missing"), stdout=StringIO())
    with pytest.raises(CommandError, match=r"must hold exactly one each of icd10cm-codes-YYYY\.txt"):
        call_command("load_icd10", "--from-cdc-files", str(tmp_path), stdout=StringIO())
    assert not DiagnosisCodeSet.objects.exists()


def test_it_names_files_it_cannot_read(tmp_path):
    (tmp_path / "icd10cm-codes-2027.txt").write_text("E119    Type 2 diabetes mellitus without complications\n")
    (tmp_path / "icd10cm-tabular-2027.xml").write_text("<ICD10CM.tabular><version>2027")

    with pytest.raises(CommandError, match="Could not read the CDC files"):
        call_command("load_icd10", "--from-cdc-files", str(tmp_path), stdout=StringIO())
    assert not DiagnosisCodeSet.objects.exists()


def test_it_asks_for_the_fiscal_year_when_the_names_do_not_say_it(tmp_path):
    for source in CDC_2027.iterdir():
        (tmp_path / source.name.replace("2027", "latest")).write_bytes(source.read_bytes())

    with pytest.raises(CommandError, match="give it with --fiscal-year"):
        call_command("load_icd10", "--from-cdc-files", str(tmp_path), stdout=StringIO())
    call_command("load_icd10", "--from-cdc-files", str(tmp_path), "--fiscal-year", "2027", stdout=StringIO())
    assert DiagnosisCodeSet.objects.get().version == "FY2027"


def test_it_refuses_prefixes_that_match_nothing():
    with pytest.raises(CommandError, match="no ICD-10-CM codes starting with QQ"):
        call_command("load_icd10", "--only", "QQ", stdout=StringIO())


def test_it_reads_the_release_from_a_file_name():
    release = load_icd10._release_from_name("icd10c-tabular-April-1-2026.xml", "package", None)

    assert (release.version, release.release, release.valid_from) == (
        "FY2026",
        "FY2026 (April 1, 2026)",
        date(2025, 10, 1),
    )
    assert load_icd10._release_from_name("icd10cm-codes-2027.txt", "cdc", None).release == "FY2027"
    assert load_icd10._release_from_name("codes.txt", "cdc", None) is None
