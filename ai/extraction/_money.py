"""Money as payers say it: "$312.40", "three hundred twelve dollars and forty cents", "one seventy-seven eighteen"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from ai.extraction._dates import dates
from ai.extraction._durations import DURATION_UNITS
from ai.extraction._numbers import DIGITS, Group, Token, index_after, number_groups, numberish, tokens


@dataclass(frozen=True)
class Amount:
    value: Decimal
    start: int
    end: int
    explicit: bool  # said with "$", "dollars" or "cents", or as 312.40 / "three twelve point four oh"
    cents_only: bool = False  # "seventy-one cents" on its own: a piece of an amount, rarely a whole one


_MONEY_WORDS = {"dollar", "dollars", "buck", "bucks"}
# What a bare number before these words counts: "two of the four", "four units", "one claim", "1 line".
_COUNTED = {
    *("of", "units", "unit", "lines", "line", "visits", "visit", "claims", "claim", "times", "time", "items"),
    *("item", "codes", "code", "modifiers", "modifier", "services", "service", "procedures", "procedure"),
    *("cleanings", "cleaning", "sessions", "session", "each", "per", "more", "other", "another", "left"),
}
# Dollars before the point in the largest amount a claim can carry (the money columns hold 12
# digits, 2 after the point).
MAX_WHOLE_DIGITS = 10
_DIGIT_MONEY = re.compile(
    r"\$\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?"
    r"|\b(\d{1,3}(?:,\d{3})+|\d+)\.(\d{2})\b(?!\.?\d)"
    r"|\b(\d{1,3}(?:,\d{3})+|\d+)\s+dollars?(?:,?\s+(?:and\s+)?(\d{1,2})\s+cents?)?"
    # "306 point 71": the decimal point said aloud
    r"|\b(\d{1,3}(?:,\d{3})+|\d+)\s+point\s+(\d{1,2})\b(?!\.?\d)(?!\s*(?:%|percent))",
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
        # "twelve eighty-six forty" → 1286.40: two pairs of dollars, then the cents
        if all(k == "small" for k in kinds) and 10 <= a <= 99 and 10 <= b <= 99 and 10 <= c <= 99:
            return Decimal(a * 100 + b) + Decimal(c) / 100
    return None


_THOUSAND_PAUSE = re.compile(r"(?<=thousand),(?=\s+[a-z])", re.I)


def amounts(text: str) -> list[Amount]:
    """Money amounts in ``text``: "$312.40", "312 dollars", words and payer shorthand.

    Number words that belong to dates ("March thirty-first"), percentages, durations or
    spelled identifiers are not money.
    """
    found: list[Amount] = []
    # "one thousand, one hundred fourteen dollars": the comma is a pause, not a break (same length, spans hold)
    text = _THOUSAND_PAUSE.sub(" ", text)
    taken: list[tuple[int, int]] = [(d.start, d.end) for d in dates(text)]
    for m in _DIGIT_MONEY.finditer(text):
        whole = m.group(1) or m.group(3) or m.group(5) or m.group(7)
        # After a point the digits are a fraction ("$312.4" is 312.40); "and 8 cents" counts cents.
        decimals = m.group(2) or m.group(4) or m.group(8)
        cents = Decimal(decimals.ljust(2, "0")) if decimals else Decimal(m.group(6) or 0)
        taken.append((m.start(), m.end()))
        digits = whole.replace(",", "")
        if len(digits) > MAX_WHOLE_DIGITS:
            continue  # a run of digits no amount has: an identifier or a misreading, never money
        value = Decimal(digits) + cents / 100
        found.append(Amount(value.quantize(Decimal("0.01")), m.start(), m.end(), True))
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
        explicit = cents_only = False
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
            cents_only = True
        elif nxt == "point":
            # "three hundred six point seven one": a point read aloud makes it exact, or unreadable
            whole = _shorthand(groups) if len(groups) == 1 else None
            cents_groups, k = _decimals_after(toks, j + 1)
            value = whole + cents_groups if whole is not None and cents_groups is not None else None
            # "twelve point six K" is a round figure in thousands, never the amount paid
            if value is not None and not (k < len(toks) and toks[k].low in ("percent", "%", "k", "grand")):
                explicit, end, after = True, toks[k - 1].end, k
            else:
                value, after = None, max(k, j + 1)
        elif (
            nxt == "and"
            and (dollars := _whole_dollars(groups)) is not None
            and (joined := _and_cents(dollars, toks, j))
        ):
            value, end, after = joined  # "three hundred six and seventy-one cents", "two eleven and sixty cents"
            explicit = True
        elif nxt in ("percent", "%") or nxt in DURATION_UNITS or nxt in ("business", "working", "calendar"):
            value = None
        elif nxt in _COUNTED and len(groups) == 1:
            value = None  # "paid two of the four units": a count, not money
        elif len(groups) == 1 and groups[0].value < 10 and groups[0].kind == "small":
            value = None  # a lone "one" or "two" with no money word is a count ("we paid one in September")
        else:
            value = _shorthand(groups)
            if nxt == "even":
                # "even" closes whole dollars: "twelve eighty-four even" is 1,284.00, never 12.84
                value = _whole_dollars(groups)
                if value is not None:
                    end, after = toks[j].end, j + 1
        if value is not None:
            found.append(Amount(value.quantize(Decimal("0.01")), start, end, explicit, cents_only))
        i = max(after, i + 1)
    found.sort(key=lambda a: a.start)
    return found


def _cents_after(toks: list[Token], k: int) -> tuple[Group | None, int]:
    """The cents after "dollars": "and twelve cents", "twenty-nine", ", seventy-one cents".

    After a comma the cents must be named ("three hundred six dollars, seventy-one cents"), so a
    count that follows ("forty dollars, two visits") stays apart.
    """
    start = k
    comma = k < len(toks) and toks[k].text == ","
    k += comma
    if k < len(toks) and toks[k].low == "and":
        k += 1
    groups, after = number_groups(toks, k)
    if len(groups) == 1 and groups[0].value < 100:
        if after < len(toks) and toks[after].low in ("cents", "cent"):
            return Group(groups[0].value, "cents", groups[0].start, toks[after].end), after + 1
        if not comma:
            return groups[0], after
    return None, start


def _whole_dollars(groups: list[Group]) -> Decimal | None:
    """Whole dollars said without the word: "three hundred six", "two eleven", "twelve eighty-four"."""
    if len(groups) == 1 and groups[0].kind != "cents":
        return Decimal(groups[0].value)
    if len(groups) == 2 and all(g.kind == "small" for g in groups):
        a, b = groups[0].value, groups[1].value
        if 1 <= a <= 99 and 10 <= b <= 99:
            return Decimal(a * 100 + b)
    return None


def _and_cents(dollars: Decimal, toks: list[Token], k: int) -> tuple[Decimal, int, int] | None:
    """(value, end, index after) for dollars left unsaid: "three hundred six and seventy-one cents"."""
    cents, after = _cents_after(toks, k)
    if cents is None or cents.kind != "cents":
        return None
    return dollars + Decimal(cents.value) / 100, cents.end, after


def _decimals_after(toks: list[Token], k: int) -> tuple[Decimal | None, int]:
    """The fraction after a spoken point: "seven one" or "seventy-one" is .71, "five" is .50, "oh five" .05."""
    digits: list[int] = []
    while k < len(toks) and len(digits) < 2 and (toks[k].low in DIGITS or toks[k].text.isdigit()):
        if toks[k].text.isdigit():
            digits.extend(int(c) for c in toks[k].text)
        else:
            digits.append(DIGITS[toks[k].low])
        k += 1
    if not digits:
        groups, after = number_groups(toks, k)
        if groups and 10 <= groups[0].value <= 99 and groups[0].kind == "small":
            return Decimal(groups[0].value) / 100, index_after(toks, groups[0].end, k)
        return None, k
    if len(digits) > 2 or (k < len(toks) and (toks[k].low in DIGITS or numberish(toks[k]))):
        return None, k  # more digits than cents hold: not an amount read with a point
    return Decimal(digits[0] * 10 + (digits[1] if len(digits) > 1 else 0)) / 100, k


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
