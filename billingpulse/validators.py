"""Validators for identifiers used across the product (NPI, tax id, phone numbers)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError


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
