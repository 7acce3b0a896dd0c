"""Display helpers for claims pages: money, status badges, phone numbers, open days and hours."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from django import template
from django.utils.dateformat import time_format
from django.utils.html import format_html
from django.utils.safestring import SafeString

from claims.status import ClaimStatus
from claims.worklist import FILTER_PARAMS

register = template.Library()

# One color per group of statuses: still being worked, paid, refused, finished.
STATUS_TONES = {
    ClaimStatus.PAID: "paid",
    ClaimStatus.PARTIALLY_PAID: "paid",
    ClaimStatus.DENIED: "denied",
    ClaimStatus.REJECTED: "denied",
    ClaimStatus.DRAFT: "closed",
    ClaimStatus.WRITTEN_OFF: "closed",
    ClaimStatus.CLOSED: "closed",
}
DAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


@register.filter
def money(value) -> str:
    """``$1,250.00``; a dash for no amount; negative amounts as ``−$5.00``."""
    if value is None or value == "":
        return "—"
    amount = Decimal(value).quantize(Decimal("0.01"))
    sign = "−" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


@register.filter
def status_tone(status: str) -> str:
    return STATUS_TONES.get(status, "open")


@register.filter
def status_badge(status: str) -> SafeString:
    label = ClaimStatus(status).label if status in ClaimStatus.values else status
    return format_html('<span class="badge status status-{}">{}</span>', status_tone(status), label)


@register.filter
def us_phone(value: str) -> str:
    """``+18005550100`` as ``(800) 555-0100``; other numbers as stored."""
    match = re.fullmatch(r"\+1(\d{3})(\d{3})(\d{4})", value or "")
    return f"({match[1]}) {match[2]}-{match[3]}" if match else value


@register.filter
def weekdays(digits: str) -> str:
    """``"01234"`` as ``Mon–Fri``; ``"0246"`` as ``Mon, Wed, Fri, Sun``."""
    days = sorted({int(d) for d in digits or "" if d.isdigit() and int(d) < 7})
    runs: list[list[int]] = []
    for day in days:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = [
        f"{DAY_NAMES[run[0]]}–{DAY_NAMES[run[-1]]}" if len(run) > 2 else ", ".join(DAY_NAMES[d] for d in run)
        for run in runs
    ]
    return ", ".join(parts) or "Never"


@register.filter
def business_hours(payer) -> str:
    """A payer's phone hours: ``8:00 AM – 5:00 PM``, or ``open 24 hours`` for a line that closes
    when it opens (``telephony.pacing.business_intervals`` reads 00:00–00:00 as around the clock).
    """
    if payer.opens_at == payer.closes_at:
        return "open 24 hours"
    return f"{time_format(payer.opens_at, 'g:i A')} – {time_format(payer.closes_at, 'g:i A')}"


def _days(count: int) -> str:
    return f"{count} day{'' if count == 1 else 's'}"


@register.filter
def days_until(value: date | None, today: date) -> str:
    """A deadline relative to today: ``in 12 days``, ``today`` or ``passed 3 days ago``."""
    if not value:
        return ""
    days = (value - today).days
    if days == 0:
        return "today"
    return f"in {_days(days)}" if days > 0 else f"passed {_days(-days)} ago"


@register.filter
def follow_up_due(value: date | None, today: date) -> str:
    """A follow-up date relative to today: ``in 3 days``, ``due today`` or ``overdue by 2 days``."""
    if not value:
        return ""
    days = (value - today).days
    if days == 0:
        return "due today"
    return f"in {_days(days)}" if days > 0 else f"overdue by {_days(-days)}"


@register.filter
def days_outstanding(claim, today: date) -> int | None:
    """Days since the claim's date of service while something is owed on it; ``None`` once nothing is."""
    if claim.balance is None or claim.balance <= 0 or not claim.service_date_from:
        return None
    return max((today - claim.service_date_from).days, 0)


@register.filter
def active_filter_count(filters) -> int:
    """How many of the worklist's filters narrow (or widen) the rows: what a collapsed filter panel counts."""
    return sum(1 for name in FILTER_PARAMS if str(filters.data.get(name, "")).strip())
