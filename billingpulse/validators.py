"""Validators shared across the product: identifiers (NPI, tax id, phone numbers) and the
bounds every date and id must stay within, whichever door a value comes in by (model, form,
serializer, import, query parameter)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from django.core.exceptions import ValidationError

# The dates a practice can mean: birth dates from 1900, service, filing and follow-up dates
# up to 2199. Far enough for any real date; far enough from year 9999 that arithmetic on a
# date (a deadline, a follow-up interval) can never overflow.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)
# The largest primary key a BigAutoField holds; a larger "id" names no row.
MAX_ID = 2**63 - 1
# An id in a URL: up to 18 digits, so every match fits MAX_ID and the database never sees
# an integer it cannot hold; a longer one is simply not a route (404).
ID_REGEX = "[0-9]{1,18}"


class IdConverter:
    """``<id:pk>`` in URL patterns: a primary key that fits the database."""

    regex = ID_REGEX

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


def validate_date_in_range(value: date) -> None:
    if value is not None and not (EARLIEST_DATE <= value <= LATEST_DATE):
        raise ValidationError(
            "Enter a date between %(earliest)s and %(latest)s.",
            code="date_out_of_range",
            params={"earliest": EARLIEST_DATE.strftime("%m/%d/%Y"), "latest": LATEST_DATE.strftime("%m/%d/%Y")},
        )


def add_days(start: date, days: int) -> date:
    """``start`` plus ``days``, held at the last representable date instead of overflowing."""
    try:
        return start + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def is_valid_id(value: object) -> bool:
    """Whether ``value`` could be a primary key: a positive integer a BigAutoField can hold."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def validate_npi(value: str) -> None:
    """An NPI is 10 digits whose last is a Luhn check digit over the prefix 80840.

    CMS defines the check digit on the NPI as if it were the ISO card number
    ``80840`` + NPI, so the Luhn check runs on those 15 digits.
    """
    if not re.fullmatch(r"\d{10}", value or ""):
        raise ValidationError("An NPI is exactly 10 digits.", code="npi_format")
    if not luhn_valid("80840" + value):
        raise ValidationError(
            "This NPI is not valid: its last digit does not match. Check it for a typo.",
            code="npi_checksum",
        )


def validate_tax_id(value: str) -> None:
    if not re.fullmatch(r"\d{2}-?\d{7}", value or ""):
        raise ValidationError("A tax ID (EIN) has 9 digits, written like 12-3456789.", code="tax_id_format")


def normalize_tax_id(value: str) -> str:
    digits = re.sub(r"\D", "", value or "")
    return f"{digits[:2]}-{digits[2:]}" if len(digits) == 9 else value


def normalize_us_phone(value: str) -> str:
    """Return a US phone number in E.164 (+15125550100), or the input if it is not one."""
    digits = re.sub(r"\D", "", value or "")
    if len(digits) == 10:
        digits = "1" + digits
    if len(digits) == 11 and digits.startswith("1"):
        return "+" + digits
    return (value or "").strip()


def validate_phone(value: str) -> None:
    if not re.fullmatch(r"\+[1-9]\d{7,14}", value or ""):
        raise ValidationError(
            "Enter a phone number with area code, like (512) 555-0100 or +15125550100.",
            code="phone_format",
        )
