"""Identifiers read out one character (or a small group) at a time: "R as in Robert, 4-7-1"."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ai.extraction._letters import NATO, NOT_SPELLING, named_letter
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
    "X as in X-ray" counts once as X, and a NATO word tied to the run ("Charlie-4-7") as its
    letter. Sentence ends, other words, "hundred" and money break a run.
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

    def add(chunk: str, tok_start: int, tok_end: int, front: bool = False) -> None:
        nonlocal start, end
        if not chunks:
            start = tok_start
        chunks.insert(0 if front else len(chunks), chunk)
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
        elif named := named_letter(toks, i, bool(chunks), _phonetic_span):
            letter, size, front = named
            add(letter, tok.start, toks[i + size - 1].end, front)
            i += size
            continue
        elif size := _nato_letter(toks, i, bool(chunks)):
            add(NATO[_nato_key(toks, i)[0]], tok.start, toks[i + size - 1].end)
            i += size
            continue
        elif len(tok.text) == 1 and tok.text.isalpha() and (tok.text.isupper() or _phonetic_span(toks, i)):
            phonetic = _phonetic_span(toks, i)
            # "I" or "A" before a word ("..., I misread it") is speech, not a character
            before_word = nxt is not None and nxt.text.isalpha() and nxt.text.islower()
            dashed = (i > 0 and toks[i - 1].text == "-") or (nxt is not None and nxt.text == "-")
            joined = neighbour_is_char(i, 1) or (chunks and neighbour_is_char(i, -1))
            if phonetic or (joined and (dashed or not before_word)) or _spaced_letter(toks, i, bool(chunks)):
                add(tok.text.upper(), tok.start, toks[i + phonetic].end if phonetic else tok.end)
                i += phonetic + 1
                continue
            close()
        elif low in REPEATS and (digit := _repeated_digit(toks, i)):
            # "double five", "double-oh", "triple-7"
            add(digit * REPEATS[low], tok.start, toks[i + 1 + (toks[i + 1].text == "-")].end)
            i += 2 + (toks[i + 1].text == "-")
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
        elif low == "then" and chunks and nxt is not None and _char_like(nxt):
            pass  # "2026, then 0210, then 4471": one number read in groups
        else:
            close()
        i += 1
    close()
    return runs


def _repeated_digit(toks: list[Token], i: int) -> str | None:
    k = i + 1
    if k < len(toks) and toks[k].text == "-":
        k += 1
    if k >= len(toks):
        return None
    if toks[k].low in DIGITS:
        return str(DIGITS[toks[k].low])
    return toks[k].text if len(toks[k].text) == 1 and toks[k].text.isdigit() else None


def _phonetic_span(toks: list[Token], i: int) -> int:
    """How many tokens after a letter spell it out, 0 when none.

    "R as in Robert" → 3, "X as in X-ray" → 5, "P, like Peter" → 3, "T for 'Tom'" → 3.
    """
    letter = toks[i].text.lower()
    k = i + 1
    if k < len(toks) and toks[k].text == ",":
        k += 1
    for link in _PHONETIC_LINKS:
        j = k
        if all(j + n < len(toks) and toks[j + n].low == word for n, word in enumerate(link)):
            j += len(link)
            if j < len(toks) and toks[j].text in ("'", '"'):
                j += 1
            word_end = _word_end(toks, j)
            word = _spelled_word(toks, j, word_end)
            if word_end > j and word[0] == letter and len(word) > 1 and _spelling_word(toks[j].text, word):
                if word_end < len(toks) and toks[word_end].text in ("'", '"'):
                    word_end += 1  # the closing quote: T for "Tom"
                return word_end - 1 - i
    return 0


def _spelling_word(said: str, word: str) -> bool:
    """A word that spells a letter: "Robert", "x-ray", "nancy" (not "I like it", "A for all")."""
    return word in NATO or said[0].isupper() or (len(word) >= 3 and word not in NOT_SPELLING)


def _word_end(toks: list[Token], j: int) -> int:
    """The index after a word at ``toks[j]``, hyphenated parts included ("X-ray", "T-bone")."""
    if j >= len(toks) or not toks[j].text.isalpha():
        return j
    k = j + 1
    while k + 1 < len(toks) and toks[k].text == "-" and toks[k + 1].text.isalpha() and toks[k].end == toks[k + 1].start:
        if toks[k - 1].end != toks[k].start:
            break
        k += 2
    return k


def _spelled_word(toks: list[Token], j: int, end: int) -> str:
    return "".join(tok.low for tok in toks[j:end] if tok.text != "-")


def _nato_key(toks: list[Token], i: int) -> tuple[str, int]:
    """The NATO word at ``toks[i]`` ("X-ray" included) and how many tokens it takes; ("", 0) when none."""
    if i < len(toks) and toks[i].low in NATO:
        return toks[i].low, 1
    end = _word_end(toks, i)
    word = _spelled_word(toks, i, min(end, i + 3))
    return (word, 3) if word in NATO and end - i >= 3 else ("", 0)


def _char_like(tok: Token) -> bool:
    return _is_char_token(tok) or (tok.low in DIGITS and tok.low != "oh") or tok.low in TEENS or tok.low in TENS


def _nato_letter(toks: list[Token], i: int, open_run: bool) -> int:
    """How many tokens a NATO word said as a letter takes, 0 when none.

    The word is capitalised and tied to a run: "Charlie Alpha 4-7", "4-7-Zulu", "X-ray 4 4".
    """
    size = _nato_key(toks, i)[1]
    if not size or not toks[i].text[0].isupper():
        return 0
    k = i + size
    if k < len(toks) and toks[k].text in ("-", ","):
        k += 1
    following = toks[k] if k < len(toks) else None
    follows_char = following is not None and (_char_like(following) or _nato_key(toks, k)[1] > 0)
    previous = toks[i - 1] if i > 0 else None
    tied_before = open_run and previous is not None and (previous.text in ("-", ",") or _char_like(previous))
    return size if follows_char or tied_before else 0


def _spaced_letter(toks: list[Token], i: int, open_run: bool) -> bool:
    """A capital letter read with spaces among digits: "R 4 7 1 2", "4 7 1 2 B", "P R 4 7 1"."""
    letter = toks[i].text
    # "A" or "I" right after a spelled letter is a letter too: "M A one twenty"
    after_letter = open_run and i > 0 and len(toks[i - 1].text) == 1 and toks[i - 1].text.isupper()
    k = i + 1
    # up to two more single capitals, then a digit: "P R 4 7 1"
    while k < len(toks) and k - i <= 2 and len(toks[k].text) == 1 and toks[k].text.isupper():
        k += 1
    following = toks[k] if k < len(toks) else None
    if following is not None and (
        _is_char_token(following) or ((letter not in "IA" or after_letter) and _char_like(following))
    ):
        return True
    # a trailing letter closes a run: "... 7 1 2 B." (but not "... 7 1 2 I think")
    previous = toks[i - 1] if i > 0 else None
    nxt = toks[i + 1] if i + 1 < len(toks) else None
    return (
        open_run
        and letter not in "IA"
        and previous is not None
        and _char_like(previous)
        and (nxt is None or not nxt.text.isalnum())
    )


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


# A reading broken by a line break: "Reference is 5-5-0" / "9-1-2-7-7-4.", "it's 7-7-2-0-" / "1-5-9-".
_ENDS_MID_READING = re.compile(r"(?:^|[\s,:])[A-Za-z0-9](?:-[A-Za-z0-9])+-?\s*$|[A-Za-z0-9]-\s*$")
_STARTS_WITH_READING = re.compile(r"^\s*[A-Za-z0-9](?:-[A-Za-z0-9])+\b|^\s*\d{2,}")


def continues_reading(before: str, after: str) -> bool:
    """``after`` (the speaker's next line) goes on with the characters ``before`` stopped in the middle of."""
    return bool(_ENDS_MID_READING.search(before)) and bool(_STARTS_WITH_READING.match(after))


def join_reading(before: str, after: str) -> str:
    """The two lines as one, the broken reading glued back together."""
    return before.rstrip().rstrip("-") + "-" + after.lstrip()
