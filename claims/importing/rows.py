"""Turn one spreadsheet row into a typed claim, or into every reason it cannot be one."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from claims.importing.errors import RowError
from claims.importing.headers import LABELS, column_name
from claims.importing.values import (
    MAX_MODIFIERS,
    cell_text,
    clean_name_part,
    normalize_claim_status,
    normalize_payer_id,
    parse_date,
    parse_icd10_list,
    parse_member_id,
    parse_modifiers,
    parse_money,
    parse_npi,
    parse_place_of_service,
    parse_units,
    split_denial_text,
    split_patient_name,
    split_procedure,
)

# The longest text the claim, policy and patient tables keep for these fields.
MAX_LENGTHS = {"claim_number": 50, "group_number": 40, "account_number": 40}
MAX_NAME_LENGTH = 100
MAX_SHOWN_VALUE = 500

_TOTAL_LABEL_RE = re.compile(r"^(?:(?:grand|sub)[\s\-]*)?totals?\s*(?::.*|\(.*\)|for\b.*|\d.*)?$|^sum\s*:?$", re.I)
_NUMERIC_FIELDS = {"amount", "paid_amount", "opening_balance", "units"}


@dataclass(slots=True, kw_only=True)
class ClaimRow:
    """One row of a claims file, checked and typed. Optional fields are empty (``""``, ``[]``, None)."""

    row_number: int
    claim_number: str
    first_name: str
    last_name: str
    date_of_service: date
    amount: Decimal
    dob: date | None = None
    date_of_service_to: date | None = None
    paid_amount: Decimal | None = None
    # What the file says is still owed; None when it has no balance beside the charge.
    opening_balance: Decimal | None = None
    denial_code: str = ""
    denial_reason: str = ""
    payer_id: str = ""
    payer_name: str = ""
    member_id: str = ""
    group_number: str = ""
    cpt: str = ""
    modifiers: list[str] = field(default_factory=list)
    units: Decimal | None = None
    icd10: list[str] = field(default_factory=list)
    place_of_service: str = ""
    claim_status: str = ""
    provider_npi: str = ""
    account_number: str = ""


_REQUIRED = ("claim_number", "date_of_service", "amount")
_NAME_FIELDS = ("patient_name", "patient_first_name", "patient_last_name")


class RowParser:
    """Parses rows for one column mapping; build one per file (``parse_row`` keeps the last one).

    ``mapping`` is column index → field name (string indexes, as a JSON field returns them, are
    fine). ``headers`` are the header row's cells as written, used to name columns in errors.
    With ``require_payer`` a row without payer ID or payer name is an error (no default payer).
    With ``decimal_comma`` amounts may be written ``1.234,56`` (see ``values.parse_money``).
    """

    def __init__(
        self,
        mapping: Mapping[int | str, str],
        headers: list[str],
        *,
        require_payer: bool = False,
        decimal_comma: bool = False,
    ) -> None:
        self.mapping = {int(index): name for index, name in mapping.items()}
        self.headers = headers
        self.require_payer = require_payer
        self.decimal_comma = decimal_comma
        self.today = date.today()
        items = sorted(self.mapping.items())
        self._fields = set(self.mapping.values())
        self._columns: dict[str, str] = {}
        self._claim_index = next((i for i, name in items if name == "claim_number"), None)
        self._numeric_indexes = {i for i, name in items if name in _NUMERIC_FIELDS}
        self._name_indexes = {name: i for i, name in items if name in _NAME_FIELDS}
        self._indexes = {name: i for i, name in reversed(items)}
        self._positions = {self.column(name): i for name, i in self._indexes.items()}
        parsers = self._parsers()
        self._steps = [(i, name, parsers[name]) for i, name in items if name in parsers]

    def _parsers(self) -> dict[str, Callable[[object], object]]:
        year = self.today.year

        def parse_this_date(value: object) -> date:
            return parse_date(value, this_year=year)

        def parse_amount(value: object) -> Decimal:
            return parse_money(value, decimal_comma=self.decimal_comma)

        return {
            "claim_number": cell_text,
            "patient_dob": parse_this_date,
            "date_of_service": parse_this_date,
            "date_of_service_to": parse_this_date,
            "amount": parse_amount,
            "paid_amount": parse_amount,
            "opening_balance": parse_amount,
            "denial_code": split_denial_text,
            "denial_reason": cell_text,
            "payer_id": normalize_payer_id,
            "payer_name": cell_text,
            "member_id": parse_member_id,
            "group_number": cell_text,
            "cpt": split_procedure,
            "modifiers": parse_modifiers,
            "units": parse_units,
            "icd10": parse_icd10_list,
            "place_of_service": parse_place_of_service,
            "claim_status": normalize_claim_status,
            "provider_npi": parse_npi,
            "account_number": cell_text,
        }

    def column(self, name: str) -> str:
        """How the file names the column for field ``name`` (its label if the file has none)."""
        if name not in self._columns:
            self._columns[name] = column_name(self.mapping, self.headers, name)
        return self._columns[name]

    def parse(self, row_number: int, values: list) -> tuple[ClaimRow | None, list[RowError]]:
        """The row as a ``ClaimRow`` and no errors, or None and every problem found in it."""
        parsed: dict[str, Any] = {}
        errors: list[RowError] = []
        failed: set[str] = set()
        width = len(values)
        for index, name, parser in self._steps:
            value = values[index] if index < width else None
            # The readers give None for blank cells; other callers may pass blank text.
            if value is None or (type(value) is str and not value.strip()):
                continue
            try:
                parsed[name] = parser(value)
            except ValueError as error:
                errors.append(RowError(row_number, self.column(name), _shown(value), str(error)))
                failed.add(name)

        def fail(name: str, message: str) -> None:
            index = self._indexes.get(name)
            value = values[index] if index is not None and index < width else None
            errors.append(RowError(row_number, self.column(name), _shown(value), message))

        for name in _REQUIRED:
            if name not in failed and parsed.get(name) in (None, ""):
                fail(name, f"{LABELS[name]} is missing.")
        first_name, last_name = self._patient_name(values, fail)
        claim_number = parsed.get("claim_number", "")
        dob = parsed.get("patient_dob")
        date_of_service = parsed.get("date_of_service")
        date_of_service_to = parsed.get("date_of_service_to")
        amount = parsed.get("amount")
        paid_amount = parsed.get("paid_amount")
        opening_balance = parsed.get("opening_balance")
        denial_code, denial_text = parsed.get("denial_code", ("", ""))
        cpt, cpt_modifiers = parsed.get("cpt", ("", []))
        modifiers = parsed.get("modifiers", [])

        for name in ("claim_number", "group_number", "account_number"):
            if len(parsed.get(name, "")) > MAX_LENGTHS[name]:
                fail(name, f"{LABELS[name]} is longer than {MAX_LENGTHS[name]} characters.")
        for name, part in (("patient_first_name", first_name), ("patient_last_name", last_name)):
            if len(part) > MAX_NAME_LENGTH:
                column = name if name in self._name_indexes else "patient_name"
                fail(column, f"{LABELS[name]} is longer than {MAX_NAME_LENGTH} characters.")
        if dob and dob > self.today:
            fail("patient_dob", "Date of birth is in the future.")
        if dob and date_of_service and date_of_service < dob:
            fail("date_of_service", "Date of service is before the date of birth.")
        if date_of_service and date_of_service_to and date_of_service_to < date_of_service:
            fail("date_of_service_to", "Date of service (to) is before the date of service.")
        if amount is not None and amount < 0:
            fail("amount", "Amount cannot be negative.")
        if paid_amount is not None and paid_amount < 0:
            fail("paid_amount", "Paid amount cannot be negative.")
        if opening_balance is not None and (problem := _opening_balance_problem(amount, paid_amount, opening_balance)):
            fail("opening_balance", problem)
        payer_given = parsed.get("payer_id") or parsed.get("payer_name") or {"payer_id", "payer_name"} & failed
        if self.require_payer and not payer_given:
            fail(
                "payer_id" if "payer_id" in self._fields and "payer_name" not in self._fields else "payer_name",
                "Payer is missing.",
            )
        if cpt_modifiers:
            modifiers = list(dict.fromkeys([*cpt_modifiers, *modifiers]))
            if len(modifiers) > MAX_MODIFIERS:
                fail("modifiers", "A service has at most four modifiers.")

        if errors:
            # Left to right, as the biller reads the row; missing columns last.
            errors.sort(key=lambda error: self._positions.get(error.column, width))
            return None, errors
        return (
            ClaimRow(
                row_number=row_number,
                claim_number=claim_number,
                first_name=first_name,
                last_name=last_name,
                dob=dob,
                date_of_service=date_of_service,
                date_of_service_to=date_of_service_to,
                amount=amount,
                paid_amount=paid_amount,
                opening_balance=opening_balance,
                denial_code=denial_code,
                denial_reason=parsed.get("denial_reason") or denial_text,
                payer_id=parsed.get("payer_id", ""),
                payer_name=parsed.get("payer_name", ""),
                member_id=parsed.get("member_id", ""),
                group_number=parsed.get("group_number", ""),
                cpt=cpt,
                modifiers=modifiers,
                units=parsed.get("units"),
                icd10=parsed.get("icd10", []),
                place_of_service=parsed.get("place_of_service", ""),
                claim_status=parsed.get("claim_status", ""),
                provider_npi=parsed.get("provider_npi", ""),
                account_number=parsed.get("account_number", ""),
            ),
            [],
        )

    def _patient_name(self, values: list, fail: Callable[[str, str], None]) -> tuple[str, str]:
        """First and last name from their own columns if both are filled in, else from the name column."""
        cells = {name: values[i] for name, i in self._name_indexes.items() if i < len(values)}
        first = clean_name_part(cells["patient_first_name"]) if cells.get("patient_first_name") else ""
        last = clean_name_part(cells["patient_last_name"]) if cells.get("patient_last_name") else ""
        if first and last:
            return first, last
        if cells.get("patient_name") not in (None, ""):
            try:
                return split_patient_name(cells["patient_name"])
            except ValueError as error:
                fail("patient_name", str(error))
                return "", ""
        if first or last:
            missing = "patient_last_name" if first else "patient_first_name"
            fail(missing, f"{LABELS[missing]} is missing.")
        elif "patient_name" in self._fields or "patient_last_name" not in self._fields:
            fail("patient_name", "Patient name is missing.")
        else:
            fail("patient_last_name", "Patient name is missing.")
        return "", ""

    def is_totals(self, values: list) -> bool:
        """A totals or summary row under the claims, to be skipped rather than reported.

        That is a row whose claim number cell says TOTAL (or Totals, Grand Total, Subtotal,
        Sum); or, with the claim number blank, a row with such a word in any cell, or a row
        with nothing but numbers in the amount columns.
        """
        index = self._claim_index
        claim = values[index] if index is not None and index < len(values) else None
        if claim is not None:
            return isinstance(claim, str) and _is_total_label(claim)
        filled = [(i, value) for i, value in enumerate(values) if value is not None]
        if any(isinstance(value, str) and _is_total_label(value) for _i, value in filled):
            return True
        return bool(filled) and all(
            i in self._numeric_indexes and _is_number(value, self.decimal_comma) for i, value in filled
        )


def parse_row(
    row_number: int, values: list, mapping: Mapping[int | str, str], headers: list[str], *, require_payer: bool = False
) -> tuple[ClaimRow | None, list[RowError]]:
    """One row as a ``ClaimRow`` and ``[]``, or None and all of its errors. See ``RowParser``."""
    return _parser_for(mapping, headers, require_payer).parse(row_number, values)


def is_totals_row(values: list, mapping: Mapping[int | str, str]) -> bool:
    """Whether a row is a totals or summary line to skip. See ``RowParser.is_totals``."""
    return _parser_for(mapping, None, False).is_totals(values)


# The last parser built per purpose: (mapping, headers, require_payer, day, parser).
_recent: dict[str, tuple[dict, list[str] | None, bool, date, RowParser]] = {}


def _parser_for(mapping: Mapping[int | str, str], headers: list[str] | None, require_payer: bool) -> RowParser:
    """The parser for this mapping, reused while the same file's rows keep coming.

    ``parse_row`` and ``is_totals_row`` are called once per row with the same mapping; building
    a parser each time would double the cost of a 100,000-row import. The entry is rebuilt on a
    new day so that "in the future" stays true. ``headers`` None means only totals are checked.
    """
    purpose = "totals" if headers is None else "rows"
    today = date.today()
    last = _recent.get(purpose)
    if last and last[2] == require_payer and last[3] == today and last[0] == mapping and last[1] == headers:
        return last[4]
    parser = RowParser(mapping, list(headers or ()), require_payer=require_payer)
    _recent[purpose] = (dict(mapping), None if headers is None else list(headers), require_payer, today, parser)
    return parser


class DuplicateTracker:
    """Remembers the claim numbers of a file's good rows, to report a claim that appears twice.

    Claim numbers are compared without regard to case, as the claims table does.
    """

    def __init__(self, column: str = LABELS["claim_number"]) -> None:
        self.column = column
        self._first_rows: dict[str, int] = {}

    def check(self, row: ClaimRow) -> RowError | None:
        """None the first time a claim number is seen; an error naming the first row after that."""
        first = self._first_rows.setdefault(row.claim_number.upper(), row.row_number)
        if first == row.row_number:
            return None
        message = f"Claim number {row.claim_number} appears again; first on row {first}."
        return RowError(row.row_number, self.column, row.claim_number, message)


def _opening_balance_problem(amount: Decimal | None, paid: Decimal | None, balance: Decimal) -> str | None:
    """Why the charge cannot leave this balance owed, if it cannot: the ledger can only post the
    part of the charge that was paid or adjusted before, never a negative part."""
    if balance < 0:
        return "Balance cannot be negative."
    if amount is None or amount < 0 or (paid is not None and paid < 0):
        return None  # the amount or paid amount is reported already
    if paid:
        if balance > amount - paid:
            return (
                f"The balance (${balance:,.2f}) is more than the charge less the paid amount (${amount - paid:,.2f})."
            )
    elif balance > amount:
        return f"The balance (${balance:,.2f}) is more than the charge (${amount:,.2f})."
    return None


def _is_total_label(text: str) -> bool:
    return text[:1] in "TtGgSs" and bool(_TOTAL_LABEL_RE.match(text.strip()))


def _is_number(value: object, decimal_comma: bool = False) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float | Decimal):
        return True
    try:
        parse_money(value, decimal_comma=decimal_comma)
    except ValueError:
        return False
    return True


def _shown(value: object) -> str:
    return cell_text(value)[:MAX_SHOWN_VALUE]
