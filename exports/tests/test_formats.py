from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from exports.formats import Sheet, csv_chunks, neutralise, sheet_title, write_xlsx
from reports.tables import Column

COLUMNS = [Column("name", "Name"), Column("served", "Served", "date"), Column("amount", "Amount", "money")]
DANGEROUS = ['=HYPERLINK("http://x")', "+1+2", "-2+3", "@SUM(A1)", "\tcmd", "\r=1"]


@pytest.mark.parametrize("text", DANGEROUS)
def test_it_neutralises_text_that_a_spreadsheet_would_run(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", [Decimal("-12.50"), -7, date(2026, 1, 2), None, "Lopez, Maria", "-12.50"])
def test_it_leaves_numbers_dates_and_plain_text_alone(value):
    assert neutralise(value) == value


def test_it_writes_csv_with_a_bom_iso_dates_and_plain_decimals():
    rows = [("=cmd|' /C calc'!A0", date(2026, 12, 7), Decimal("-12.50")), ("Ann", None, Decimal("1234.5"))]

    text = b"".join(csv_chunks([Sheet("Claims", COLUMNS, rows)])).decode("utf-8")

    assert text.startswith("\ufeffName,Served,Amount")
    parsed = list(csv.reader(io.StringIO(text[1:])))
    assert parsed[1] == ["'=cmd|' /C calc'!A0", "2026-12-07", "-12.50"]
    assert parsed[2] == ["Ann", "", "1234.5"]


def test_it_writes_several_sheets_into_one_csv_under_their_titles():
    sheets = [Sheet("By code", COLUMNS, [("CO-16", None, Decimal("1"))]), Sheet("By payer", COLUMNS, [])]

    parsed = list(csv.reader(io.StringIO(b"".join(csv_chunks(sheets)).decode("utf-8")[1:])))

    assert parsed == [
        ["By code"],
        ["Name", "Served", "Amount"],
        ["CO-16", "", "1"],
        [],
        ["By payer"],
        ["Name", "Served", "Amount"],
    ]


def test_it_writes_xlsx_with_numbers_as_numbers_dates_as_dates_and_formulas_inert():
    rows = [("@SUM(A1:A9)", date(2026, 12, 7), Decimal("-12.50")), ("=1+1", None, Decimal("99.99"))]
    out = io.BytesIO()

    write_xlsx([Sheet("Claims", COLUMNS, rows)], out)

    sheet = load_workbook(io.BytesIO(out.getvalue()))["Claims"]
    assert [cell.value for cell in sheet[1]] == ["Name", "Served", "Amount"]
    name, served, amount = sheet[2]
    assert (name.value, name.data_type) == ("'@SUM(A1:A9)", "s")
    assert served.value == datetime(2026, 12, 7) and served.is_date
    assert amount.value == -12.5 and amount.data_type == "n" and amount.number_format == "#,##0.00"
    assert (sheet["A3"].value, sheet["A3"].data_type) == ("'=1+1", "s")
    assert sheet["B3"].value is None


def test_it_writes_times_in_the_practices_wall_clock():
    when = datetime(2026, 12, 7, 15, 30, tzinfo=UTC)
    out = io.BytesIO()

    write_xlsx([Sheet("Calls", [Column("at", "At", "datetime")], [(when,)])], out)

    assert load_workbook(out)["Calls"]["A2"].value == datetime(2026, 12, 7, 15, 30)


def test_it_names_sheets_as_excel_allows():
    taken: set[str] = set()
    assert (
        sheet_title("Calls: why [they] failed / by reason and more words", taken) == "Calls  why  they  failed   by r"
    )
    assert sheet_title("By payer", taken) == "By payer"
    assert sheet_title("By payer", taken) == "By payer (2)"
    assert len(sheet_title("x" * 40, taken)) == 31


def test_it_reports_progress_as_it_writes():
    seen: list[int] = []
    rows = [("a", None, Decimal("1"))] * 4500

    write_xlsx([Sheet("Claims", COLUMNS, rows)], io.BytesIO(), seen.append)

    assert seen == [2000, 4000, 4500]
