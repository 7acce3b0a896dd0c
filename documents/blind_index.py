"""A blind index: find documents by the words in them without keeping their text in clear in the database.

For each document version the database stores one token per distinct normalised word: the word's keyed hash,
HMAC-SHA256 under a key kept out of the database (``documents.crypto.index_key()``), cut to 16 bytes (32 hex
characters). A search turns the query's words into tokens the same way and matches the documents that hold
every one of them. The extracted text itself is stored only encrypted.

What a search can do:

* whole words, in any order; every word of the query must be in the document (AND);
* case- and accent-insensitive: "DENIAL", "denial" and "Dénial" are one word (casefold, then NFKD with the
  combining marks dropped, so "ß" matches "ss" and "é" matches "e");
* codes: a run of letters and digits joined by "-", "." or "/" (CO-45, E11.9, 99213-25, 01/15/2026) is
  indexed both joined ("co45", "e119") and as its parts of two or more characters ("co", "45", "e11"). So
  "CO-45", "co45" and "CO 45" all find a letter that says "CO-45"; "E11.9" and "E119" find "E11.9";
* words are 2 to 40 characters long; single letters and digits are not indexed (a lone "9" from "E11.9" is
  found only through "e119"); at most 20,000 distinct words per document are kept (the first ones).

What it can't do: no substring or prefix search ("CO-4" does not find "CO-45", "denia" does not find
"denial"), no phrase search (word order and adjacency are not kept), no fuzzy or misspelt search (an OCR error
makes a different word), no ranking by how often a word occurs.

What the tokens leak to someone who can read the database but not the key: each document's number of distinct
words, and which documents share a word — equal words give equal tokens in every document (that is what makes
the search an index lookup), so the number of documents holding each token can be counted, and someone who
also knows the practice's vocabulary could guess the most common tokens ("claim", "denied") by frequency.
How often a word occurs within one document is hidden (one token per distinct word), as are word order and
the words themselves: without the key a token can't be checked against a guess. We accept this because the
database already holds the same kind of facts in clear (claims, denial codes, payers), because it takes the
database and a large, correctly labelled sample of documents to exploit, and because the alternative
(searching decrypted text) would mean reading every document on every search. Deriving the key per practice
(the caller's choice) stops tokens from matching across practices.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

MIN_WORD = 2
MAX_WORD = 40
MAX_WORDS = 20_000
TOKEN_BYTES = 16
MIN_KEY_BYTES = 16

# A run of letters/digits, optionally joined to more runs by a single "-", "." or "/" (codes, dates, ICD-10).
_COMPOUND = re.compile(r"[^\W_]+(?:[-./][^\W_]+)*")
_PART = re.compile(r"[^\W_]+")


def words(text: str) -> set[str]:
    """The distinct normalised words of ``text``, as indexed (see the module docstring)."""
    return set(_ordered_words(text, limit=MAX_WORDS))


def token(word: str, key: bytes) -> str:
    """The keyed hash of one normalised word: HMAC-SHA256 truncated to 16 bytes, as 32 hex characters."""
    _check_key(key)
    return hmac.new(key, word.encode("utf-8"), hashlib.sha256).digest()[:TOKEN_BYTES].hex()


def tokens(text: str, key: bytes) -> set[str]:
    """The tokens to store for a document's text."""
    _check_key(key)
    return {token(word, key) for word in _ordered_words(text, limit=MAX_WORDS)}


def query_tokens(query: str, key: bytes) -> list[str]:
    """The tokens a document must all hold to match ``query``, in the query's order; empty if it has no words.

    The query is normalised exactly like a document's text, so "CO-45" asks for "co45", "co" and "45", all of
    which a document saying "CO-45" holds.
    """
    _check_key(key)
    return [token(word, key) for word in _ordered_words(query, limit=MAX_WORDS)]


def _ordered_words(text: str, *, limit: int) -> list[str]:
    """Normalised words in order of first appearance, at most ``limit`` of them."""
    found: dict[str, None] = {}
    for match in _COMPOUND.finditer(_normalise(text)):
        compound = match.group()
        parts = _PART.findall(compound)
        candidates = parts if len(parts) == 1 else ["".join(parts), *parts]
        for word in candidates:
            if MIN_WORD <= len(word) <= MAX_WORD and word not in found:
                found[word] = None
                if len(found) >= limit:
                    return list(found)
    return list(found)


def _normalise(text: str) -> str:
    # casefold first: it can itself produce combining marks ("İ" becomes "i" + a combining dot above).
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes) or len(key) < MIN_KEY_BYTES:
        raise ValueError(f"The blind-index key must be at least {MIN_KEY_BYTES} bytes.")
