"""How people say numbers, dates and codes on a payer line, for the sandbox's transcripts.

Real transcripts mix styles: a transcriber writes "$142.50" for one speaker and "one
hundred forty-two dollars and fifty cents" for another, and a reference number is read
digit by digit or with a phonetic alphabet ("R as in Robert"). The functions here give
each of those forms, so the sandbox's calls read like calls and exercise the extractor.
"""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_ORDINAL_ENDINGS = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth"}
_ORDINAL_ENDINGS |= {"nine": "ninth", "twelve": "twelfth"}
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
# The alphabet payer representatives use to spell; not the NATO one.
PHONETIC = dict(
    zip(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        [
            "Adam",
            "Boy",
            "Charlie",
            "David",
            "Edward",
            "Frank",
            "George",
            "Henry",
            "Ida",
            "John",
            "King",
            "Lincoln",
            "Mary",
            "Nancy",
            "Ocean",
            "Peter",
            "Queen",
            "Robert",
            "Sam",
            "Tom",
            "Union",
            "Victor",
            "William",
            "X-ray",
            "Young",
            "Zebra",
        ],
        strict=True,
    )
)


def number_words(n: int) -> str:
    """``142`` as ``one hundred forty-two`` (0 … 999,999)."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_ONES[hundreds]} hundred" + (f" {number_words(rest)}" if rest else "")
    thousands, rest = divmod(n, 1000)
    return f"{number_words(thousands)} thousand" + (f" {number_words(rest)}" if rest else "")


def ordinal_words(n: int) -> str:
    """``23`` as ``twenty-third``."""
    words = number_words(n)
    head, sep, last = words.rpartition("-")
    if last in _ORDINAL_ENDINGS:
        last = _ORDINAL_ENDINGS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return f"{head}{sep}{last}"


def year_words(year: int) -> str:
    """``1979`` as ``nineteen seventy-nine``, ``2005`` as ``two thousand five``."""
    if 2000 <= year < 2010:
        return "two thousand" + (f" {number_words(year - 2000)}" if year > 2000 else "")
    high, low = divmod(year, 100)
    if low == 0:
        return f"{number_words(high)} hundred"
    return f"{number_words(high)} {'oh ' if low < 10 else ''}{number_words(low)}"


def spoken_date(day: date, rng: random.Random, *, year: bool = True) -> str:
    """A date as a caller or representative says it; the style varies."""
    style = rng.randrange(3)
    if style == 0:
        text = f"{MONTHS[day.month - 1]} {ordinal_words(day.day)}"
        return f"{text}, {year_words(day.year)}" if year else text
    if style == 1:
        text = f"{MONTHS[day.month - 1]} {day.day}"
        return f"{text}, {day.year}" if year else text
    text = f"{day.month}/{day.day}"
    return f"{text}/{day.year}" if year else text


def birth_date(day: date, *, short: bool = False) -> str:
    """A date of birth: ``May eleventh, nineteen seventy-nine``, or short as a representative
    reads it back: ``five eleven seventy-nine``."""
    if not short:
        return f"{MONTHS[day.month - 1]} {ordinal_words(day.day)}, {year_words(day.year)}"
    year = day.year % 100
    return f"{number_words(day.month)} {number_words(day.day)} {'oh ' if year < 10 else ''}{number_words(year)}"


def money(amount: Decimal, rng: random.Random) -> str:
    """An amount the way a transcriber writes it: digits, or words."""
    amount = Decimal(amount).quantize(Decimal("0.01"))
    dollars, cents = int(amount), int((amount % 1) * 100)
    style = rng.randrange(3)
    if style == 0:
        return f"${amount:,.2f}"
    if style == 1:
        return f"{dollars:,} dollars" + (f" and {cents} cents" if cents else "")
    return f"{number_words(dollars)} dollars" + (f" and {number_words(cents)} cents" if cents else "")


def digits(text: str) -> str:
    """``W482019375`` as ``W-4-8-2-0-1-9-3-7-5``: one character at a time."""
    return "-".join(ch for ch in text if ch.isalnum())


def grouped_digits(text: str) -> str:
    """A long number read in groups of three or four: ``260 147 7318``."""
    chars = [ch for ch in text if ch.isalnum()]
    groups, size = [], 3 if len(chars) % 4 else 4
    while chars:
        groups.append("".join(chars[:size]))
        chars = chars[size:]
    return " ".join(groups)


def phonetic(text: str) -> str:
    """``CR55012`` as ``C as in Charlie, R as in Robert, 5-5-0-1-2``."""
    parts: list[str] = []
    run = ""
    for ch in text:
        if ch.isdigit():
            run += ch
            continue
        if run:
            parts.append(digits(run))
            run = ""
        if ch.isalpha():
            parts.append(f"{ch.upper()} as in {PHONETIC[ch.upper()]}")
    if run:
        parts.append(digits(run))
    return ", ".join(parts)


def denial_code(code: str, rng: random.Random) -> str:
    """``CO-16`` as a representative reads it: ``CO-16``, ``C-O 16`` or ``reason code 16, group CO``."""
    group, _, number = code.partition("-")
    if not number:
        return f"reason code {code}"
    style = rng.randrange(3)
    if style == 0:
        return code
    if style == 1:
        return f"{'-'.join(group)} {number}"
    return f"reason code {number}, group code {group}"
