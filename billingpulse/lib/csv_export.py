"""The CSV files the product writes, safe to open in a spreadsheet.

A cell that starts with ``=``, ``+``, ``-`` or ``@`` is a formula to Excel, LibreOffice and
Google Sheets, and a formula can run a command or send the sheet's data elsewhere ("CSV
injection"); so can one behind a tab or carriage return. What we write comes partly from
uploads and other people's systems, so, as OWASP advises, such a cell is written with a
single quote in front, which spreadsheets take as "this is text".

A number is not a formula. Values that are numbers (``int``, ``Decimal``, ``float``) are
written as they are, so a credit of -12.50 in a money column stays a number a biller can add
up; and so is text that is nothing but a plain decimal number, such as ``-12.50`` or ``-7``,
which a spreadsheet can only read as that number. Anything else starting with a formula
character (``-2+3``, ``-A1``, ``+1``) is quoted.

Every CSV the product writes goes through here: ``csv_response`` for a download, ``writer``
for a file.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header

# What a spreadsheet reads as the start of a formula, with the full-width forms some
# versions of Excel accept too; tab and carriage return, which some strip before looking.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def safe_cell(value: object) -> object:
    """``value`` as a cell a spreadsheet shows and never runs: numbers as they are, text
    that could start a formula behind a single quote."""
    if value is None:
        return ""
    if isinstance(value, int | Decimal | float) and not isinstance(value, bool):
        return value
    text = str(value)
    # A space in front does not stop every spreadsheet from reading a formula.
    start = text.lstrip(" \n")
    if start.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(start):
        return "'" + text
    return text


class SafeWriter:
    """``csv.writer`` with every cell passed through ``safe_cell``."""

    def __init__(self, file: Any, **fmtparams: Any) -> None:
        self._writer = csv.writer(file, **fmtparams)

    def writerow(self, row: Iterable[object]) -> Any:
        return self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(file: Any, **fmtparams: Any) -> SafeWriter:
    """A formula-safe CSV writer on ``file`` (opened with ``newline=""``), as ``csv.writer``."""
    return SafeWriter(file, **fmtparams)


class _Echo:
    """A file whose ``write`` hands back the text, so that ``writerow`` returns one CSV line."""

    def write(self, value: str) -> str:
        return value


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Iterable[object]]) -> StreamingHttpResponse:
    """A CSV download named ``filename``: the header row, then ``rows``, streamed as they come."""
    out = writer(_Echo())

    def lines() -> Iterator[str]:
        yield out.writerow(header)
        for row in rows:
            yield out.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    # Django quotes and encodes the name: it may hold quotes or non-ASCII letters.
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
