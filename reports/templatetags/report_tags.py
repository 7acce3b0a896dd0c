"""Formatting of report cells by their column's kind (``reports.tables.Column.kind``)."""

from __future__ import annotations

from django import template
from django.template.defaultfilters import date as format_date

from claims.templatetags.claim_tags import money

register = template.Library()


@register.filter
def cell(value, kind: str) -> str:
    """A report value as a page shows it: ``$1,250.00``, ``12.5%``, ``4m 05s``, ``Dec 6, 2026``."""
    if value is None or value == "":
        return "—"
    if kind == "money":
        return money(value)
    if kind == "percent":
        return f"{value}%"
    if kind == "count":
        return f"{value:,}"
    if kind == "days":
        return f"{value} days"
    if kind == "seconds":
        minutes, seconds = divmod(int(value), 60)
        return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"
    if kind == "date":
        return format_date(value, "M j, Y")
    return str(value)
