"""Money as payers say it: "$312.40", "three hundred twelve dollars and forty cents", "one seventy-seven eighteen"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from ai.extraction._dates import DURATION_UNITS, dates
from ai.extraction._numbers import DIGITS, Group, Token, number_groups, numberish, tokens


@dataclass(frozen=True)
class Amount:
    value: Decimal
    start: int
    end: int
    explicit: bool  # said with "$", "dollars" or "cents", or as 312.40


_MONEY_WORDS = {"dollar", "dollars", "buck", "bucks"}
# What a bare number before these words counts: "two of the four", "four units", "three lines".
_COUNTED = {"of", "units", "unit", "lines", "line", "visits", "claims", "times", "items", "codes", "modifiers"}
_DIGIT_MONEY = re.compile(
    r"\$\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?"
    r"|\b(\d{1,3}(?:,\d{3})+|\d+)\.(\d{2})\b(?![.\d])"
    r"|\b(\d{1,3}(?:,\d{3})+|\d+)\s+dollars?(?:\s+and\s+(\d{1,2})\s+cents?)?",
)


def _shorthand(groups: list[Group]) -> Decimal | None:
    """Money said the way reps read it: "one seventy-seven eighteen" → 177.18."""
    values = [g.value for g in groups]
    kinds = [g.kind for g in groups]
    if len(groups) == 1:
        return Decimal(values[0])
    if len(groups) == 2:
        a, b = values
        if kinds[0] == "small" and 1 <= a <= 9 and 10 <= b <= 99 and kinds[1] == "small":
            return Decimal(a * 100 + b)
        if (kinds[1] == "cents" or (10 <= b <= 99)) and (kinds[0] == "big" or 10 <= a <= 99):
            return Decimal(a) + Decimal(b) / 100
        return None
    if len(groups) == 3:
        a, b, c = values
        hundreds = kinds[0] == "small" and 1 <= a <= 9 and 10 <= b <= 99 and kinds[1] == "small"
        if hundreds and (kinds[2] == "cents" or 10 <= c <= 99):
            return Decimal(a * 100 + b) + Decimal(c) / 100
        # "twelve oh four fifty" → 1204.50: hundreds, "oh" and a digit, then the cents
        if kinds[0] == "small" and 10 <= a <= 99 and kinds[1] == "cents" and kinds[2] != "cents" and 10 <= c <= 99:
            return Decimal(a * 100 + b) + Decimal(c) / 100
    return None


def amounts(text: str) -> list[Amount]:
    """Money amounts in ``text``: "$312.40", "312 dollars", words and payer shorthand.

    Number words that belong to dates ("March thirty-first"), percentages, durations or
    spelled identifiers are not money.
    """
    found: list[Amount] = []
    taken: list[tuple[int, int]] = [(d.start, d.end) for d in dates(text)]
    for m in _DIGIT_MONEY.finditer(text):
        whole = m.group(1) or m.group(3) or m.group(5)
        # After a point the digits are a fraction ("$312.4" is 312.40); "and 8 cents" counts cents.
        decimals = m.group(2) or m.group(4)
        cents = Decimal(decimals.ljust(2, "0")) if decimals else Decimal(m.group(6) or 0)
        value = Decimal(whole.replace(",", "")) + cents / 100
        found.append(Amount(value.quantize(Decimal("0.01")), m.start(), m.end(), True))
        taken.append((m.start(), m.end()))
    toks = tokens(text)
    i = 0
    while i < len(toks):
        tok = toks[i]
        if any(s <= tok.start < e for s, e in taken) or not (
            numberish(tok) or (tok.low == "a" and i + 1 < len(toks) and toks[i + 1].low in ("hundred", "thousand"))
        ):
            i += 1
            continue
        # a number word glued to a spelled run ("2-0-6-1-0", "four-seven-one") is an identifier
        if i > 0 and toks[i - 1].text == "-" and i > 1 and (toks[i - 2].text.isdigit() or toks[i - 2].low in DIGITS):
            i += 1
            continue
        groups, after = number_groups(toks, i)
        if not groups:
            i += 1
            continue
        j = after
        nxt = toks[j].low if j < len(toks) else ""
        if nxt == "-" and j + 1 < len(toks):
            j += 1
            nxt = toks[j].low
        start, end = groups[0].start, groups[-1].end
        value: Decimal | None = None
        explicit = False
        if nxt in _MONEY_WORDS:
            explicit = True
            end = toks[j].end
            head = groups
            # "ninety-four dollars and twelve cents" / "forty-four dollars twenty-nine"
            cents_groups, k = _cents_after(toks, j + 1)
            if len(head) == 1:
                value = Decimal(head[0].value)
            elif len(head) == 2 and head[0].kind == "small" and 1 <= head[0].value <= 9 and head[1].value >= 10:
                value = Decimal(head[0].value * 100 + head[1].value)
            if value is not None and cents_groups is not None:
                value += Decimal(cents_groups.value) / 100
                end = cents_groups.end
                after = k
            else:
                after = j + 1
        elif nxt in ("cents", "cent") and len(groups) == 1 and groups[0].value < 100:
            value, explicit, end, after = Decimal(groups[0].value) / 100, True, toks[j].end, j + 1
        elif nxt in ("percent", "%") or nxt in DURATION_UNITS or nxt in ("business", "working", "calendar"):
            value = None
        elif nxt in _COUNTED and len(groups) == 1:
            value = None  # "paid two of the four units": a count, not money
        else:
            value = _shorthand(groups)
            if value is not None and nxt == "even":
                end, after = toks[j].end, j + 1
        if value is not None:
            found.append(Amount(value.quantize(Decimal("0.01")), start, end, explicit))
        i = max(after, i + 1)
    found.sort(key=lambda a: a.start)
    return found


def _cents_after(toks: list[Token], k: int) -> tuple[Group | None, int]:
    if k < len(toks) and toks[k].low == "and":
        k += 1
    groups, after = number_groups(toks, k)
    if len(groups) == 1 and groups[0].value < 100:
        if after < len(toks) and toks[after].low in ("cents", "cent"):
            return Group(groups[0].value, "cents", groups[0].start, toks[after].end), after + 1
        return groups[0], after
    return None, k


def number_value(text: str) -> int | None:
    """A whole number said in digits or words ("ten", "forty-five", "a hundred and eighty")."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    toks = tokens(text)
    if len(toks) == 1 and toks[0].low == "a":
        return 1
    groups, after = number_groups(toks, 0)
    if not groups or after != len(toks):
        return None
    if len(groups) == 1:
        return groups[0].value
    if len(groups) == 2 and groups[0].kind == "small" and 1 <= groups[0].value <= 9 and groups[1].value >= 10:
        return groups[0].value * 100 + groups[1].value  # "one ninety-seven"
    return None
