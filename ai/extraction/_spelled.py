"""Identifiers read out one character (or a small group) at a time: "R as in Robert, 4-7-1"."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ai.extraction._numbers import DIGITS, REPEATS, TEENS, TENS, Token, tokens


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
