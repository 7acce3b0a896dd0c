"""ICD-10-CM diagnosis codes: normalise them, search them, and check them against the code set.

The code set is the ``DiagnosisCode`` table, filled by ``manage.py load_icd10`` (from the
``simple-icd-10-cm`` package, or from CDC files for a newer fiscal year). Nothing here imports
that package: it parses its whole XML at import (2 s, ~200 MB), which web and Celery processes
must not pay.

Where no code set is loaded, ``check`` answers UNCHECKED for any code of the right shape, so
callers keep the format check alone, as before the table existed.

Dates of service: each code set covers one fiscal year (FY2026: 2025-10-01 to 2026-09-30), and
``code_set_for`` picks the one covering a date. A date that no loaded set covers is checked
against the newest set. That is the FY2027 gap: FY2027 took effect on 2026-10-01, but no
release of the package ships it; until its CDC files are loaded (``load_icd10
--from-cdc-files``), later dates of service are checked against FY2026, so a code new in
FY2027 is reported unknown and one deleted in FY2027 still passes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from django.db import connection
from django.utils import timezone

from billingpulse.models import DiagnosisCode, DiagnosisCodeSet

# Shown with the code titles (picker, pages, exports); the release comes from the loaded set.
ATTRIBUTION_SOURCE = "ICD-10-CM, National Center for Health Statistics/CDC"

# A letter, a digit, a letter or digit, then up to four more after the dot (U codes included:
# U07.1 is COVID-19).
CODE_RE = re.compile(r"^[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?$")
# What a person types when they mean a code (or its start): E, E1, e11, E11., E11.9, e119.
_CODE_PREFIX_RE = re.compile(r"^[A-Za-z](?:[0-9][0-9A-Za-z]?\.?[0-9A-Za-z]{0,4})?$")
_WORD_RE = re.compile(r"[a-z0-9]+")

MAX_QUERY_LENGTH = 100
MAX_WORDS = 6
DEFAULT_LIMIT = 20


def normalize(code: str) -> str:
    """A code as the code set writes it: ``e119`` → ``E11.9``, ``' E11.9 '`` → ``E11.9``, ``E11.`` → ``E11``.

    Text that does not become a code of the right shape (``99213``, a dot in the wrong place)
    is only trimmed and upper-cased, so that an error names it as it was typed.
    """
    raw = (code or "").strip().upper()
    if "." in raw and (raw.count(".") > 1 or raw.index(".") != 3):
        return raw
    compact = raw.replace(".", "")
    dotted = compact if len(compact) <= 3 else f"{compact[:3]}.{compact[3:]}"
    return dotted if has_code_format(dotted) else raw


def has_code_format(code: str) -> bool:
    """Whether a normalised code has the shape of an ICD-10-CM code (real or not)."""
    return bool(CODE_RE.match(code))


def words(text: str) -> list[str]:
    """The lower-case words of a text, as ``search_text`` holds them."""
    return _WORD_RE.findall(text.lower())


def search_text(description: str) -> str:
    """What ``DiagnosisCode.search_text`` holds: every word after one space."""
    return "".join(f" {word}" for word in words(description))


# --- Which code set -------------------------------------------------------------------------


def code_set_for(
    on: date | None = None, code_sets: Sequence[DiagnosisCodeSet] | None = None
) -> DiagnosisCodeSet | None:
    """The code set for a date of service (today if None): the one covering it, else the newest loaded."""
    on = on or timezone.localdate()
    sets = list(DiagnosisCodeSet.objects.all()) if code_sets is None else list(code_sets)
    covering = [code_set for code_set in sets if code_set.covers(on)]
    candidates = covering or sets
    return max(candidates, key=lambda code_set: code_set.valid_to, default=None)


# --- Search ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """A code the search found, with what the picker shows (read as plain values, no model instances)."""

    code: str
    description: str
    billable: bool
    billable_example: str
    release: str  # the code set's, like FY2026 (April 1, 2026)

    @property
    def attribution(self) -> str:
        return attribution(self.release)


def attribution(release: str) -> str:
    """The credit shown with the code titles, which are NCHS/CDC's (unmodified)."""
    return f"{ATTRIBUTION_SOURCE}, {release} release"


def search(query: str, limit: int = DEFAULT_LIMIT, on: date | None = None) -> list[Match]:
    """Codes for a picker, in one query: by code prefix (``e11``, ``E11.6``) or by word prefixes.

    Words match the start of words in the title, all of them (``type 2 diab`` finds E11.9).
    Code prefixes come in code order; word matches level by level (the categories, like E11,
    before their many specific subcategories), then in code order. A single letter is taken
    as a code prefix. An empty query finds nothing. The code set is the one in effect ``on``
    (today if None; the newest loaded if none covers it), as ``code_set_for`` picks it.
    """
    query = (query or "").strip()[:MAX_QUERY_LENGTH]
    if not query or limit <= 0:
        return []
    if _CODE_PREFIX_RE.match(query):
        # Only letters, digits and a dot reach the pattern: nothing to escape for LIKE.
        where, params, order = "c.code LIKE %s", [normalize(query) + "%"], "c.code"
    else:
        terms = words(query)[:MAX_WORDS]
        if not terms:
            return []
        where = " AND ".join(["c.search_text LIKE %s"] * len(terms))
        params, order = [f"% {term}%" for term in terms], "LENGTH(c.code), c.code"
    on = on or timezone.localdate()
    with connection.cursor() as cursor:
        cursor.execute(_SEARCH_SQL.format(where=where, order=order), [on, on, *params, limit])
        return [Match(*row) for row in cursor.fetchall()]


# Written out rather than built by the ORM: it runs on every keystroke of the picker, and
# building the statement through the ORM took as long as PostgreSQL took to answer it
# (bench/icd10_search.py). Its indexes are in migration 0008. The code set is code_set_for()
# as a subquery, so that a search is one round trip.
_SEARCH_SQL = """
SELECT c.code, c.description, c.billable, c.billable_example, s.release
FROM billingpulse_diagnosiscode c
JOIN billingpulse_diagnosiscodeset s ON s.id = c.code_set_id
WHERE c.code_set_id = (
    SELECT id FROM billingpulse_diagnosiscodeset
    ORDER BY CASE WHEN valid_from <= %s AND valid_to >= %s THEN 1 ELSE 0 END DESC, valid_to DESC
    LIMIT 1
) AND {where}
ORDER BY {order}
LIMIT %s
"""


# --- Checking codes -------------------------------------------------------------------------


class Status(StrEnum):
    BILLABLE = "billable"
    HEADER = "header"  # a category or subcategory with codes under it: never on a claim
    UNKNOWN = "unknown"  # the right shape, but not in the code set
    INVALID = "invalid"  # not the shape of an ICD-10-CM code
    UNCHECKED = "unchecked"  # the right shape; no code set loaded to check it against


@dataclass(frozen=True)
class CodeCheck:
    code: str
    status: Status
    description: str = ""
    message: str = ""  # for the biller; empty when the code may go on a claim

    @property
    def ok(self) -> bool:
        return self.status in (Status.BILLABLE, Status.UNCHECKED)


@dataclass(frozen=True)
class _Row:
    description: str
    billable: bool
    billable_example: str


class CodeBook:
    """The loaded code sets and the rows of some codes: checks them without further queries.

    ``CodeBook.load(codes)`` costs two queries (none for no codes); a claim import builds its
    code sets once and loads each batch's codes with one query (``with_codes``).
    """

    def __init__(self, code_sets: Sequence[DiagnosisCodeSet], rows: dict[tuple[int, str], _Row] | None = None):
        self.code_sets = list(code_sets)
        self.rows = rows or {}

    @classmethod
    def load(cls, codes: Iterable[str]) -> CodeBook:
        wanted = {normalize(code) for code in codes}
        if not wanted:
            return cls([])
        return cls(list(DiagnosisCodeSet.objects.all())).with_codes(wanted)

    @property
    def loaded(self) -> bool:
        return bool(self.code_sets)

    def with_codes(self, codes: Iterable[str]) -> CodeBook:
        """This book's code sets with the rows of ``codes`` (one query; none if no set is loaded)."""
        wanted = {code for code in (normalize(c) for c in codes) if has_code_format(code)}
        if not (self.loaded and wanted):
            return CodeBook(self.code_sets)
        found = DiagnosisCode.objects.filter(code_set__in=self.code_sets, code__in=wanted).values_list(
            "code_set_id", "code", "description", "billable", "billable_example"
        )
        rows = {(set_id, code): _Row(text, billable, example) for set_id, code, text, billable, example in found}
        return CodeBook(self.code_sets, rows)

    def check(self, code: str, on: date | None = None) -> CodeCheck:
        """Whether ``code`` may go on a claim with this date of service (today if None)."""
        code = normalize(code)
        if not has_code_format(code):
            return CodeCheck(code, Status.INVALID, message=f"{code} is not an ICD-10 code. Write codes like E11.9.")
        code_set = code_set_for(on, self.code_sets)
        if code_set is None:
            return CodeCheck(code, Status.UNCHECKED)
        row = self.rows.get((code_set.pk, code))
        if row is None:
            return CodeCheck(code, Status.UNKNOWN, message=unknown_message(code, code_set))
        if row.billable:
            return CodeCheck(code, Status.BILLABLE, row.description)
        return CodeCheck(code, Status.HEADER, row.description, header_message(code, row.billable_example))


def unknown_message(code: str, code_set: DiagnosisCodeSet) -> str:
    return f"{code} is not an ICD-10-CM code (checked against the {code_set.version} code set). Check it for a typo."


def header_message(code: str, example: str) -> str:
    such_as = f"; pick a billable code such as {example}" if example else "; pick a billable code under it"
    if len(code) == 3:
        return f"{code} is a category, not a billable code{such_as}."
    return f"{code} needs more characters to be billable{such_as}."


def check(codes: Iterable[str], on: date | None = None) -> dict[str, CodeCheck]:
    """Each code's check, keyed by the code as given, in the order given (two queries at most)."""
    codes = list(codes)
    book = CodeBook.load(codes)
    return {code: book.check(code, on) for code in codes}


def is_billable(code: str, on: date | None = None) -> bool:
    """Whether the code set has ``code`` as a billable code (False when no code set is loaded)."""
    return check([code], on)[code].status == Status.BILLABLE


def problems(codes: Iterable[str], on: date | None = None) -> list[str]:
    """The biller's message for each code that may not go on a claim, in order (none if all may)."""
    return [result.message for result in check(codes, on).values() if not result.ok]
