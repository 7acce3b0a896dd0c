"""Letters named inside an identifier: spelling words, NATO words, and "the letter Y".

Payers read a letter in a reference three ways: with a spelling word ("R as in Robert"), as a NATO
word ("Charlie-4-7"), or by naming it ("1-1-2-7, and then the letter Y", "the letter H, then
7-1-5-5", "4-4-0-1-2-7, and the letter C at the end"). ``ai.extraction._spelled`` joins all three
into the run they belong to; this module holds the word lists and reads the third form.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ai.extraction._numbers import Token

# Short words that follow "I like ..." or "A for ..." in plain speech, never a spelling word.
NOT_SPELLING = {
    "it",
    "its",
    "is",
    "in",
    "if",
    "all",
    "and",
    "any",
    "are",
    "about",
    "that",
    "the",
    "this",
    "them",
    "then",
    "there",
    "they",
    "those",
    "time",
    "to",
    "too",
    "you",
    "your",
    "a",
    "an",
    "at",
}
# The NATO spelling alphabet: said alone ("Charlie-Alpha-4-7-1") each word stands for its letter.
_NATO_WORDS = (
    "alpha",
    "alfa",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "juliett",
    "kilo",
    "lima",
    "mike",
    "november",
    "oscar",
    "papa",
    "quebec",
    "romeo",
    "sierra",
    "tango",
    "uniform",
    "victor",
    "whiskey",
    "whisky",
    "xray",
    "yankee",
    "zulu",
)
NATO = {word: word[0].upper() for word in _NATO_WORDS}

# Words that tie a named letter to the characters read before it: "..., and then the letter Y",
# "... followed by the letter K", "... ending in the letter C".
_TIE_WORDS = {"and", "then", "followed", "by", "plus", "with", "ending", "ends", "in", "finally", "last"}
_AT_END = (("at", "the", "end"), ("on", "the", "end"))
_AT_FRONT = (("at", "the", "front"), ("at", "the", "start"), ("at", "the", "beginning"), ("in", "front"))


def _words_at(toks: list[Token], k: int, words: tuple[str, ...]) -> bool:
    return all(k + n < len(toks) and toks[k + n].low == word for n, word in enumerate(words))


def named_letter(
    toks: list[Token], i: int, open_run: bool, phonetic: Callable[[list[Token], int], int]
) -> tuple[str, int, bool] | None:
    """A letter said by name at ``toks[i]``: (letter, tokens taken, whether it goes first), or None.

    "the letter Y", "letter C", "the capital letter K", "the letter B as in boy" (``phonetic``
    gives how many tokens spell the letter out); with a run open, the words that tie it on ("and
    then the letter Y") are taken too, and "at the end" / "at the front" after it say where it goes.
    """
    k = i
    if open_run:
        while k < len(toks) and k - i < 4 and (toks[k].low in _TIE_WORDS or toks[k].text == ","):
            k += 1
    if k < len(toks) and toks[k].low in ("the", "a"):
        k += 1
    if k < len(toks) and toks[k].low == "capital":
        k += 1
    if k >= len(toks) or toks[k].low != "letter":
        return None
    k += 1
    if k < len(toks) and toks[k].text == ",":
        k += 1
    if k >= len(toks) or len(toks[k].text) != 1 or not toks[k].text.isalpha():
        return None
    letter, after = toks[k], toks[k + 1] if k + 1 < len(toks) else None
    # "the letter a week ago", "the letter I sent": a word follows, so this is speech
    spelled = phonetic(toks, k)
    placed = any(_words_at(toks, k + 1, words) for words in (*_AT_END, *_AT_FRONT))
    speech = after is not None and after.text.isalpha() and after.text.islower() and not (spelled or placed)
    if speech and (letter.text.islower() or letter.text in "IA"):
        return None
    k += 1 + spelled
    front = False
    for words in _AT_END + _AT_FRONT:
        if _words_at(toks, k, words):
            front = words in _AT_FRONT
            k += len(words)
            break
    return letter.text.upper(), k - i, front


# What is left when a named letter could not be joined on: the reading is not complete.
DANGLING_LETTER = re.compile(
    r"^[\s,]*(?:(?:and|then|followed by|plus|with|ending (?:in|with))[\s,]+)+(?:the |a )?(?:capital |letter\b)", re.I
)
