"""Writing sheets of rows as CSV or XLSX, in flat memory, safe to open in a spreadsheet.

A ``Sheet`` is a title, its columns (``reports.tables.Column``: a key, a label and a kind
such as ``money`` or ``date``) and an iterable of rows in column order. Rows are read one at a
time and never held together, so 100,000 claims cost what a few thousand do:

* CSV is produced chunk by chunk (``csv_chunks``) for a ``StreamingHttpResponse`` or a file,
  UTF-8 with a byte-order mark so that Excel reads accented names right. Money is a plain
  decimal (``1234.50``), dates ISO (``2026-12-07``), times ISO with their offset.
* XLSX is written by openpyxl's write-only workbook (``write_xlsx``), which streams rows to a
  temporary file: numbers are numbers, dates are dates, money has a ``0.00`` format.

Text that a spreadsheet would take for a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return) gets a single quote in front, in both formats, through the one rule the
product's CSV files all follow (``billingpulse.lib.csv_export.safe_cell``). Numbers written as
numbers, negative ones included, are left alone.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import IO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from billingpulse.lib.csv_export import safe_cell
from reports.tables import Column

BOM = "\ufeff"
CSV_CHUNK_ROWS = 1000  # rows per chunk handed to the response
PROGRESS_EVERY = 2000  # rows between progress reports
MONEY_FORMAT = "#,##0.00"
NUMBER_FORMATS = {"money": MONEY_FORMAT, "percent": '0.0"%"', "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm"}
WIDTHS = {"text": 22, "date": 12, "datetime": 17, "money": 13, "count": 10, "percent": 10, "days": 8, "seconds": 10}
_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")

Progress = Callable[[int], None]


@dataclass
class Sheet:
    title: str
    columns: list[Column]
    rows: Iterable[Sequence] = field(default_factory=list)
    note: str = ""


def neutralise(value: object) -> object:
    """A text cell that cannot start a formula; numbers, dates and empties as they are."""
    if value is None or isinstance(value, date | int | Decimal | float):
        return value
    return safe_cell(value)


def _csv_value(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(value)


def csv_chunks(sheets: Sequence[Sheet], progress: Progress | None = None) -> Iterator[bytes]:
    """The sheets as CSV, in chunks of bytes. One sheet is a plain table (header, rows); several
    follow each other, each under a line with its title and separated by a blank line."""
    buffer = io.StringIO()
    out = csv.writer(buffer)
    buffer.write(BOM)
    done = 0
    for number, sheet in enumerate(sheets):
        if len(sheets) > 1:
            if number:
                out.writerow([])
            out.writerow([neutralise(sheet.title)])
        out.writerow([neutralise(column.label) for column in sheet.columns])
        for row in sheet.rows:
            out.writerow([_csv_value(value) for value in row])
            done += 1
            if done % CSV_CHUNK_ROWS == 0:
                yield _drain(buffer)
            if progress is not None and done % PROGRESS_EVERY == 0:
                progress(done)
    yield _drain(buffer)
    if progress is not None:
        progress(done)


def _drain(buffer: io.StringIO) -> bytes:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text.encode("utf-8")


def write_csv(sheets: Sequence[Sheet], target: IO[bytes], progress: Progress | None = None) -> None:
    for chunk in csv_chunks(sheets, progress):
        target.write(chunk)


def sheet_title(title: str, taken: set[str]) -> str:
    """A worksheet name Excel accepts: at most 31 characters, none of ``[]:*?/\\``, unique."""
    base = _SHEET_TITLE_BAD.sub(" ", title).strip()[:31] or "Sheet"
    name, number = base, 2
    while name.lower() in taken:
        suffix = f" ({number})"
        name, number = base[: 31 - len(suffix)] + suffix, number + 1
    taken.add(name.lower())
    return name


def write_xlsx(sheets: Sequence[Sheet], target: str | IO[bytes], progress: Progress | None = None) -> None:
    """The sheets as an XLSX workbook written to ``target`` (a path or a binary file)."""
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    taken: set[str] = set()
    done = 0
    for sheet in sheets:
        worksheet = workbook.create_sheet(title=sheet_title(sheet.title, taken))
        for index, column in enumerate(sheet.columns, start=1):
            worksheet.column_dimensions[get_column_letter(index)].width = WIDTHS.get(column.kind, 14)
        header = []
        for column in sheet.columns:
            cell = WriteOnlyCell(worksheet, value=neutralise(column.label))
            cell.font = bold
            header.append(cell)
        worksheet.append(header)
        formats = [NUMBER_FORMATS.get(column.kind) for column in sheet.columns]
        for row in sheet.rows:
            worksheet.append([_xlsx_value(worksheet, value, fmt) for value, fmt in zip(row, formats, strict=True)])
            done += 1
            if progress is not None and done % PROGRESS_EVERY == 0:
                progress(done)
        if sheet.note:
            worksheet.append([])
            worksheet.append([neutralise(sheet.note)])
    workbook.save(target)
    if progress is not None:
        progress(done)


def _xlsx_value(worksheet, value: object, number_format: str | None) -> object:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        # Spreadsheets have no time zones: the wall-clock time where the practice is.
        value = value.replace(tzinfo=None)
    elif not isinstance(value, date | int | Decimal | float):
        return neutralise(str(value))
    if number_format is None or isinstance(value, date) and number_format == NUMBER_FORMATS["date"]:
        return value  # openpyxl gives a date its own yyyy-mm-dd format
    cell = WriteOnlyCell(worksheet, value=value)
    cell.number_format = number_format
    return cell
