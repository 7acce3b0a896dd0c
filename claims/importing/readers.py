"""Open an uploaded CSV or Excel file and stream its rows, whatever the exporting system did to it.

The format is read from the content, not the file name: billers rename files, and systems
save CSV with an .xls name. Rows come one at a time with their row number as the biller sees
it in Excel (title rows and the header count), so a 20 MB file never sits in memory.
"""

from __future__ import annotations

import codecs
import csv
import io
import warnings
import zipfile
from collections.abc import Iterator
from typing import IO, BinaryIO

from openpyxl import load_workbook

from claims.importing.errors import ImportFileError

CSV_DELIMITERS = (",", ";", "\t", "|")
CHUNK_BYTES = 64 * 1024
SNIFF_BYTES = 64 * 1024
# An .xlsx is compressed XML; far more XML than this per byte of file is a zip bomb, not claims.
MAX_XLSX_EXPANSION = 50

XLSX_SIGNATURE = b"PK\x03\x04"
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OTHER_SIGNATURES = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"{\\rtf", b"7z\xbc\xaf", b"Rar!")
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)

NOT_A_SPREADSHEET = "This file is not a CSV or Excel (.xlsx) file."
EMPTY_FILE = "The file is empty."
OLD_EXCEL = (
    "This is an old Excel (.xls) file. Open it in Excel, choose File > Save As, "
    "pick Excel Workbook (.xlsx) or CSV, and upload that file."
)
PASSWORD_PROTECTED = "This Excel file has a password. Remove the password in Excel, save it, and upload it again."
WEB_PAGE = "This file is a web page or XML, not a spreadsheet. Open it in Excel and save it as .xlsx or CSV."
UNREADABLE_XLSX = "We could not read this Excel file. Open it in Excel, save it again as .xlsx, and upload it again."
EMPTY_SHEET = "The first sheet of this workbook is empty. Move the claims to the first sheet and upload it again."


class Table:
    """The rows of one uploaded file.

    ``rows()`` yields ``(row_number, values)`` for every row that has something in it, from
    the top each time it is called; blank rows are skipped but still counted, so numbers
    match what the biller sees. Values are stripped text (CSV) or Excel's own types (``str``,
    ``int``, ``float``, ``datetime``); empty cells are None and trailing empty cells dropped.
    """

    format = ""
    # Whether amounts written as text may use a comma for the decimal point (see CsvTable).
    decimal_comma = False

    def rows(self) -> Iterator[tuple[int, list]]:
        raise NotImplementedError

    def estimated_rows(self) -> int | None:
        """Roughly how many rows the file has, header included, for a progress bar; None if unknown."""
        raise NotImplementedError

    def close(self) -> None:
        """Release what the table holds open. The caller's file is left open."""

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def open_table(file: IO[bytes], filename: str, max_bytes: int | None) -> Table:
    """Check an uploaded file and return its table, or raise ``ImportFileError``.

    ``file`` is a seekable binary file (a Django ``UploadedFile``, ``open(path, "rb")``); the
    table reads it on demand, so it must stay open while rows are read.
    ``filename`` only sharpens messages. ``max_bytes`` None means no size limit (for a file
    that was checked when it was uploaded).
    """
    source: BinaryIO = file  # type: ignore[assignment]
    source.seek(0)
    size = _size(source)
    if max_bytes is not None and size > max_bytes:
        raise ImportFileError(f"The file is larger than the {_format_size(max_bytes)} limit.")
    if size == 0:
        raise ImportFileError(EMPTY_FILE)
    head = source.read(SNIFF_BYTES)
    source.seek(0)
    if head.startswith(OLE_SIGNATURE):
        # Excel saves a password-protected .xlsx inside the same container as an old .xls.
        raise ImportFileError(PASSWORD_PROTECTED if filename.lower().endswith(".xlsx") else OLD_EXCEL)
    table: Table = XlsxTable(source, size) if head.startswith(XLSX_SIGNATURE) else CsvTable(source, head)
    if next(iter(table.rows()), None) is None:
        table.close()
        raise ImportFileError(EMPTY_SHEET if isinstance(table, XlsxTable) else EMPTY_FILE)
    return table


# ---------------------------------------------------------------------------- CSV


class CsvTable(Table):
    format = "csv"

    def __init__(self, file: BinaryIO, head: bytes) -> None:
        self._file = file
        if head.startswith(_OTHER_SIGNATURES):
            raise ImportFileError(NOT_A_SPREADSHEET)
        if head.lstrip().lower().startswith((b"<!doctype html", b"<html", b"<table", b"<?xml")):
            raise ImportFileError(WEB_PAGE)
        self.encoding, self._line_count = _scan_text(file, head)
        self.delimiter = _sniff_delimiter(head, self.encoding, complete=len(head) < SNIFF_BYTES)
        # Spreadsheets set to a European locale separate fields with semicolons because the
        # comma is their decimal point.
        self.decimal_comma = self.delimiter == ";"

    def rows(self) -> Iterator[tuple[int, list]]:
        self._file.seek(0)
        # cp1252 maps every byte but five; those become U+FFFD rather than stopping the import.
        errors = "strict" if self.encoding != "cp1252" else "replace"
        text = io.TextIOWrapper(
            io.BufferedReader(_Borrowed(self._file), CHUNK_BYTES), encoding=self.encoding, errors=errors, newline=""
        )
        reader = csv.reader(text, delimiter=self.delimiter, skipinitialspace=True)
        row_number = 0
        while True:
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error:
                raise ImportFileError(
                    f"We could not read row {row_number + 1} of this CSV file. "
                    'Check it for a quote mark (") that is not closed.'
                ) from None
            # A quoted value may run over several lines; Excel shows it as one row, and so do we.
            row_number += 1
            values = [_csv_cell(cell) for cell in record]
            while values and values[-1] is None:
                values.pop()
            if values:
                yield row_number, values

    def estimated_rows(self) -> int | None:
        return self._line_count


def _csv_cell(cell: str) -> str | None:
    cell = cell.strip()
    # ="00590" is how exporters stop Excel from dropping leading zeros.
    if cell[:2] == '="' and cell[-1:] == '"':
        cell = cell[2:-1].strip()
    return cell or None


def _scan_text(file: BinaryIO, head: bytes) -> tuple[str, int]:
    """``(encoding, line count)``, reading the file once in chunks.

    UTF-8 (with or without a byte-order mark) when every byte decodes as UTF-8, UTF-16 when
    it starts with a UTF-16 mark (Excel's "Unicode Text"), else Windows-1252, which is what
    older Windows exports are. Binary content (NUL bytes) is rejected.
    """
    utf16 = head.startswith(_UTF16_BOMS)
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = not utf16
    newlines = returns = 0
    last = b""
    file.seek(0)
    while chunk := file.read(CHUNK_BYTES):
        if not utf16 and b"\x00" in chunk:
            raise ImportFileError(NOT_A_SPREADSHEET)
        if utf8:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                utf8 = False
        newlines += chunk.count(b"\n")
        returns += chunk.count(b"\r")
        last = chunk
    file.seek(0)
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    encoding = "utf-16" if utf16 else "utf-8-sig" if utf8 else "cp1252"
    # Old Mac exports end lines with \r alone; Windows with \r\n; the rest with \n.
    lines = max(newlines, returns)
    if last and not last.endswith((b"\n", b"\r")):
        lines += 1
    return encoding, lines


def _sniff_delimiter(head: bytes, encoding: str, complete: bool) -> str:
    """The delimiter that splits the opening lines most consistently into the most columns.

    Each candidate scores (lines having its most common column count) × (that count - 1), so a
    stray semicolon inside a comma file's text cannot win, nor can one comma per line in a
    tab-separated file whose names read "Lopez, Maria".
    """
    sample = head.decode(encoding, errors="replace")
    if not complete:
        # The last line of a partial read may be cut short.
        sample = sample[: max(sample.rfind("\n"), sample.rfind("\r"), 0)]
    best, best_score = ",", 0
    for delimiter in CSV_DELIMITERS:
        counts: dict[int, int] = {}
        try:
            for record in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter, skipinitialspace=True):
                if any(cell.strip() for cell in record):
                    counts[len(record)] = counts.get(len(record), 0) + 1
        except csv.Error:
            continue
        columns, lines = max(counts.items(), key=lambda item: (item[1], item[0]), default=(1, 0))
        score = lines * (columns - 1)
        if score > best_score:
            best, best_score = delimiter, score
    return best


class _Borrowed(io.RawIOBase):
    """Reads the caller's file without closing it when the text wrapper around it is done."""

    def __init__(self, file: BinaryIO) -> None:
        self._file = file

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self._file.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


# ---------------------------------------------------------------------------- Excel


class XlsxTable(Table):
    format = "xlsx"

    def __init__(self, file: BinaryIO, size: int) -> None:
        _check_xlsx_archive(file, size)
        file.seek(0)
        try:
            # openpyxl warns about styles and extensions it ignores; they do not matter here.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._workbook = load_workbook(file, read_only=True, data_only=True)
        except Exception:
            raise ImportFileError(UNREADABLE_XLSX) from None
        sheets = self._workbook.worksheets
        if not sheets:
            raise ImportFileError(EMPTY_SHEET)
        sheet = self._workbook.active
        self._sheet = sheet if sheet in sheets else sheets[0]
        # The dimension is what the writer claimed; a one-cell "A1" claim is common and wrong.
        max_row = self._sheet.max_row
        self._estimate = max_row if max_row and max_row > 1 else None
        # Iterate over what is really there, not up to the claimed dimension, which may be short.
        self._sheet.reset_dimensions()

    def rows(self) -> Iterator[tuple[int, list]]:
        try:
            for row_number, cells in enumerate(self._sheet.iter_rows(values_only=True), start=1):
                values = [cell.strip() or None if isinstance(cell, str) else cell for cell in cells]
                while values and values[-1] is None:
                    values.pop()
                if values:
                    yield row_number, values
        except Exception:
            raise ImportFileError(UNREADABLE_XLSX) from None

    def estimated_rows(self) -> int | None:
        return self._estimate

    def close(self) -> None:
        self._workbook.close()


def _check_xlsx_archive(file: BinaryIO, size: int) -> None:
    try:
        with zipfile.ZipFile(file) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        raise ImportFileError(NOT_A_SPREADSHEET) from None
    # A .docx or a plain .zip is a zip too; only a workbook has xl/workbook.xml.
    if not any(entry.filename == "xl/workbook.xml" for entry in entries):
        raise ImportFileError(NOT_A_SPREADSHEET)
    if sum(entry.file_size for entry in entries) > max(size, CHUNK_BYTES) * MAX_XLSX_EXPANSION:
        raise ImportFileError(UNREADABLE_XLSX)


# ---------------------------------------------------------------------------- files


def _size(file: BinaryIO) -> int:
    size = getattr(file, "size", None)
    if isinstance(size, int):
        return size
    size = file.seek(0, io.SEEK_END)
    file.seek(0)
    return size


def _format_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.3g} MB"
    if size >= 1024:
        return f"{size / 1024:.3g} KB"
    return f"{size} bytes"
