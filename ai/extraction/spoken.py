"""How payer lines speak numbers, letters, money, dates and durations.

Transcripts render speech as the speech-to-text heard it: identifiers come as "2-0-2-6-L as
in Lima, 0-0-8-4" or "four seven one, double five", money as "one seventy-seven eighteen" or
"three hundred twelve dollars and forty cents", dates as "the twenty-ninth of last month".
Everything here is pure text handling (standard library only); each finder returns spans
(start/end offsets into the text it was given) so callers can tell what a value follows.
"""

from __future__ import annotations

import calendar
import math
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

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


# ---------------------------------------------------------------------------------------------
# Identifiers: spelled-out runs of letters and digits
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spelled:
    """A run of characters read out one by one (or in small groups): "R471", "15187720439"."""

    chunks: tuple[str, ...]
    start: int
    end: int

    @property
    def value(self) -> str:
        return "".join(self.chunks)

    def runs(self) -> set[str]:
        """Every contiguous run of chunks, for matching a value read as part of a longer run."""
        found = set()
        for i in range(len(self.chunks)):
            for j in range(i + 1, len(self.chunks) + 1):
                found.add("".join(self.chunks[i:j]))
        return found


_JOINERS = {"-", ",", "dash"}
_PHONETIC_LINKS = (("as", "in"), ("like",), ("for",))


def _is_char_token(tok: Token) -> bool:
    """A digit string or a mixed letters-and-digits token ("J0585", "0413E22581")."""
    text = tok.text
    if "." in text or "," in text:
        return False
    return text.isdigit() or (text.isalnum() and any(c.isdigit() for c in text) and any(c.isalpha() for c in text))


def spelled_runs(text: str) -> list[Spelled]:
    """The identifier-like runs in ``text``, in order.

    A run is digits and single capital letters joined by dashes, commas or spaces; number
    words count as their digits ("four seven one", "oh", "double five", "twenty-six" as 26);
    "X as in Xray" counts once as X. Sentence ends, other words, "hundred" and money break a run.
    """
    toks = tokens(text)
    runs: list[Spelled] = []
    chunks: list[str] = []
    start = end = 0
    i = 0

    def close() -> None:
        nonlocal chunks
        if chunks:
            runs.append(Spelled(tuple(chunks), start, end))
        chunks = []

    def add(chunk: str, tok_start: int, tok_end: int) -> None:
        nonlocal start, end
        if not chunks:
            start = tok_start
        chunks.append(chunk)
        end = tok_end

    def neighbour_is_char(j: int, step: int) -> bool:
        # A single letter belongs to a run only when a dash or comma ties it to another character.
        k = j + step
        if not (0 <= k < len(toks)) or toks[k].text not in ("-", ","):
            return False
        k += step
        if not (0 <= k < len(toks)):
            return False
        other = toks[k]
        return (
            _is_char_token(other)
            or (len(other.text) == 1 and other.text.isupper())
            or other.low in DIGITS
            or other.low in TEENS
            or other.low in TENS
        )

    while i < len(toks):
        tok = toks[i]
        low = tok.low
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if _is_char_token(tok):
            add(tok.text.upper(), tok.start, tok.end)
        elif len(tok.text) == 1 and tok.text.isalpha() and tok.text.isupper():
            phonetic = _phonetic_span(toks, i)
            # "I" or "A" before a word ("..., I misread it") is speech, not a character
            before_word = nxt is not None and nxt.text.isalpha() and nxt.text.islower()
            dashed = (i > 0 and toks[i - 1].text == "-") or (nxt is not None and nxt.text == "-")
            joined = neighbour_is_char(i, 1) or (chunks and neighbour_is_char(i, -1))
            if phonetic or (joined and (dashed or not before_word)):
                add(tok.text, tok.start, toks[i + phonetic].end if phonetic else tok.end)
                i += phonetic + 1
                continue
            close()
        elif low in REPEATS and nxt is not None and nxt.low in DIGITS:
            add(str(DIGITS[nxt.low]) * REPEATS[low], tok.start, nxt.end)
            i += 2
            continue
        elif low in DIGITS:
            if low == "oh" and not (chunks or (nxt is not None and (nxt.low in DIGITS or nxt.text.isdigit()))):
                close()
            else:
                add(str(DIGITS[low]), tok.start, tok.end)
        elif low in TEENS:
            add(str(TEENS[low]), tok.start, tok.end)
        elif low in TENS:
            # "twenty-six" / "twenty six" → 26; a bare "seventy" → 70
            k = i + 1
            if k < len(toks) and toks[k].text == "-":
                k += 1
            if k < len(toks) and toks[k].low in DIGITS and toks[k].low not in ("zero", "oh"):
                add(str(TENS[low] + DIGITS[toks[k].low]), tok.start, toks[k].end)
                i = k + 1
                continue
            add(str(TENS[low]), tok.start, tok.end)
        elif low in _JOINERS and chunks:
            pass
        else:
            close()
        i += 1
    close()
    return runs


def _phonetic_span(toks: list[Token], i: int) -> int:
    """How many tokens after a letter spell it out ("as in Robert" → 3), 0 when none."""
    letter = toks[i].text.lower()
    for link in _PHONETIC_LINKS:
        k = i + 1
        if all(k + n < len(toks) and toks[k + n].low == word for n, word in enumerate(link)):
            k += len(link)
            if k < len(toks) and toks[k].text.isalpha() and toks[k].low[0] == letter and len(toks[k].text) > 1:
                return k - i
    return 0


def spelled_values(text: str) -> set[str]:
    """Every identifier value ``text`` states, including runs read as part of a longer one."""
    found: set[str] = set()
    for run in spelled_runs(text):
        if len(run.chunks) <= 24:
            found |= run.runs()
        else:
            found.add(run.value)
    return found


def alnum(value: object) -> str:
    return re.sub(r"[^A-Z0-9]", "", str(value).upper())


# ---------------------------------------------------------------------------------------------
# Numbers and money in words
# ---------------------------------------------------------------------------------------------


@dataclass
class _Group:
    value: int
    kind: str  # "small" (0–99), "big" (with hundred/thousand), "cents" ("oh five")
    start: int
    end: int


@dataclass(frozen=True)
class Amount:
    value: Decimal
    start: int
    end: int
    explicit: bool  # said with "$", "dollars" or "cents", or as 312.40


_MONEY_WORDS = {"dollar", "dollars", "buck", "bucks"}
_DIGIT_MONEY = re.compile(
    r"\$\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?"
    r"|\b(\d{1,3}(?:,\d{3})+|\d+)\.(\d{2})\b(?![.\d])"
    r"|\b(\d{1,3}(?:,\d{3})+|\d+)\s+dollars?(?:\s+and\s+(\d{1,2})\s+cents?)?",
)


def _number_groups(toks: list[Token], i: int) -> tuple[list[_Group], int]:
    """Read number words from ``toks[i]`` into groups; returns them and the index after."""
    groups: list[_Group] = []
    n = len(toks)

    def skip_dash(k: int) -> int:
        return k + 1 if k < n and toks[k].text == "-" and k + 1 < n and _numberish(toks[k + 1]) else k

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
            groups.append(_Group(DIGITS[toks[i + 1].low], "cents", tok.start, toks[i + 1].end))
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
            k = i + 1 if i < n and toks[i].low == "and" and i + 1 < n and _numberish(toks[i + 1]) else i
            tail, after = _tail(toks, k)
            if tail is not None:
                value += tail.value
                end, i = tail.end, after
            k = skip_dash(i)
        if k < n and toks[k].low == "thousand":
            value, kind, end = value * 1000, "big", toks[k].end
            i = k + 1
            k = i + 1 if i < n and toks[i].low == "and" and i + 1 < n and _numberish(toks[i + 1]) else i
            sub, after = _number_groups(toks, k)
            if sub and sub[0].value < 1000 and sub[0].kind != "cents":
                value += sub[0].value
                end = sub[0].end
                # only the first group belongs to the thousand; re-read the rest normally
                i = _index_after(toks, sub[0].end, k)
        groups.append(_Group(value, kind, start, end))
        i = skip_dash(i)
    return groups, i


def _tail(toks: list[Token], k: int) -> tuple[_Group | None, int]:
    """The 1–99 after "hundred" ("three hundred twelve")."""
    if k >= len(toks):
        return None, k
    low = toks[k].low
    if low in TEENS or (low in DIGITS and low not in ("zero", "oh")):
        return _Group(TEENS.get(low, DIGITS.get(low, 0)), "small", toks[k].start, toks[k].end), k + 1
    if low in TENS:
        value, end, after = TENS[low], toks[k].end, k + 1
        j = k + 1
        if j < len(toks) and toks[j].text == "-":
            j += 1
        if j < len(toks) and toks[j].low in DIGITS and toks[j].low not in ("zero", "oh"):
            value += DIGITS[toks[j].low]
            end, after = toks[j].end, j + 1
        return _Group(value, "small", toks[k].start, end), after
    return None, k


def _index_after(toks: list[Token], end: int, start_index: int) -> int:
    for k in range(start_index, len(toks)):
        if toks[k].start >= end:
            return k
    return len(toks)


def _numberish(tok: Token) -> bool:
    low = tok.low
    return low in DIGITS or low in TEENS or low in TENS or low in ("hundred", "thousand")


def _shorthand(groups: list[_Group]) -> Decimal | None:
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
        cents = m.group(2) or m.group(4) or m.group(6) or "0"
        value = Decimal(whole.replace(",", "")) + Decimal(cents.ljust(2, "0")) / 100
        found.append(Amount(value.quantize(Decimal("0.01")), m.start(), m.end(), True))
        taken.append((m.start(), m.end()))
    toks = tokens(text)
    i = 0
    while i < len(toks):
        tok = toks[i]
        if any(s <= tok.start < e for s, e in taken) or not (
            _numberish(tok) or (tok.low == "a" and i + 1 < len(toks) and toks[i + 1].low in ("hundred", "thousand"))
        ):
            i += 1
            continue
        # a number word glued to a spelled run ("2-0-6-1-0", "four-seven-one") is an identifier
        if i > 0 and toks[i - 1].text == "-" and i > 1 and (toks[i - 2].text.isdigit() or toks[i - 2].low in DIGITS):
            i += 1
            continue
        groups, after = _number_groups(toks, i)
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
        elif nxt in ("percent", "%") or nxt in _DURATION_UNITS or nxt in ("business", "working", "calendar"):
            value = None
        else:
            value = _shorthand(groups)
            if value is not None and nxt == "even":
                end, after = toks[j].end, j + 1
        if value is not None:
            found.append(Amount(value.quantize(Decimal("0.01")), start, end, explicit))
        i = max(after, i + 1)
    found.sort(key=lambda a: a.start)
    return found


def _cents_after(toks: list[Token], k: int) -> tuple[_Group | None, int]:
    if k < len(toks) and toks[k].low == "and":
        k += 1
    groups, after = _number_groups(toks, k)
    if len(groups) == 1 and groups[0].value < 100:
        if after < len(toks) and toks[after].low in ("cents", "cent"):
            return _Group(groups[0].value, "cents", groups[0].start, toks[after].end), after + 1
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
    groups, after = _number_groups(toks, 0)
    if not groups or after != len(toks):
        return None
    if len(groups) == 1:
        return groups[0].value
    if len(groups) == 2 and groups[0].kind == "small" and 1 <= groups[0].value <= 9 and groups[1].value >= 10:
        return groups[0].value * 100 + groups[1].value  # "one ninety-seven"
    return None


# ---------------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DateMention:
    """A date as said: any of its parts may be missing or relative."""

    start: int
    end: int
    day: int | None
    month: int | None = None
    year: int | None = None
    month_offset: int | None = None  # "of last month" = -1, "of this month" = 0
    weekday: int | None = None  # "last Friday" / "next Tuesday"
    week_offset: int = 0  # -1 last, +1 next, 0 plain
    relative_days: int | None = None  # today 0, tomorrow 1, yesterday -1

    def resolve(self, today: date | None, direction: str = "past") -> date | None:
        """The calendar date meant, counted from ``today``; ``direction`` decides a missing year."""
        if self.relative_days is not None:
            return today + timedelta(days=self.relative_days) if today else None
        if self.day is None and self.weekday is not None:
            return _weekday(today, self.weekday, self.week_offset, direction) if today else None
        if self.day is None:
            return None
        if self.month is not None and self.year is not None:
            return _safe_date(self.year, self.month, self.day)
        if today is None:
            return None
        if self.month_offset is not None:
            y, m = today.year, today.month + self.month_offset
            while m < 1:
                y, m = y - 1, m + 12
            while m > 12:
                y, m = y + 1, m - 12
            return _safe_date(y, m, self.day)
        if self.month is not None:
            candidates = [_safe_date(y, self.month, self.day) for y in (today.year - 1, today.year, today.year + 1)]
        else:
            candidates = []
            for offset in (-1, 0, 1):
                y, m = today.year, today.month + offset
                if m < 1:
                    y, m = y - 1, 12
                if m > 12:
                    y, m = y + 1, 1
                candidates.append(_safe_date(y, m, self.day))
        valid = [c for c in candidates if c is not None]
        if direction == "past":
            past = [c for c in valid if c <= today]
            return max(past) if past else None
        future = [c for c in valid if c >= today]
        return min(future) if future else None

    def states(self, value: date) -> bool:
        """Whether this mention can mean ``value`` (parts not said are not checked)."""
        if self.relative_days is not None or (self.day is None and self.weekday is not None):
            return self.weekday is None or value.weekday() == self.weekday
        if self.day != value.day:
            return False
        if self.month is not None and self.month != value.month:
            return False
        return self.year is None or self.year == value.year


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _weekday(today: date, weekday: int, offset: int, direction: str) -> date:
    delta = weekday - today.weekday()
    if offset < 0 or (offset == 0 and direction == "past"):
        if delta >= 0:
            delta -= 7
        return today + timedelta(days=delta)
    if delta <= 0:
        delta += 7
    return today + timedelta(days=delta)


def _ordinal(toks: list[Token], i: int) -> tuple[int | None, int]:
    """A day of the month at ``toks[i]``: "twenty-ninth", "29th", "29", "the third"."""
    if i >= len(toks):
        return None, i
    tok = toks[i]
    m = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?", tok.low)
    if m:
        nxt = toks[i + 1].low if i + 1 < len(toks) else ""
        if nxt in ("st", "nd", "rd", "th"):
            return int(m.group(1)), i + 2
        return int(m.group(1)), i + 1
    if tok.low in ORDINAL_UNITS:
        return ORDINAL_UNITS[tok.low], i + 1
    if tok.low in ("twenty", "thirty"):
        k = i + 1
        if k < len(toks) and toks[k].text == "-":
            k += 1
        if k < len(toks) and toks[k].low in ORDINAL_UNITS and ORDINAL_UNITS[toks[k].low] < 10:
            return TENS[tok.low] + ORDINAL_UNITS[toks[k].low], k + 1
    return None, i


def _year(toks: list[Token], i: int) -> tuple[int | None, int]:
    """A year after a date: ", 2026", "two thousand twenty-six", "twenty twenty-six"."""
    k = i + 1 if i < len(toks) and toks[i].text == "," else i
    if k < len(toks) and re.fullmatch(r"(19|20)\d\d", toks[k].text):
        return int(toks[k].text), k + 1
    if k < len(toks) and toks[k].low in ("two", "nineteen", "twenty"):
        groups, after = _number_groups(toks, k)
        if len(groups) == 1 and 1900 <= groups[0].value <= 2100:
            return groups[0].value, after
        if len(groups) == 2 and groups[0].value in (19, 20) and 0 <= groups[1].value <= 99:
            return groups[0].value * 100 + groups[1].value, after
    return None, i


_COUNTING = ("first", "second", "third")
_NOT_A_DAY = {
    "one",
    "ones",
    "claim",
    "claims",
    "time",
    "line",
    "visit",
    "call",
    "step",
    "thing",
    "rep",
    "person",
    "page",
}
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?\b")


def dates(text: str) -> list[DateMention]:
    """Dates in ``text``: "March sixth", "February 13, 2026", "4/20", "the twenty-ninth of last
    month", "the 28th", "last Friday", "today"."""
    found: list[DateMention] = []
    for m in _NUMERIC_DATE.finditer(text):
        month, day = int(m.group(1)), int(m.group(2))
        if 1 <= month <= 12 and 1 <= day <= 31:
            year = int(m.group(3)) if m.group(3) else None
            if year is not None and year < 100:
                year += 2000
            found.append(DateMention(m.start(), m.end(), day, month, year))
    toks = tokens(text)
    i = 0
    while i < len(toks):
        tok = toks[i]
        low = tok.low
        if low in MONTHS and (len(low) > 3 or low in ("may",) or tok.text[0].isupper()):
            if low == "may" and tok.text == "may":
                i += 1
                continue
            day, k = _ordinal(toks, i + 1)
            if day is not None and 1 <= day <= 31:
                year, k = _year(toks, k)
                found.append(DateMention(tok.start, toks[k - 1].end, day, MONTHS[low], year))
                i = k
                continue
        if low == "the" or (low not in MONTHS and _ordinal(toks, i)[0] is not None and not toks[i].text.isdigit()):
            k = i + 1 if low == "the" else i
            day, after = _ordinal(toks, k)
            is_word_ordinal = k < len(toks) and not toks[k].text.isdigit()
            if day is not None and 1 <= day <= 31 and (is_word_ordinal or re.search(r"\d(st|nd|rd|th)", toks[k].low)):
                nxt = toks[after].low if after < len(toks) else ""
                if (low != "the" and toks[k].low in _COUNTING) or nxt in _NOT_A_DAY:
                    # "first", "second" alone, or "the first one", "the second claim", are not dates
                    i += 1
                    continue
                mention = DateMention(tok.start, toks[after - 1].end, day)
                # "the twenty-ninth of last month" / "of March"
                if after + 1 < len(toks) and toks[after].low == "of":
                    nxt = toks[after + 1].low
                    if nxt in MONTHS:
                        mention = DateMention(tok.start, toks[after + 1].end, day, MONTHS[nxt])
                        after += 2
                    elif nxt in ("last", "this", "next") and after + 2 < len(toks) and toks[after + 2].low == "month":
                        off = {"last": -1, "this": 0, "next": 1}[nxt]
                        mention = DateMention(tok.start, toks[after + 2].end, day, month_offset=off)
                        after += 3
                year, after2 = _year(toks, after)
                if year is not None and mention.month is not None:
                    mention = DateMention(mention.start, toks[after2 - 1].end, day, mention.month, year)
                    after = after2
                found.append(mention)
                i = after
                continue
        if low in ("last", "next", "this") and i + 1 < len(toks) and toks[i + 1].low in WEEKDAYS:
            off = {"last": -1, "next": 1, "this": 0}[low]
            found.append(
                DateMention(tok.start, toks[i + 1].end, None, weekday=WEEKDAYS[toks[i + 1].low], week_offset=off)
            )
            i += 2
            continue
        if low in ("today", "tomorrow", "yesterday"):
            found.append(
                DateMention(tok.start, tok.end, None, relative_days={"today": 0, "tomorrow": 1, "yesterday": -1}[low])
            )
        i += 1
    found.sort(key=lambda d: d.start)
    # drop mentions inside another (a numeric date inside a longer one)
    kept: list[DateMention] = []
    for mention in found:
        if kept and mention.start < kept[-1].end:
            continue
        kept.append(mention)
    return kept


# ---------------------------------------------------------------------------------------------
# Durations
# ---------------------------------------------------------------------------------------------

_DURATION_UNITS = {
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


def _quantity(toks: list[Token], i: int) -> tuple[int | None, int]:
    """A count at ``toks[i]``: "10", "ten", "a", "a couple of", "fifteen"."""
    if i >= len(toks):
        return None, i
    low = toks[i].low
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
    groups, after = _number_groups(toks, i)
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
        if k < len(toks) and toks[k].low in ("business", "working"):
            business, k = True, k + 1
        elif k < len(toks) and toks[k].low == "calendar":
            k += 1
        if k < len(toks) and toks[k].text == "-":
            k += 1
        if k < len(toks) and toks[k].low in _DURATION_UNITS:
            unit = toks[k].low
            if business and unit.startswith("day"):
                days = business_to_calendar(upper)
            elif business and unit.startswith("week"):
                days = upper * 7
            else:
                days = upper * _DURATION_UNITS[unit]
            found.append(Duration(days, toks[i].start, toks[k].end, text[toks[i].start : toks[k].end]))
            i = k + 1
            continue
        i += 1
    return found


# ---------------------------------------------------------------------------------------------
# Denial (CARC) and remark (RARC) codes
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DenialMention:
    group: str | None
    number: str
    start: int
    end: int

    @property
    def code(self) -> str:
        return f"{self.group}-{self.number}" if self.group else self.number


_GROUP_ALT = "|".join(DENIAL_GROUPS)
_SPELLED_GROUP = re.compile(r"\b([CPO])[\s.-]{1,2}([ORAI])\b\.?")
_NUM_WORDS = r"(?:\d{1,3}|(?:[a-z]+(?:[\s-][a-z]+){0,2}))"
_GROUP_THEN_NUMBER = re.compile(rf"\b({_GROUP_ALT})\b[\s,-]*(\d{{1,3}}\b|[a-z]+(?:-[a-z]+)?(?:\s[a-z]+(?:-[a-z]+)?)?)")
_GROUP_CODE = re.compile(rf"\b(?i:group)(?:\s+(?i:code))?(?:\s+(?i:is|of))?\s+({_GROUP_ALT})\b")
_REASON_CODE = re.compile(
    r"\b(?:reason|denial|adjustment|carc)(?:\s+code)?(?:\s+(?:is|of|was))?[\s,:]+"
    r"(\d{1,3}\b|[a-z]+(?:-[a-z]+)?(?:\s[a-z]+(?:-[a-z]+)?)?)",
    re.IGNORECASE,
)


def _leading_number(words: str) -> int | None:
    """The number at the start of ``words`` ("sixteen with remark" → 16)."""
    words = words.strip()
    if words[:1].isdigit():
        return int(re.match(r"\d+", words).group())
    toks = tokens(words)
    groups, _ = _number_groups(toks, 0)
    if not groups:
        return None
    if len(groups) >= 2 and groups[0].kind == "small" and 1 <= groups[0].value <= 9 and 10 <= groups[1].value <= 99:
        return groups[0].value * 100 + groups[1].value
    return groups[0].value if groups[0].kind != "cents" else None


def denial_mentions(text: str) -> list[DenialMention]:
    """Denial codes in ``text``: "CO-16", "CO 16", "PR one", "C-O sixteen", "group code CO,
    reason code 50", "reason code 22, group code CO", "denial code is 197" (no group)."""
    text = _SPELLED_GROUP.sub(lambda m: m.group(1) + m.group(2), text)
    found: list[DenialMention] = []
    for m in _GROUP_THEN_NUMBER.finditer(text):
        number = _leading_number(m.group(2))
        if number is not None and 1 <= number <= 299:
            found.append(DenialMention(m.group(1), str(number), m.start(), m.end()))
    groups = list(_GROUP_CODE.finditer(text))
    for m in _REASON_CODE.finditer(text):
        if any(f.start <= m.start(1) < f.end for f in found):
            continue
        number = _leading_number(m.group(1))
        if number is None or not 1 <= number <= 299:
            continue
        # the group said separately in the same sentence, before or after
        group = None
        for g in groups:
            between = text[min(g.end(), m.end()) : max(g.start(), m.start())]
            if not re.search(r"[.?!]\s", between):
                group = g.group(1)
        found.append(DenialMention(group, str(number), m.start(), m.end()))
    found.sort(key=lambda d: d.start)
    return found


_REMARK = re.compile(r"\b(MA\d{2,3}|N\d{1,3}|M\d{1,3})\b")


def remark_codes(text: str) -> list[tuple[str, int, int]]:
    """RARC codes (N130, MA04, M80) written or spelled ("N as in Nancy, one thirty")."""
    found = [(m.group(1), m.start(), m.end()) for m in _REMARK.finditer(text)]
    for run in spelled_runs(text):
        value = run.value
        if re.fullmatch(r"MA\d{2,3}|N\d{1,3}|M\d{1,3}", value) and not any(s <= run.start < e for _, s, e in found):
            found.append((value, run.start, run.end))
    found.sort(key=lambda f: f[1])
    return found
