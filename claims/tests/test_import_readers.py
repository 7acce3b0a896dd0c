from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from claims.importing.errors import ImportFileError
from claims.importing.readers import open_table

MB = 1024 * 1024
HEADER = "Claim #,Patient,DOS,Balance\r\n"


def _csv(text: str, encoding: str = "utf-8") -> io.BytesIO:
    return io.BytesIO(text.encode(encoding))


def _xlsx(*rows: list, title: str = "Claims", extra_sheet: bool = False) -> io.BytesIO:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    if extra_sheet:
        workbook.create_sheet("Notes").append(["Not the claims"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


def _rows(file, name: str = "claims.csv") -> list[tuple[int, list]]:
    return list(open_table(file, name, 20 * MB).rows())


def _error(file, name: str = "claims.csv", max_bytes: int = 20 * MB) -> str:
    with pytest.raises(ImportFileError) as error:
        open_table(file, name, max_bytes)
    return error.value.message


# --- CSV


def test_it_reads_a_csv_file():
    rows = _rows(_csv(HEADER + "CLM-1,Maria Lopez,03/14/2026,$85.00\r\n"))
    assert rows == [
        (1, ["Claim #", "Patient", "DOS", "Balance"]),
        (2, ["CLM-1", "Maria Lopez", "03/14/2026", "$85.00"]),
    ]


def test_it_strips_cells_and_reads_blank_cells_as_none():
    rows = _rows(_csv('Claim #,Patient,DOS\n  CLM-1 , ,"  03/14/2026"\n'))
    assert rows[1] == (2, ["CLM-1", None, "03/14/2026"])


def test_it_keeps_commas_and_line_breaks_inside_quotes():
    rows = _rows(_csv(HEADER + 'CLM-1,"Lopez, Maria",03/14/2026,"$1,250.00"\n"CLM-2","Kim,\nWei",3/4/26,85\n'))
    assert rows[1] == (2, ["CLM-1", "Lopez, Maria", "03/14/2026", "$1,250.00"])
    # One record over two lines is one row, as Excel shows it.
    assert rows[2] == (3, ["CLM-2", "Kim,\nWei", "3/4/26", "85"])


def test_it_skips_blank_rows_but_keeps_counting_them():
    rows = _rows(_csv(HEADER + "CLM-1,Maria Lopez,03/14/2026,85\n\n,,,\nCLM-2,Wei Kim,03/15/2026,90\n,,,\n\n\n"))
    assert [number for number, _values in rows] == [1, 2, 5]


def test_it_drops_empty_cells_at_the_end_of_a_row():
    rows = _rows(_csv("Claim #,Patient,,,\nCLM-1,Maria Lopez,,,\n"))
    assert rows == [(1, ["Claim #", "Patient"]), (2, ["CLM-1", "Maria Lopez"])]


def test_it_reads_utf8_with_a_byte_order_mark():
    rows = _rows(_csv("\ufeff" + HEADER + "CLM-1,José Núñez,03/14/2026,85\n"))
    assert rows[0][1][0] == "Claim #"
    assert rows[1][1][1] == "José Núñez"


def test_it_reads_windows_1252_files():
    table = open_table(_csv(HEADER + "CLM-1,Sean O\u2019Brien,03/14/2026,85\n", "cp1252"), "claims.csv", MB)
    assert table.encoding == "cp1252"
    assert list(table.rows())[1][1][1] == "Sean O\u2019Brien"


def test_it_reads_utf16_text_from_excel():
    text = "Claim #\tPatient\tDOS\tBalance\r\nCLM-1\tSean O\u2019Brien\t03/14/2026\t85\r\n"
    rows = _rows(io.BytesIO(text.encode("utf-16")))
    assert rows[1] == (2, ["CLM-1", "Sean O\u2019Brien", "03/14/2026", "85"])


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_it_finds_the_delimiter(delimiter):
    lines = [["Claim #", "Patient", "DOS", "Balance"], ["CLM-1", "Maria Lopez", "03/14/2026", "85,00"]]
    text = "\n".join(delimiter.join(line) for line in lines) + "\n"
    if delimiter == ",":
        text = text.replace("85,00", "85.00")
    table = open_table(_csv(text), "claims.csv", MB)
    assert table.delimiter == delimiter
    assert len(list(table.rows())[1][1]) == 4


def test_it_is_not_fooled_by_commas_in_a_semicolon_file():
    text = "Claim #;Patient;DOS;Balance\nCLM-1;Lopez, Maria;03/14/2026;1.250,00\nCLM-2;Kim, Wei;03/15/2026;85,00\n"
    table = open_table(_csv(text), "claims.csv", MB)
    assert table.delimiter == ";"
    assert list(table.rows())[1][1][1] == "Lopez, Maria"


def test_it_reads_old_mac_line_endings():
    rows = _rows(_csv("Claim #,Patient\rCLM-1,Maria Lopez\rCLM-2,Wei Kim\r"))
    assert rows[2] == (3, ["CLM-2", "Wei Kim"])


def test_it_unwraps_values_exported_to_keep_leading_zeros():
    rows = _rows(_csv('Claim #,Payer ID\nCLM-1,="00590"\n'))
    assert rows[1] == (2, ["CLM-1", "00590"])


def test_it_estimates_csv_rows_from_line_breaks():
    assert open_table(_csv(HEADER + "a,b,c,d\r\n" * 9), "claims.csv", MB).estimated_rows() == 10
    assert open_table(_csv(HEADER + "a,b,c,d\na,b,c,d"), "claims.csv", MB).estimated_rows() == 3


def test_it_reports_the_row_of_an_unclosed_quote():
    text = HEADER + 'CLM-1,"Maria Lopez,03/14/2026,85\n' + "x" * 140_000 + "\n"
    table = open_table(_csv(text), "claims.csv", MB)
    with pytest.raises(ImportFileError, match=re.escape('row 2 of this CSV file. Check it for a quote mark (")')):
        list(table.rows())


def test_it_detects_csv_by_content_whatever_the_name():
    assert _rows(_csv(HEADER + "CLM-1,Maria Lopez,03/14/2026,85\n"), "claims.xls")[1][1][0] == "CLM-1"


def test_it_reads_django_uploads_and_leaves_them_open():
    upload = SimpleUploadedFile("claims.csv", (HEADER + "CLM-1,Maria Lopez,03/14/2026,85\n").encode())
    table = open_table(upload, upload.name, 20 * MB)
    assert len(list(table.rows())) == 2
    assert not upload.closed
    upload.seek(0)
    assert upload.read(7) == b"Claim #"


def test_it_reads_the_rows_again_from_the_top():
    table = open_table(_csv(HEADER + "CLM-1,Maria Lopez,03/14/2026,85\n"), "claims.csv", MB)
    first = next(table.rows())
    assert list(table.rows()) == [first, (2, ["CLM-1", "Maria Lopez", "03/14/2026", "85"])]


# --- Excel


def test_it_reads_an_xlsx_file_with_excel_types():
    file = _xlsx(
        ["Claim #", "Patient", "DOB", "Balance", "Payer ID"],
        ["CLM-1", " Maria Lopez ", datetime(1980, 5, 1), 125.5, 590],
    )
    table = open_table(file, "claims.xlsx", MB)
    assert table.format == "xlsx"
    assert list(table.rows())[1] == (2, ["CLM-1", "Maria Lopez", datetime(1980, 5, 1), 125.5, 590])


def test_it_numbers_xlsx_rows_as_excel_does():
    file = _xlsx(
        ["Practice AR export", None, None, "Run 2026-11-02"],
        [],
        ["claim_no", "patient_name"],
        ["X26-1", "Ana Kim"],
        [None, None],
        ["X26-2", "Wei Kim"],
        [None, "  "],
        [],
    )
    rows = _rows(file, "claims.xlsx")
    assert [number for number, _values in rows] == [1, 3, 4, 6]
    assert rows[0] == (1, ["Practice AR export", None, None, "Run 2026-11-02"])


def test_it_reads_the_active_sheet():
    file = _xlsx(["Claim #", "Patient"], ["CLM-1", "Maria Lopez"], extra_sheet=True)
    assert _rows(file, "claims.xlsx")[1] == (2, ["CLM-1", "Maria Lopez"])


def test_it_estimates_xlsx_rows_from_the_sheet_dimension():
    file = _xlsx(["Claim #", "Patient"], *[["CLM", "Name"]] * 20)
    assert open_table(file, "claims.xlsx", MB).estimated_rows() == 21


def test_it_reads_every_row_even_when_the_dimension_is_wrong():
    # Some exporters write <dimension ref="A1"/> whatever the size of the sheet.
    original = _xlsx(["Claim #", "Patient"], *[[f"CLM-{n}", "Name"] for n in range(1, 31)])
    patched = io.BytesIO()
    with zipfile.ZipFile(original) as source, zipfile.ZipFile(patched, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1"', data)
            target.writestr(item, data)
    table = open_table(patched, "claims.xlsx", MB)
    assert len(list(table.rows())) == 31
    assert table.estimated_rows() is None


def test_it_detects_xlsx_by_content_whatever_the_name():
    assert _rows(_xlsx(["Claim #", "Patient"], ["CLM-1", "Ana"]), "claims.csv")[1][1] == ["CLM-1", "Ana"]


def test_it_says_when_the_first_sheet_is_empty():
    assert _error(_xlsx(extra_sheet=True), "claims.xlsx") == (
        "The first sheet of this workbook is empty. Move the claims to the first sheet and upload it again."
    )


# --- files we cannot use


def test_it_rejects_an_empty_file():
    assert _error(io.BytesIO(b"")) == "The file is empty."


def test_it_rejects_a_file_with_no_rows():
    assert _error(_csv("\r\n , , \r\n\r\n")) == "The file is empty."


def test_it_opens_a_header_only_file_with_just_the_header():
    assert _rows(_csv(HEADER)) == [(1, ["Claim #", "Patient", "DOS", "Balance"])]


def test_it_rejects_a_file_over_the_size_limit():
    big = SimpleUploadedFile("claims.csv", b"Claim #,Patient\n")
    big.size = 20 * MB + 1
    assert _error(big, max_bytes=20 * MB) == "The file is larger than the 20 MB limit."
    assert _error(_csv(HEADER), max_bytes=10) == "The file is larger than the 10 bytes limit."


def test_it_has_no_size_limit_when_told_so():
    table = open_table(_csv(HEADER + "CLM-1,Maria Lopez,03/14/2026,85\n"), "claims.csv", None)
    assert len(list(table.rows())) == 2


def test_it_rejects_old_excel_files():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    message = _error(io.BytesIO(ole), "claims.xls")
    assert message.startswith("This is an old Excel (.xls) file.")
    assert "Excel Workbook (.xlsx) or CSV" in message


def test_it_explains_a_password_protected_workbook():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    assert _error(io.BytesIO(ole), "claims.xlsx").startswith("This Excel file has a password.")


@pytest.mark.parametrize(
    "content",
    [
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10",
        b"\xff\xd8\xff\xe0\x00\x10JFIF",
        b"Claim #,Patient\nCLM-1,\x00\x00\x00\x01",
    ],
    ids=["pdf", "png", "jpeg", "nul-bytes"],
)
def test_it_rejects_files_that_are_not_spreadsheets(content):
    assert _error(io.BytesIO(content)) == "This file is not a CSV or Excel (.xlsx) file."


def test_it_rejects_a_zip_that_is_not_a_workbook():
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as target:
        target.writestr("word/document.xml", "<w:document/>")
    archive.seek(0)
    assert _error(archive, "claims.xlsx") == "This file is not a CSV or Excel (.xlsx) file."


def test_it_rejects_a_broken_workbook():
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as target:
        target.writestr("xl/workbook.xml", "not xml")
    archive.seek(0)
    assert _error(archive, "claims.xlsx").startswith("We could not read this Excel file.")


def test_it_rejects_a_web_page_saved_as_a_spreadsheet():
    page = b"<html><body><table><tr><td>Claim #</td></tr></table></body></html>"
    assert _error(io.BytesIO(page), "claims.xls").startswith("This file is a web page or XML")
