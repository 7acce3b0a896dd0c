"""Server-rendered SVG charts: the geometry here, the markup in ``templates/reports/includes/``.

Charts are plain SVG drawn with presentation attributes only (no ``style=``, no script), so they
render under a strict Content-Security-Policy (``style-src 'self'``, no inline script), print,
and need nothing from a CDN. Each is ``role="img"`` with a ``<title>`` and ``<desc>``, and
its include renders the same figures as a ``<table>`` (with the same links) for screen readers
and for anyone who wants the numbers.

Use from any view::

    from reports import charts
    chart = charts.bar_chart("denials-by-code", "Denials by code", "Denied claims per code, last 90 days.",
                             [charts.Item("CO-16", 12, href="/claims/?denial_code=CO-16")])
    {% include "reports/includes/chart.html" with chart=chart %}

``bar_chart`` draws horizontal bars (labels on the left, good for names) or vertical columns
(``vertical=True``, good for a few time buckets); ``stacked_bar_chart`` draws one horizontal
bar per row split into series (AR aging: a payer's balance by age); ``line_chart`` draws a
line with the area under it (a value over time). ``chart.html`` picks the right markup.
Bars of a chart may link somewhere (``Item.href``); in the SVG those links are for the mouse
(``tabindex="-1"``), and the table below carries the same links for the keyboard.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

from claims.templatetags.claim_tags import money

WIDTH = 400  # viewBox units; about a phone's width, so text stays readable there
# Series colours (AR aging's age buckets, youngest to oldest): readable on white, distinct
# for the common colour-vision deficiencies (Okabe–Ito order).
PALETTE = ["#0072b2", "#56b4e9", "#e69f00", "#d55e00", "#cc79a7", "#009e73", "#f0e442", "#999999"]
BAR_COLOR = "#2563eb"
LABEL_CHARACTERS = 17


@dataclass(frozen=True)
class Item:
    """One bar or point: its label, value, the value as shown, and an optional link."""

    label: str
    value: int | float | Decimal
    display: str = ""
    href: str = ""


@dataclass
class Mark:
    """A drawn bar (or segment, or point) with its place in the SVG's coordinates."""

    label: str
    display: str
    href: str
    x: float
    y: float
    width: float = 0
    height: float = 0
    color: str = BAR_COLOR
    text_x: float = 0
    text_y: float = 0
    short_label: str = ""


@dataclass
class Tick:
    position: float
    label: str


@dataclass
class Chart:
    kind: str  # "horizontal" | "vertical" | "stacked" | "line"
    key: str
    title: str
    description: str
    width: int
    height: int
    marks: list[Mark] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    axis_labels: list[Mark] = field(default_factory=list)
    legend: list[Mark] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)  # stacked: one row per bar, each with its segments
    line_points: str = ""
    area_points: str = ""
    # The fallback table: column headers and rows of {"label", "cells": [{"display", "href"}]}
    table_headers: list[str] = field(default_factory=list)
    table_rows: list[dict] = field(default_factory=list)
    plot_left: float = 0
    plot_right: float = 0
    plot_top: float = 0
    plot_bottom: float = 0
    point_radius: float = 3

    @property
    def empty(self) -> bool:
        return not self.table_rows


# -- scale -------------------------------------------------------------------------------------


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10ⁿ at or above ``value`` (1 for nothing): the axis maximum."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude + 1e-9:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def scale(value: float, maximum: float, length: float) -> float:
    """``value`` of ``maximum`` as a length of ``length`` units, rounded for short coordinates."""
    return round(max(float(value), 0) / maximum * length, 1) if maximum else 0.0


def compact(value: float, as_money: bool) -> str:
    """An axis label: ``$12k``, ``$1.5M``, ``40``."""
    prefix = "$" if as_money else ""
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if abs(value) >= size:
            number = value / size
            text = f"{number:.1f}".rstrip("0").rstrip(".")
            return f"{prefix}{text}{suffix}"
    return f"{prefix}{value:g}"


def display(value, as_money: bool) -> str:
    return money(value) if as_money else f"{value:,}"


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARACTERS else label[: LABEL_CHARACTERS - 1] + "…"


def axis_maximum(largest: float, as_money: bool, count: int = 4) -> float:
    """The top of a value axis with ``count`` equal steps of a readable size (whole steps for counts)."""
    step = nice_ceiling(largest / count) if largest > 0 else 1.0
    if not as_money:
        step = max(1.0, float(math.ceil(step)))
    return step * count


def _ticks(maximum: float, as_money: bool, count: int = 4) -> list[tuple[float, str]]:
    return [(maximum * n / count, compact(maximum * n / count, as_money)) for n in range(count + 1)]


def _table(items: list[Item], value_header: str, as_money: bool) -> tuple[list[str], list[dict]]:
    rows = [
        {"label": item.label, "cells": [{"display": item.display or display(item.value, as_money), "href": item.href}]}
        for item in items
    ]
    return ["", value_header], rows


# -- charts ------------------------------------------------------------------------------------


def bar_chart(
    key: str,
    title: str,
    description: str,
    items: list[Item],
    *,
    vertical: bool = False,
    as_money: bool = False,
    value_header: str = "Value",
) -> Chart:
    """Horizontal bars (one row per item) or, with ``vertical``, columns along a time axis."""
    headers, table_rows = _table(items, value_header, as_money)
    if vertical:
        chart = _columns(key, title, description, items, as_money)
    else:
        chart = _bars(key, title, description, items, as_money)
    chart.table_headers, chart.table_rows = headers, table_rows
    return chart


def _bars(key: str, title: str, description: str, items: list[Item], as_money: bool) -> Chart:
    row, bar, top = 26, 16, 6
    left, right = 118, WIDTH - 78
    maximum = float(max((item.value for item in items), default=0)) or 1.0
    chart = Chart("horizontal", key, title, description, WIDTH, top * 2 + row * max(len(items), 1))
    chart.plot_left, chart.plot_right = left, right
    for number, item in enumerate(items):
        y = top + number * row + (row - bar) / 2
        width = scale(item.value, maximum, right - left)
        chart.marks.append(
            Mark(
                item.label,
                item.display or display(item.value, as_money),
                item.href,
                x=left,
                y=y,
                width=max(width, 1.0) if item.value else 0,
                height=bar,
                text_x=left + width + 6,
                text_y=y + bar - 4,
                short_label=_short(item.label),
            )
        )
    return chart


def _columns(key: str, title: str, description: str, items: list[Item], as_money: bool) -> Chart:
    height, top, bottom, left, right = 200, 10, 30, 44, WIDTH - 8
    chart = Chart("vertical", key, title, description, WIDTH, height)
    chart.plot_left, chart.plot_right, chart.plot_top, chart.plot_bottom = left, right, top, height - bottom
    maximum = axis_maximum(float(max((item.value for item in items), default=0)), as_money)
    plot_height = height - top - bottom
    slot = (right - left) / max(len(items), 1)
    every = max(1, math.ceil(len(items) / 6))
    for value, label in _ticks(maximum, as_money):
        chart.ticks.append(Tick(round(height - bottom - scale(value, maximum, plot_height), 1), label))
    for number, item in enumerate(items):
        bar_height = scale(item.value, maximum, plot_height)
        x = round(left + number * slot + slot * 0.15, 1)
        chart.marks.append(
            Mark(
                item.label,
                item.display or display(item.value, as_money),
                item.href,
                x=x,
                y=round(height - bottom - bar_height, 1),
                width=round(slot * 0.7, 1),
                height=bar_height,
            )
        )
        if number % every == 0:
            chart.axis_labels.append(
                Mark(item.label, "", "", x=round(x + slot * 0.35, 1), y=height - bottom + 16, short_label=item.label)
            )
    return chart


def stacked_bar_chart(
    key: str,
    title: str,
    description: str,
    rows: list[tuple[str, list[Item]]],
    series: list[str],
    *,
    as_money: bool = True,
) -> Chart:
    """One horizontal bar per row (``label, items``), split into ``series`` in order, with a legend."""
    row_height, bar = 28, 18
    left, right = 110, WIDTH - 78
    totals = [sum((float(item.value) for item in items), 0.0) for _label, items in rows]
    maximum = max(totals, default=0) or 1.0
    legend = []
    x, y = 0.0, 4.0
    for number, name in enumerate(series):
        width = 22 + len(name) * 7
        if x and x + width > WIDTH:  # wrap the legend onto another line
            x, y = 0.0, y + 20
        color = PALETTE[number % len(PALETTE)]
        legend.append(Mark(name, "", "", x=x, y=y, width=12, height=12, color=color, text_x=x + 16, text_y=y + 11))
        x += width
    legend_height = y + 24
    chart = Chart("stacked", key, title, description, WIDTH, int(legend_height + row_height * max(len(rows), 1)))
    chart.plot_left, chart.plot_right, chart.legend = left, right, legend
    for number, ((label, items), total) in enumerate(zip(rows, totals, strict=True)):
        y = legend_height + number * row_height + (row_height - bar) / 2
        segments, start = [], float(left)
        for index, item in enumerate(items):
            width = scale(item.value, maximum, right - left)
            if width > 0:
                segments.append(
                    Mark(
                        f"{label}, {series[index]}",
                        item.display or display(item.value, as_money),
                        item.href,
                        x=round(start, 1),
                        y=y,
                        width=width,
                        height=bar,
                        color=PALETTE[index % len(PALETTE)],
                    )
                )
            start += width
        chart.rows.append(
            {
                "label": label,
                "short_label": _short(label),
                "label_y": y + bar - 5,
                "segments": segments,
                "total": display(Decimal(str(total)) if as_money else int(total), as_money),
                "total_x": round(start + 6, 1),
            }
        )
    chart.table_headers = ["", *series, "Total"]
    chart.table_rows = [
        {
            "label": label,
            "cells": [
                *({"display": item.display or display(item.value, as_money), "href": item.href} for item in items),
                {"display": row["total"], "href": ""},
            ],
        }
        for (label, items), row in zip(rows, chart.rows, strict=True)
    ]
    return chart


def line_chart(
    key: str, title: str, description: str, items: list[Item], *, as_money: bool = False, value_header: str = "Value"
) -> Chart:
    """A value over time: a line through the points and the area under it, one point per item."""
    height, top, bottom, left, right = 180, 10, 30, 44, WIDTH - 8
    chart = Chart("line", key, title, description, WIDTH, height)
    chart.plot_left, chart.plot_right, chart.plot_top, chart.plot_bottom = left, right, top, height - bottom
    maximum = axis_maximum(float(max((item.value for item in items), default=0)), as_money)
    plot_height = height - top - bottom
    step = (right - left) / max(len(items) - 1, 1)
    every = max(1, math.ceil(len(items) / 5))
    for value, label in _ticks(maximum, as_money):
        chart.ticks.append(Tick(round(height - bottom - scale(value, maximum, plot_height), 1), label))
    points = []
    for number, item in enumerate(items):
        x, y = round(left + number * step, 1), round(height - bottom - scale(item.value, maximum, plot_height), 1)
        points.append(f"{x},{y}")
        chart.marks.append(Mark(item.label, item.display or display(item.value, as_money), item.href, x=x, y=y))
        if number % every == 0:
            chart.axis_labels.append(Mark(item.label, "", "", x=x, y=height - bottom + 16, short_label=item.label))
    chart.line_points = " ".join(points)
    chart.point_radius = 3 if len(items) <= 31 else 1.5  # a season of days would blur into a thick line
    if points:
        base = height - bottom
        chart.area_points = f"{left},{base} {' '.join(points)} {chart.marks[-1].x},{base}"
    chart.table_headers, chart.table_rows = _table(items, value_header, as_money)
    return chart
