"""Strict parsers for single cells of a claims spreadsheet.

Each parser takes a cell as the readers give it (``str`` from CSV; ``str``, ``int``, ``float``,
``datetime`` or ``date`` from Excel) and returns a typed value, or raises ``ValueError`` whose
text is written for the biller ("13/45/2026 is not a real date. Use MM/DD/YYYY."). Blank cells
are the caller's business: the row parser decides what is required.

Text parsers are cached on the cell text, because a 100,000-row export repeats the same dates,
amounts and codes over and over.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from django.core.exceptions import ValidationError

from billingpulse import codes as icd10
from billingpulse.validators import luhn_valid, validate_date_in_range

EXCEL_EPOCH = date(1899, 12, 30)
# Excel serial numbers this side of 1954-10-03 … 2119-01-11 are taken as dates; smaller or larger
# numbers in a date column are much more likely to be a typo than a real date.
EXCEL_SERIAL_MIN = 20000
EXCEL_SERIAL_MAX = 80000
CENTS = Decimal("0.01")
# Claim amounts are stored with 12 digits, 2 of them after the point.
MAX_AMOUNT = Decimal("10000000000")
MAX_UNITS = Decimal("100000")
DENIAL_GROUP_CODES = ("CO", "PR", "OA", "PI", "CR")
_CACHE_SIZE = 8192


def cell_text(value: object) -> str:
    """The cell as the biller would read it: for messages, and for text fields.

    Whole numbers from Excel lose their ``.0`` (``590.0`` → ``"590"``) and dates are written
    the American way.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        if value.hour == value.minute == value.second == 0:
            return value.strftime("%m/%d/%Y")
        return value.strftime("%m/%d/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%m/%d/%Y")
    return str(value).strip()


# ---------------------------------------------------------------------------- dates

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_SERIAL_RE = re.compile(r"^(\d{5})(?:\.\d+)?$")
# A time after the date ("2026-03-14 00:00:00", "3/14/2026 9:30 AM", "2026-03-14T00:00:00Z").
_TIME_RE = re.compile(
    r"(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AP]\.?M\.?)?\s*(?:Z|[+-]\d{2}:?\d{2})?)$", re.IGNORECASE
)
_ISO_RE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_US_RE = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})$")
_COMPACT_RE = re.compile(r"^\d{8}$")
_DAY_MONTH_RE = re.compile(r"^(\d{1,2})[\s\-/.]*([a-z]+)\.?[\s\-/.,]*(\d{4}|\d{2})$", re.I)
_MONTH_DAY_RE = re.compile(r"^([a-z]+)\.?[\s\-/.]*(\d{1,2})(?:st|nd|rd|th)?\s*,?[\s\-/.]*(\d{4}|\d{2})$", re.I)


def parse_date(value: object, *, this_year: int | None = None) -> date:
    """A date from a cell: a date, an Excel serial number, or text in the usual US forms.

    Accepted text: ``03/14/2026``, ``3/4/2026``, ``03/14/26``, ``03-14-2026``, ``2026-03-14``,
    ``20260314``, ``14-Mar-2026``, ``Mar 14, 2026``, ``March 14 2026``, and Excel serials such
    as ``46095``. Day-first dates are not guessed: ``14/03/2026`` is an error, not 14 March.
    Every date must lie within ``validate_date_in_range`` (1900 … 2199), whatever form it came in:
    ``12/31/9999`` is an error, so that nothing computed from it later can overflow.
    A two-digit year is this century unless that would be more than a year ahead
    (``05/12/40`` is 1940), which suits both dates of service and dates of birth.
    ``this_year`` saves asking the clock on every call when parsing many rows.
    """
    if isinstance(value, datetime):
        return _in_range(value.date(), value)
    if isinstance(value, date):
        return _in_range(value, value)
    if value is None or isinstance(value, bool):
        raise ValueError("The date is missing.")
    text = cell_text(value)
    if not text:
        raise ValueError("The date is missing.")
    return _parse_date_text(text, this_year or date.today().year)


@lru_cache(maxsize=_CACHE_SIZE)
def _parse_date_text(text: str, this_year: int) -> date:
    # this_year is an argument, not read inside, so cached answers for two-digit years
    # cannot outlive New Year's Day.
    serial = _SERIAL_RE.match(text)
    if serial:
        days = int(serial[1])
        if EXCEL_SERIAL_MIN <= days <= EXCEL_SERIAL_MAX:
            return _in_range(EXCEL_EPOCH + timedelta(days=days), text)
        raise ValueError(_not_a_date(text))
    bare = _TIME_RE.sub("", text)
    if match := _US_RE.match(bare):
        month, day, year = match.groups()
        return _make_date(text, year, month, day, this_year)
    if match := _ISO_RE.match(bare):
        year, month, day = match.groups()
        return _make_date(text, year, month, day, this_year)
    if _COMPACT_RE.match(bare):
        # 20260314 (as in EDI files), or 03142026.
        if bare[:2] in ("19", "20"):
            return _make_date(text, bare[:4], bare[4:6], bare[6:], this_year)
        return _make_date(text, bare[4:], bare[:2], bare[2:4], this_year)
    if (match := _DAY_MONTH_RE.match(bare)) and match[2].lower() in _MONTHS:
        day, month_name, year = match.groups()
        return _make_date(text, year, _MONTHS[month_name.lower()], day, this_year)
    if (match := _MONTH_DAY_RE.match(bare)) and match[1].lower() in _MONTHS:
        month_name, day, year = match.groups()
        return _make_date(text, year, _MONTHS[month_name.lower()], day, this_year)
    raise ValueError(_not_a_date(text))


def _make_date(text: str, year: str, month: str | int, day: str, this_year: int) -> date:
    full_year = int(year)
    if len(year) == 2:
        full_year += 2000
        if full_year > this_year + 1:
            full_year -= 100
    try:
        parsed = date(full_year, int(month), int(day))
    except ValueError:
        raise ValueError(f"{text} is not a real date. Use MM/DD/YYYY.") from None
    return _in_range(parsed, text)


def _in_range(parsed: date, cell: object) -> date:
    """``parsed`` if the shared validator accepts it; else a ValueError naming the cell as written."""
    try:
        validate_date_in_range(parsed)
    except ValidationError as error:
        raise ValueError(f"{cell_text(cell)} is outside the dates we accept. {error.messages[0]}") from None
    return parsed


def _not_a_date(text: str) -> str:
    return f"{text} is not a date. Use MM/DD/YYYY."


# ---------------------------------------------------------------------------- money

_MONEY_RE = re.compile(
    r"""^(-)?\s*\$?\s*(\()?\s*(-)?\s*\$?\s*              # sign, dollar, parenthesis in any usual order
    ((?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)          # 1,250.00 or 1250.00 or .50
    \s*(\))?\s*(-)?$""",
    re.VERBOSE,
)
# Excel's accounting format writes zero as a dash, and a CSV saved from Excel keeps it: "$ -".
_ACCOUNTING_ZERO_RE = re.compile(r"^\$?\s*-\s*$")
_MONEY_MESSAGE = "{} is not an amount. Write it like 1250.00 or $1,250.00."
_DECIMAL_COMMA_MESSAGE = "{} is not an amount. Write it like 1250,00 or 1.250,00."
_TWO_WAYS_MESSAGE = (
    "{} could be read two ways. In a file separated by semicolons, write amounts with their cents, like 1234,00."
)
# Swaps the separators of a decimal-comma amount: 1.234,56 → 1,234.56.
_SWAP_SEPARATORS = str.maketrans(",.", ".,")
_DIGITS_RE = re.compile(r"\d*")


def parse_money(value: object, *, decimal_comma: bool = False) -> Decimal:
    """An amount in dollars, rounded half-up to cents.

    Accepts ``$1,250.00``, ``1250``, ``1,250.5``, ``$ 85``, and the negative forms ``-$40.00``,
    ``$-40``, ``(40.00)``, ``$(40.00)`` and ``40.00-``; and numbers from Excel. Thousands
    separators must be in the right places: ``12,34`` is rejected rather than read as 1234.

    With ``decimal_comma`` (a CSV file separated by semicolons, as European exports are) text
    may also use a comma for the decimal point and dots for thousands: ``85,00``,
    ``1.234,56``. US forms such as ``1,234.56`` are still read. An amount with one separator
    followed by three digits (``1,234``, ``1.234``) could be either, and is rejected.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError("The amount is missing.")
    if isinstance(value, int):
        return _check_amount(Decimal(value), str(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(_MONEY_MESSAGE.format(value))
        # repr gives the shortest text that round-trips, so 312.4 stays 312.4 and not
        # 312.399999999999977262632....
        return _check_amount(Decimal(repr(value)), cell_text(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(_MONEY_MESSAGE.format(value))
        return _check_amount(value, str(value))
    text = cell_text(value)
    if not text:
        raise ValueError("The amount is missing.")
    return _parse_money_text(text, decimal_comma)


@lru_cache(maxsize=_CACHE_SIZE)
def _parse_money_text(text: str, decimal_comma: bool = False) -> Decimal:
    if _ACCOUNTING_ZERO_RE.match(text):
        return Decimal("0.00")
    message = _DECIMAL_COMMA_MESSAGE if decimal_comma else _MONEY_MESSAGE
    match = _MONEY_RE.match(_us_separators(text) if decimal_comma else text)
    if not match or text.count("$") > 1 or bool(match[2]) != bool(match[5]):
        raise ValueError(message.format(text))
    # One way of saying "negative" at most: a leading or trailing minus (40.00- is how some
    # practice systems print credits), or parentheses.
    signs = sum(1 for sign in (match[1], match[2], match[3], match[6]) if sign)
    if signs > 1:
        raise ValueError(message.format(text))
    amount = Decimal(match[4].replace(",", ""))
    return _check_amount(-amount if signs else amount, text)


def _us_separators(text: str) -> str:
    """An amount that may be written with a decimal comma, rewritten with a decimal point.

    The separator written last decides when there are both (``1.234,56``, ``1,234.56``); a
    separator written more than once separates thousands (``1.234.567``); a single comma
    followed by one, two or four and more digits is the decimal point (``85,00``). Raises
    ``ValueError`` for a single separator followed by exactly three digits, which reads two ways.
    The result is checked by the usual pattern, so misplaced separators are still rejected.
    """
    last_comma, last_dot = text.rfind(","), text.rfind(".")
    if last_comma < 0 and last_dot < 0:
        return text
    if last_comma >= 0 and last_dot >= 0:
        return text.translate(_SWAP_SEPARATORS) if last_comma > last_dot else text
    separator, position = ("," if last_comma >= 0 else "."), max(last_comma, last_dot)
    if text.count(separator) > 1:
        return text.replace(".", ",")
    if len(_DIGITS_RE.match(text, position + 1)[0]) == 3:
        raise ValueError(_TWO_WAYS_MESSAGE.format(text))
    return text.replace(",", ".")


def _check_amount(amount: Decimal, text: str) -> Decimal:
    # Checked before rounding (a huge number cannot be rounded to cents) and after it
    # (9999999999.995 rounds up to 13 digits, one more than the column holds).
    if abs(amount) >= MAX_AMOUNT or abs(rounded := amount.quantize(CENTS, rounding=ROUND_HALF_UP)) >= MAX_AMOUNT:
        raise ValueError(f"{text} is too large for an amount.")
    return rounded


def parse_units(value: object) -> Decimal:
    """A number of units of service, more than zero: ``1``, ``2.5``."""
    text = cell_text(value)
    if not re.fullmatch(r"\d+(?:\.\d+)?|\.\d+", text):
        raise ValueError(f"{text} is not a number of units. Write a number like 1 or 2.5.")
    units = Decimal(text)
    if units >= MAX_UNITS:
        raise ValueError(f"{text} is too many units.")
    # Rounded before the checks: 0.001 would be stored as 0 units, and 99999.999 as 100000.00,
    # more digits than the column holds.
    units = units.quantize(Decimal(1)) if units == units.to_integral_value() else units.quantize(CENTS, ROUND_HALF_UP)
    if units <= 0:
        raise ValueError("Units must be more than zero.")
    if units >= MAX_UNITS:
        raise ValueError(f"{text} is too many units.")
    return units


# ---------------------------------------------------------------------------- names

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})
_SUFFIXES = {"jr", "sr", "ii", "iii", "iv"}
# Words that belong to the last name when a name is written "First Last" without a comma.
_PARTICLES = {"al", "bin", "da", "das", "de", "del", "della", "der", "di", "dos", "du", "el", "la", "le", "van", "von"}
_INITIAL_RE = re.compile(r"^[A-Za-z]\.?$")
_NAME_MESSAGE = "Write the patient's first and last name."


def split_patient_name(value: object) -> tuple[str, str]:
    """``(first, last)`` from one name cell: ``Maria Lopez``, ``LOPEZ, MARIA`` or ``Lopez, Maria A``.

    Middle initials and suffixes (Jr, III) are dropped, because patients are matched on
    first name, last name and date of birth. Without a comma the first word is the first name
    and the last word (with particles such as "de la") the last name; middle names are dropped.
    A first or last name written in all capitals or all lower case is title-cased (O'Brien,
    McDonald, Smith-Jones); one in mixed case is kept as written.
    """
    text = _clean_name(cell_text(value))
    if "," in text:
        last_part, _, first_part = text.partition(",")
        first_words = [word for word in re.split(r"[\s,]+", first_part) if word]
        last_words = last_part.split()
        _drop_suffixes(first_words)
        _drop_suffixes(last_words)
        while len(first_words) > 1 and _INITIAL_RE.match(first_words[-1]):
            first_words.pop()
    else:
        words = text.split()
        _drop_suffixes(words)
        if len(words) < 2:
            raise ValueError(_NAME_MESSAGE)
        start = len(words) - 1
        while start > 1 and words[start - 1].lower() in _PARTICLES:
            start -= 1
        first_words, last_words = words[:1], words[start:]
    first, last = " ".join(first_words), " ".join(last_words)
    if not first or not last:
        raise ValueError(_NAME_MESSAGE)
    return _tidy_case(first), _tidy_case(last)


def clean_name_part(value: object) -> str:
    """A first or last name from its own column, tidied like ``split_patient_name`` does."""
    return _tidy_case(_clean_name(cell_text(value)))


def _clean_name(text: str) -> str:
    text = " ".join(text.translate(_APOSTROPHES).split())
    return text.strip(" ,;.")


def _drop_suffixes(words: list[str]) -> None:
    while len(words) > 1 and words[-1].lower().rstrip(".") in _SUFFIXES:
        words.pop()


def _tidy_case(name: str) -> str:
    # Only names in one case are re-cased: "de la Cruz" and "McDonald" were typed with care.
    return _title_name(name) if name.isupper() or name.islower() else name


def _title_name(name: str) -> str:
    pieces = re.split(r"([\s'\-])", name.lower())
    titled = []
    for piece in pieces:
        if piece.startswith("mc") and len(piece) > 2:
            titled.append("Mc" + piece[2:].capitalize())
        else:
            titled.append(piece.capitalize())
    return "".join(titled)


# ---------------------------------------------------------------------------- codes

_CARC_RE = re.compile(r"^(?:[1-9][0-9]{0,2}|[A-Z][0-9]{1,2})$")
_GROUPS = "|".join(DENIAL_GROUP_CODES)
_DENIAL_RE = re.compile(rf"^(?:({_GROUPS})[\s\-_/:.]*)?([A-Z]?\d{{1,4}})$")
# "CO-16 Claim lacks information", "CO-16: Claim lacks …", "CO16 - Claim lacks …"
_DENIAL_WITH_TEXT_RE = re.compile(
    rf"^((?:(?:{_GROUPS})[\s\-_/]*)?[A-Z]?\d{{1,3}})\s*(?:[:\-\u2013\u2014]\s*|\s)(.*\S)$", re.IGNORECASE
)
_DENIAL_MESSAGE = "{} is not a denial code. Write a group and reason code like CO-16, or the reason code alone like 16."


def normalize_denial_code(value: object) -> str:
    """A claim adjustment reason code, with its group code if given: ``co 16`` → ``CO-16``.

    Group codes are CO, PR, OA, PI and CR; the reason code (CARC) is 1–3 digits or a letter and
    1–2 digits (``A1``, ``B7``). A bare reason code stays bare (``16``): the file did not say
    who is responsible, and guessing CO would be wrong for deductibles (PR-1).
    """
    return _normalize_denial_text(cell_text(value).upper())


@lru_cache(maxsize=_CACHE_SIZE)
def _normalize_denial_text(text: str) -> str:
    match = _DENIAL_RE.match(text)
    if not match:
        raise ValueError(_DENIAL_MESSAGE.format(text))
    group, reason = match.groups()
    if reason.isdigit():
        reason = reason.lstrip("0")
    if not _CARC_RE.match(reason):
        raise ValueError(_DENIAL_MESSAGE.format(text))
    return f"{group}-{reason}" if group else reason


def split_denial_text(value: object) -> tuple[str, str]:
    """``(code, description)`` from a denial-code cell that may carry its description too.

    ``"CO-16"`` → ``("CO-16", "")``; ``"CO-16: Claim lacks information"`` →
    ``("CO-16", "Claim lacks information")``. Raises ``ValueError`` if there is no valid code
    at the start.
    """
    text = cell_text(value)
    try:
        return _normalize_denial_text(text.upper()), ""
    except ValueError:
        match = _DENIAL_WITH_TEXT_RE.match(text)
        if not match:
            raise
    return _normalize_denial_text(match[1].upper()), match[2]


_ICD9_RE = re.compile(r"^\d{3}(?:\.\d{1,2})?$")
_ICD10_SPLIT_RE = re.compile(r"[\s,;|]+")


def validate_icd10_code(code: str) -> str:
    """One ICD-10-CM code, upper case with its dot after the third character: ``e119`` → ``E11.9``.

    Raises ``ValueError`` with a message for the biller. (A model validator wraps this in a
    ``ValidationError``.)
    """
    normal = icd10.normalize(code)
    if not icd10.has_code_format(normal):
        if _ICD9_RE.match(code.strip()):
            raise ValueError(f"{code} looks like an ICD-9 code. Use ICD-10 codes like E11.9.")
        raise ValueError(f"{code} is not an ICD-10 code. Write codes like E11.9 or E119.")
    return normal


def parse_icd10_list(value: object) -> list[str]:
    """Diagnosis codes from one cell, split on commas, semicolons, pipes or spaces, in order.

    Repeats are dropped. Every bad code is named in the error, not just the first.
    """
    return list(_parse_icd10_text(cell_text(value)))


@lru_cache(maxsize=_CACHE_SIZE)
def _parse_icd10_text(text: str) -> tuple[str, ...]:
    codes: list[str] = []
    bad: list[str] = []
    messages: list[str] = []
    for part in _ICD10_SPLIT_RE.split(text):
        if not part:
            continue
        try:
            code = validate_icd10_code(part)
        except ValueError as error:
            bad.append(part)
            messages.append(str(error))
            continue
        if code not in codes:
            codes.append(code)
    if len(bad) == 1:
        raise ValueError(messages[0])
    if bad:
        raise ValueError(f"{', '.join(bad[:-1])} and {bad[-1]} are not ICD-10 codes. Write codes like E11.9.")
    return tuple(codes)


_PROCEDURE_RE = re.compile(r"^(?:[0-9]{4}[0-9A-Z]|[A-V][0-9]{4})$")
_PROCEDURE_WITH_MODIFIERS_RE = re.compile(r"^([0-9A-Z]{5})[\s\-:,]+([0-9A-Z]{2}(?:[\s\-:,]+[0-9A-Z]{2})*)$")
_MODIFIER_RE = re.compile(r"^[0-9A-Z]{2}$")
_MODIFIER_SPLIT_RE = re.compile(r"[\s,;|/\-:]+")
MAX_MODIFIERS = 4


def validate_procedure_code(code: str) -> str:
    """A CPT or HCPCS Level II code, upper case: ``99213``, ``0001F``, ``0042T``, ``J1100``."""
    normal = code.strip().upper()
    if not _PROCEDURE_RE.match(normal):
        raise ValueError(f"{code} is not a CPT or HCPCS code. A code has five characters, like 99213 or J1100.")
    return normal


def parse_cpt(value: object) -> str:
    """A procedure code from a cell.

    Anesthesia codes (00100–01999) lose their leading zeros when a CSV passes through Excel
    (``00100`` → ``100``), so three- and four-digit numbers in that range get them back.
    """
    text = cell_text(value).upper()
    if text.isdigit() and len(text) < 5 and 100 <= int(text) <= 1999:
        text = text.zfill(5)
    return validate_procedure_code(text)


def split_procedure(value: object) -> tuple[str, list[str]]:
    """``(code, modifiers)`` from a procedure cell that may carry modifiers: ``99213-25`` → ``("99213", ["25"])``."""
    text = cell_text(value).upper()
    match = _PROCEDURE_WITH_MODIFIERS_RE.match(text)
    if not match:
        return parse_cpt(value), []
    return validate_procedure_code(match[1]), parse_modifiers(match[2])


def parse_modifiers(value: object) -> list[str]:
    """Procedure modifiers from one cell: ``25``, ``25,59``, ``25 59``, ``RT-LT``; at most four."""
    modifiers = []
    for part in _MODIFIER_SPLIT_RE.split(cell_text(value).upper()):
        if not part:
            continue
        if not _MODIFIER_RE.match(part):
            raise ValueError(f"{part} is not a modifier. Modifiers have two characters, like 25 or 59.")
        if part not in modifiers:
            modifiers.append(part)
    if len(modifiers) > MAX_MODIFIERS:
        raise ValueError("A service has at most four modifiers.")
    return modifiers


# ---------------------------------------------------------------------------- identifiers

_PAYER_ID_RE = re.compile(r"^[A-Z0-9][A-Z0-9\-]{0,19}$")
MAX_MEMBER_ID_LENGTH = 40


def normalize_payer_id(value: object) -> str:
    """An electronic payer ID as text, upper case, leading zeros kept: ``"00590"`` stays ``"00590"``.

    Excel turns a payer ID column into numbers unless it is formatted as text, so ``00590``
    may arrive as the int ``590``. The zeros cannot be recovered here (``590`` could be a real
    ID), so this returns ``"590"`` and the import engine tries zero-padded forms when it looks
    the payer up.
    """
    text = cell_text(value).upper()
    if not _PAYER_ID_RE.match(text):
        raise ValueError(f"{text} is not a payer ID. A payer ID is letters and digits, like 60054.")
    return text


def parse_member_id(value: object) -> str:
    """A member (subscriber) ID as printed on the card, without spaces and in upper case."""
    text = "".join(cell_text(value).split()).upper()
    if len(text) > MAX_MEMBER_ID_LENGTH:
        raise ValueError(f"{text} is too long for a member ID (at most {MAX_MEMBER_ID_LENGTH} characters).")
    return text


def parse_npi(value: object) -> str:
    """A National Provider Identifier: 10 digits whose last is a Luhn check digit."""
    text = cell_text(value)
    if not re.fullmatch(r"\d{10}", text) or not luhn_valid("80840" + text):
        raise ValueError(f"{text} is not a valid NPI. An NPI has 10 digits, like 1234567893.")
    return text


def parse_place_of_service(value: object) -> str:
    """A two-digit place of service code; Excel's ``2`` becomes ``02``."""
    text = cell_text(value)
    if not re.fullmatch(r"\d{1,2}", text) or text in ("0", "00"):
        raise ValueError(f"{text} is not a place of service code. Use two digits, like 11 for office.")
    return text.zfill(2)


_STATUS_SYNONYMS = {"pending_information": "pending_info", "in_progress": "in_process", "writeoff": "written_off"}


def normalize_claim_status(value: object) -> str:
    """A status as a lower-case key: ``In Process`` → ``in_process``. The engine checks it is one we know."""
    key = re.sub(r"[^a-z0-9]+", "_", cell_text(value).lower()).strip("_")
    return _STATUS_SYNONYMS.get(key, key)
