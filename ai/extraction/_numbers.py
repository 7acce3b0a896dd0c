"""Number words as speech-to-text renders them: tokens, digits, teens, tens, hundreds, thousands.

The shared layer under the spoken identifiers, money, dates and codes in ``ai.extraction.spoken``.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

DIGITS = {
    "zero": 0,
    "oh": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "niner": 9,  # radio speech
}
TEENS = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fourty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
ORDINAL_UNITS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
    "thirtieth": 30,
}
MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): number for number, name in enumerate(calendar.month_abbr) if name})
MONTHS["sept"] = 9
WEEKDAYS = {name.lower(): number for number, name in enumerate(calendar.day_name)}
REPEATS = {"double": 2, "triple": 3}
DENIAL_GROUPS = ("CO", "PR", "OA", "PI", "CR")

# Words, numbers (with thousands commas and decimals), or single punctuation marks.
_TOKEN = re.compile(
    r"[A-Za-z]+\d[A-Za-z\d]*|\d+[A-Za-z][A-Za-z\d]*|[A-Za-z]+(?:'[A-Za-z]+)?|\d+(?:,\d{3})*(?:\.\d+)?|\S"
)


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int

    @property
    def low(self) -> str:
        return self.text.lower()


def tokens(text: str) -> list[Token]:
    return [Token(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def small_number(word: str) -> int | None:
    """0–99 for one number word ("seven", "fifteen", "ninety"); None otherwise."""
    word = word.lower()
    for table in (DIGITS, TEENS, TENS):
        if word in table:
            return table[word]
    return None


@dataclass
class Group:
    value: int
    kind: str  # "small" (0–99), "big" (with hundred/thousand), "cents" ("oh five")
    start: int
    end: int


def number_groups(toks: list[Token], i: int) -> tuple[list[Group], int]:
    """Read number words from ``toks[i]`` into groups; returns them and the index after."""
    groups: list[Group] = []
    n = len(toks)

    def skip_dash(k: int) -> int:
        return k + 1 if k < n and toks[k].text == "-" and k + 1 < n and numberish(toks[k + 1]) else k

    while i < n:
        tok = toks[i]
        low = tok.low
        if low == "a" and i + 1 < n and toks[i + 1].low in ("hundred", "thousand"):
            value, kind, start, i = 1, "small", tok.start, i + 1
            end = tok.end
        elif low in TEENS or low in DIGITS and low != "oh":
            value = TEENS.get(low, DIGITS.get(low, 0))
            kind, start, end = "small", tok.start, tok.end
            i += 1
        elif low == "oh" and i + 1 < n and toks[i + 1].low in DIGITS and toks[i + 1].low != "oh":
            groups.append(Group(DIGITS[toks[i + 1].low], "cents", tok.start, toks[i + 1].end))
            i += 2
            continue
        elif low in TENS:
            value, kind, start, end = TENS[low], "small", tok.start, tok.end
            k = skip_dash(i + 1)
            if k < n and toks[k].low in DIGITS and toks[k].low not in ("zero", "oh"):
                value += DIGITS[toks[k].low]
                end = toks[k].end
                i = k + 1
            else:
                i += 1
        else:
            break
        # "hundred" / "thousand" multiply what came before and may take a tail
        k = skip_dash(i)
        if k < n and toks[k].low == "hundred":
            value, kind, end = value * 100, "big", toks[k].end
            i = k + 1
            k = i + 1 if i < n and toks[i].low == "and" and i + 1 < n and numberish(toks[i + 1]) else i
            tail, after = _tail(toks, k)
            if tail is not None:
                value += tail.value
                end, i = tail.end, after
            k = skip_dash(i)
        if k < n and toks[k].low == "thousand":
            value, kind, end = value * 1000, "big", toks[k].end
            i = k + 1
            k = i + 1 if i < n and toks[i].low == "and" and i + 1 < n and numberish(toks[i + 1]) else i
            sub, after = number_groups(toks, k)
            if sub and sub[0].value < 1000 and sub[0].kind != "cents":
                value += sub[0].value
                end = sub[0].end
                # only the first group belongs to the thousand; re-read the rest normally
                i = index_after(toks, sub[0].end, k)
        groups.append(Group(value, kind, start, end))
        i = skip_dash(i)
    return groups, i


def _tail(toks: list[Token], k: int) -> tuple[Group | None, int]:
    """The 1–99 after "hundred" ("three hundred twelve")."""
    if k >= len(toks):
        return None, k
    low = toks[k].low
    if low in TEENS or (low in DIGITS and low not in ("zero", "oh")):
        return Group(TEENS.get(low, DIGITS.get(low, 0)), "small", toks[k].start, toks[k].end), k + 1
    if low in TENS:
        value, end, after = TENS[low], toks[k].end, k + 1
        j = k + 1
        if j < len(toks) and toks[j].text == "-":
            j += 1
        if j < len(toks) and toks[j].low in DIGITS and toks[j].low not in ("zero", "oh"):
            value += DIGITS[toks[j].low]
            end, after = toks[j].end, j + 1
        return Group(value, "small", toks[k].start, end), after
    return None, k


def index_after(toks: list[Token], end: int, start_index: int) -> int:
    for k in range(start_index, len(toks)):
        if toks[k].start >= end:
            return k
    return len(toks)


def numberish(tok: Token) -> bool:
    low = tok.low
    return low in DIGITS or low in TEENS or low in TENS or low in ("hundred", "thousand")
