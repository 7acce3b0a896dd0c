"""Dates as payers say them: "the twenty-ninth of last month", "last Friday", "March 3rd"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from ai.extraction._durations import days_ago
from ai.extraction._numbers import DIGITS, MONTHS, ORDINAL_UNITS, TEENS, TENS, WEEKDAYS, Token, number_groups, tokens


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


def _dated(toks: list[Token], k: int) -> bool:
    """A day or month follows: "Thursday the 19th", "Monday, November 2nd" (the date says it all)."""
    while k < len(toks) and toks[k].low in ("the", ",", "of"):
        k += 1
    return k < len(toks) and (toks[k].low in MONTHS or _ordinal(toks, k)[0] is not None)


_SPAN = ("through", "thru", "to", "-", "and")


def _opening_days(toks: list[Token], i: int) -> bool:
    """A weekday in a span of days, "Monday through Friday": when a line is open, not a date."""
    after = i + 2 < len(toks) and toks[i + 1].low in _SPAN and toks[i + 2].low in WEEKDAYS
    before = i >= 2 and toks[i - 1].low in _SPAN and toks[i - 2].low in WEEKDAYS
    return after or before


def _weekday(today: date, weekday: int, offset: int, direction: str) -> date:
    delta = weekday - today.weekday()
    if offset < 0 or (offset == 0 and direction == "past"):
        if delta >= 0:
            delta -= 7
        return today + timedelta(days=delta)
    if delta <= 0:
        delta += 7
    return today + timedelta(days=delta + 7 * max(offset - 1, 0))


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
        groups, after = number_groups(toks, k)
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


_UNIT = r"(?:one|two|three|four|five|six|seven|eight|nine)"
_PART = (
    rf"(?:(?:zero|oh)[\s-]+{_UNIT}|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|"
    rf"nineteen|(?:twenty|thirty)(?:[\s-]+{_UNIT})?|\d{{2}})"
)
# A screen's date field read aloud in pairs: "check date zero three, zero six, twenty-six" (MM, DD, YY).
# Only after a date label, since pairs of digits are also how identifiers are read.
_READ_FIELD_DATE = re.compile(
    rf"\b(?:date|dated)\s*(?:of\s+|is\s+|was\s+|:\s*)?({_PART})[\s,/-]+({_PART})[\s,/-]+"
    rf"(twenty[\s-]+(?:twenty|thirty)(?:[\s-]+{_UNIT})?|\d{{4}}|{_PART})\b",
    re.I,
)


def _field_number(said: str) -> int:
    """ "zero three" → 3, "twenty-six" → 26, "twenty twenty-six" → 2026, "06" → 6."""
    words = re.findall(r"[a-z]+|\d+", said.lower())
    if len(words) == 1 and words[0].isdigit():
        return int(words[0])
    if len(words) >= 2 and words[0] == "twenty" and words[1] in ("twenty", "thirty"):
        return 2000 + _field_number(" ".join(words[1:]))
    values = [0 if w in ("zero", "oh") else DIGITS.get(w, TEENS.get(w, TENS.get(w, 0))) for w in words]
    return values[0] * 10 + values[1] if words[0] in ("zero", "oh") else sum(values)


def _read_field_dates(text: str) -> list[DateMention]:
    found = []
    for m in _READ_FIELD_DATE.finditer(text):
        month, day, year = (_field_number(m.group(n)) for n in (1, 2, 3))
        if 1 <= month <= 12 and 1 <= day <= 31:
            found.append(DateMention(m.start(1), m.end(), day, month, year if year >= 100 else 2000 + year))
    return found


def dates(text: str) -> list[DateMention]:
    """Dates in ``text``: "March sixth", "February 13, 2026", "4/20", "the twenty-ninth of last
    month", "the 28th", "last Friday", "today", "dated zero three, zero six, twenty-six"."""
    found: list[DateMention] = _read_field_dates(text)
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
        # "a week from Friday", "a week from this Friday": the weekday ahead, and seven days on
        k = i + 4 if i + 3 < len(toks) and toks[i + 3].low == "this" else i + 3
        a_week_from = low == "a" and [t.low for t in toks[i + 1 : i + 3]] == ["week", "from"]
        if a_week_from and k < len(toks) and toks[k].low in WEEKDAYS:
            found.append(DateMention(tok.start, toks[k].end, None, weekday=WEEKDAYS[toks[k].low], week_offset=2))
            i = k + 1
            continue
        # "last Friday", "this past Thursday", "this coming Monday"
        k = i + 2 if low == "this" and i + 1 < len(toks) and toks[i + 1].low in ("past", "coming") else i + 1
        if low in ("last", "next", "this", "past") and k < len(toks) and toks[k].low in WEEKDAYS:
            off = {"last": -1, "past": -1, "next": 1, "coming": 1, "this": 0}[toks[k - 1].low]
            found.append(DateMention(tok.start, toks[k].end, None, weekday=WEEKDAYS[toks[k].low], week_offset=off))
            i = k + 1
            continue
        if low in WEEKDAYS and not _dated(toks, i + 1) and not _opening_days(toks, i):
            # a weekday alone, "call back Wednesday": the next one ahead, or the last one behind;
            # "Thursday after next" is the one a week later
            later = i + 2 < len(toks) and toks[i + 1].low == "after" and toks[i + 2].low == "next"
            end = toks[i + 2].end if later else tok.end
            found.append(DateMention(tok.start, end, None, weekday=WEEKDAYS[low], week_offset=2 if later else 0))
            i += 3 if later else 1
            continue
        ago = days_ago(toks, i)
        if ago is not None:
            # "two weeks ago", "ten days ago today"
            days, k = ago
            found.append(DateMention(tok.start, toks[k - 1].end, None, relative_days=-days))
            i = k
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
