"""What the import layer reports to the biller: a file it cannot read, or a row it cannot use."""

from __future__ import annotations

from dataclasses import dataclass


class ImportFileError(Exception):
    """The whole file is unusable. ``message`` is written for the biller and safe to show as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem with one cell of one row.

    ``row`` is the row number the biller sees in Excel or a text editor (title rows and the
    header row count). ``column`` is the column's header as written in the file, or the field's
    label when the file has no such column. ``value`` is the cell as text, empty when blank.
    """

    row: int
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        return f"Row {self.row}, {self.column}: {self.message}"
