from __future__ import annotations

import re

import pytest

from documents import blind_index
from documents.blind_index import query_tokens, token, tokens, words

KEY = b"k" * 32
OTHER_KEY = b"o" * 32

LETTER = """EXPLANATION OF BENEFITS — Claim 4471823
Patient: José Müller. Status: DENIED.
Reason code CO-45 (charge exceeds fee schedule); remark N130. Diagnosis E11.9, CPT 99213-25.
Call back on 01/15/2026 at 800-555-1212."""


def _finds(query: str, text: str, key: bytes = KEY) -> bool:
    """What the database will do: a document matches when it holds every token of the query."""
    wanted = query_tokens(query, key)
    return bool(wanted) and set(wanted) <= tokens(text, key)


# ---------------------------------------------------------------------------- words


def test_it_casefolds_and_strips_accents():
    assert words("José MÜLLER Straße façade") == {"jose", "muller", "strasse", "facade"}


def test_it_splits_on_anything_not_a_letter_or_digit():
    assert words("claim#4471823,denied(CO)paid_out") == {"claim", "4471823", "denied", "co", "paid", "out"}


def test_it_keeps_words_of_2_to_40_characters():
    assert words("a I 9 of " + "x" * 40 + " " + "y" * 41) == {"of", "x" * 40}


def test_it_indexes_codes_joined_and_in_parts():
    assert words("CO-45") == {"co45", "co", "45"}
    assert words("E11.9") == {"e119", "e11"}  # a lone "9" is too short to index
    assert words("99213-25") == {"9921325", "99213", "25"}
    assert words("01/15/2026") == {"01152026", "01", "15", "2026"}


def test_it_does_not_join_across_spaces_or_a_trailing_period():
    assert words("Code CO-45. Next") == {"code", "co45", "co", "45", "next"}
    assert words("CO - 45") == {"co", "45"}


def test_it_caps_the_number_of_distinct_words(monkeypatch):
    monkeypatch.setattr(blind_index, "MAX_WORDS", 10)

    found = words(" ".join(f"w{n:03}" for n in range(100)))

    assert found == {f"w{n:03}" for n in range(10)}


def test_it_has_no_words_for_empty_or_punctuation_text():
    assert words("") == set()
    assert words(" -- ... !! ") == set()


# ---------------------------------------------------------------------------- searching


@pytest.mark.parametrize(
    "query",
    [
        "denied",
        "DENIED claim",
        "claim denied",  # any order
        "CO-45",
        "co45",
        "co 45",
        "E11.9",
        "e119",
        "N130",
        "99213-25",
        "jose muller",
        "JOSÉ",
        "Müller",
        "4471823",
        "01/15/2026",
        "800-555-1212",
        "8005551212",
    ],
)
def test_it_finds_a_documents_words_and_codes(query):
    assert _finds(query, LETTER)


@pytest.mark.parametrize(
    "query",
    [
        "CO-4",  # no prefix search
        "denie",
        "4471",
        "appeal",  # a word the letter does not have
        "denied appeal",  # every word must match
        "CO-97",
        "E11.8",
        "explanatio",
    ],
)
def test_it_does_not_find_what_is_not_a_whole_word_of_the_document(query):
    assert not _finds(query, LETTER)


def test_it_finds_nothing_for_a_query_without_words():
    assert query_tokens("", KEY) == []
    assert query_tokens(" - . ", KEY) == []
    assert not _finds("", LETTER)


def test_it_keeps_query_tokens_in_order_without_repeats():
    assert query_tokens("claim denied claim", KEY) == [token("claim", KEY), token("denied", KEY)]


# ---------------------------------------------------------------------------- tokens


def test_it_makes_32_hex_character_tokens_from_hmac_sha256():
    import hashlib
    import hmac

    expected = hmac.new(KEY, b"denied", hashlib.sha256).hexdigest()[:32]

    assert token("denied", KEY) == expected
    assert re.fullmatch(r"[0-9a-f]{32}", expected)


def test_it_gives_one_token_per_distinct_word():
    assert len(tokens("denied denied DENIED Denied", KEY)) == 1
    assert tokens(LETTER, KEY) == {token(word, KEY) for word in words(LETTER)}


def test_it_gives_different_tokens_under_a_different_key():
    mine, theirs = tokens(LETTER, KEY), tokens(LETTER, OTHER_KEY)

    assert mine.isdisjoint(theirs)
    assert not _finds("denied", LETTER.replace("DENIED", "paid"), OTHER_KEY)
    assert set(query_tokens("denied", OTHER_KEY)).isdisjoint(mine)


def test_it_never_puts_a_word_in_a_token():
    stored = tokens(LETTER, KEY)
    joined = " ".join(sorted(stored))

    assert all(re.fullmatch(r"[0-9a-f]{32}", value) for value in stored)
    for word in words(LETTER):
        if len(word) >= 5:  # shorter runs of hex letters or digits turn up in random hex by chance
            assert word not in joined
            assert word.encode().hex() not in joined


def test_it_refuses_a_missing_or_short_key():
    for key in (b"", b"short", "a text key of sufficient length"):
        with pytest.raises(ValueError, match="at least 16 bytes"):
            tokens("denied", key)  # type: ignore[arg-type]
