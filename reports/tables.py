"""Report figures as tables: headers and rows of plain values.

Every report hands its figures out as ``Table`` objects, the one shape the pages (the figures
under each chart), the API and an exporter read: ``columns`` name and type each cell, ``rows``
hold plain values (``Decimal`` money, ``int`` counts, ``date``), and a cell may carry a link.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    # text | count | money | percent | days | seconds | date: how a page formats the value
    kind: str = "text"

    @property
    def numeric(self) -> bool:
        return self.kind not in ("text", "date")


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[dict] = field(default_factory=list)
    # Optional ``{column key: row key of the link}``: the cell links to ``row[link key]``.
    links: dict[str, str] = field(default_factory=dict)
    note: str = ""

    @property
    def headers(self) -> list[str]:
        return [column.label for column in self.columns]

    def values(self) -> list[list]:
        """The rows as lists in column order (what a CSV writer takes after ``headers``)."""
        return [[row.get(column.key) for column in self.columns] for row in self.rows]

    def cells(self) -> list[list[dict]]:
        """For templates: each cell's value, column and link (if any)."""
        return [
            [
                {"value": row.get(column.key), "column": column, "href": row.get(self.links.get(column.key, ""), "")}
                for column in self.columns
            ]
            for row in self.rows
        ]


def money(value) -> Decimal:
    """A sum from the database as money. SQLite hands back floats for decimal sums (and raw SQL
    gets no converter there); PostgreSQL's numeric is exact. Either way, to the cent."""
    if value is None:
        return ZERO
    return Decimal(str(value)).quantize(CENT)


def percent(part, whole) -> Decimal | None:
    """``part`` of ``whole`` as a percentage with one decimal; ``None`` when there is no whole."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def as_json(value):
    """A report value for a JSON answer: money and other decimals as strings, dates ISO."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: as_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [as_json(item) for item in value]
    return value
