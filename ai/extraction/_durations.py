"""Waits as payers say them: "seven to ten business days", "two weeks", "the end of the month"."""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass
from datetime import date, timedelta

from ai.extraction._numbers import Token, number_groups, tokens

DURATION_UNITS = {
    "day": 1,
    "days": 1,
    "week": 7,
    "weeks": 7,
    "month": 30,
    "months": 30,
}


@dataclass(frozen=True)
class Duration:
    days: int  # calendar days
    start: int
    end: int
    phrase: str


def business_to_calendar(n: int) -> int:
    return math.ceil(n * 7 / 5)


def days_ago(toks: list[Token], i: int) -> tuple[int, int] | None:
    """(days back, index after) for "two weeks ago" / "three days ago today" at ``toks[i]``."""
    n, k = _quantity(toks, i)
    if n is None or k + 1 >= len(toks) or toks[k].low not in ("day", "days", "week", "weeks"):
        return None
    if toks[k + 1].low != "ago":
        return None
    days = n * DURATION_UNITS[toks[k].low]
    k += 2
    if k < len(toks) and toks[k].low == "today":
        k += 1
    return days, k


def _quantity(toks: list[Token], i: int) -> tuple[int | None, int]:
    """A count at ``toks[i]``: "10", "ten", "a", "a couple of", "fifteen"."""
    if i >= len(toks):
        return None, i
    low = toks[i].low
    if low == "a" and i + 1 < len(toks) and toks[i + 1].low in ("hundred", "thousand"):
        groups, after = number_groups(toks, i)  # "a hundred and eighty days"
        return (groups[0].value, after) if len(groups) == 1 else (None, i)
    if low == "a" or low == "an":
        if i + 2 < len(toks) and toks[i + 1].low == "couple" and toks[i + 2].low == "of":
            return 2, i + 3
        if i + 1 < len(toks) and toks[i + 1].low == "couple":
            return 2, i + 2
        return 1, i + 1
    if low == "couple":
        k = i + 2 if i + 1 < len(toks) and toks[i + 1].low == "of" else i + 1
        return 2, k
    if toks[i].text.isdigit():
        return int(toks[i].text), i + 1
    groups, after = number_groups(toks, i)
    if len(groups) == 1 and groups[0].kind != "cents":
        return groups[0].value, after
    return None, i


def durations(text: str, today: date | None = None) -> list[Duration]:
    """Waits in ``text`` as calendar days: "ten business days" → 14, "two weeks" → 14, "a month"
    → 30, "seven to ten business days" → the upper bound, "the end of the month" (needs ``today``)."""
    toks = tokens(text)
    found: list[Duration] = []
    i = 0
    while i < len(toks):
        n, k = _quantity(toks, i)
        if n is None:
            if today is not None and toks[i].low == "end" and i + 2 < len(toks) and toks[i + 1].low == "of":
                k = i + 2
                rel = 0
                if toks[k].low in ("the", "this"):
                    k += 1
                elif toks[k].low == "next":
                    rel, k = 1, k + 1
                if k < len(toks) and toks[k].low in ("month", "week"):
                    if toks[k].low == "month":
                        y, m = today.year, today.month + rel
                        if m > 12:
                            y, m = y + 1, m - 12
                        target = date(y, m, calendar.monthrange(y, m)[1])
                    else:
                        target = today + timedelta(days=(4 - today.weekday()) % 7 + 7 * rel)
                    found.append(Duration((target - today).days, toks[i].start, toks[k].end, "end of " + toks[k].low))
                    i = k + 1
                    continue
            i += 1
            continue
        upper = n
        # a range: "seven to ten", "five or six", "5-7"
        if k + 1 < len(toks) and toks[k].low in ("to", "or", "-"):
            m2, k2 = _quantity(toks, k + 1)
            if m2 is not None and m2 > n:
                upper, k = m2, k2
        business = False
        if k < len(toks) and toks[k].low in ("additional", "more", "extra", "further"):
            k += 1  # "fourteen additional days", "ten more business days"
        if k < len(toks) and toks[k].low in ("business", "working"):
            business, k = True, k + 1
        elif k < len(toks) and toks[k].low == "calendar":
            k += 1
        if k < len(toks) and toks[k].text == "-":
            k += 1
        if k < len(toks) and toks[k].low in ("hour", "hours"):
            # "forty-eight to seventy-two hours" is three days
            found.append(
                Duration(max(1, math.ceil(upper / 24)), toks[i].start, toks[k].end, text[toks[i].start : toks[k].end])
            )
            i = k + 1
            continue
        if k < len(toks) and toks[k].low in DURATION_UNITS:
            unit = toks[k].low
            if business and unit.startswith("day"):
                days = business_to_calendar(upper)
            elif business and unit.startswith("week"):
                days = upper * 7
            else:
                days = upper * DURATION_UNITS[unit]
            if not (k + 1 < len(toks) and toks[k + 1].low == "ago"):  # "two weeks ago" is not a wait
                found.append(Duration(days, toks[i].start, toks[k].end, text[toks[i].start : toks[k].end]))
            i = k + 1
            continue
        i += 1
    return found
