"""Which claim field each column of a spreadsheet holds, from the names billers' systems give them.

Header text is compared after normalising: lower case, letters and digits only, camelCase split,
and "#", "no", "num" and "nbr" read as "number" (so "Claim #", "claim_no" and "ClaimNo" are one
name). The comparison is exact against a list of known names: a bare "Code" is the denial code
while "CPT Code" is the procedure, and nothing is matched on a substring.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from claims.importing.values import cell_text

HEADER_SCAN_ROWS = 15


class Field(NamedTuple):
    name: str
    label: str
    required: bool


# In the order a mapping form shows them. "required" marks what every file needs; the patient's
# name may instead come as first and last name, and the payer from a default for the whole file.
FIELDS: list[Field] = [
    Field("claim_number", "Claim number", True),
    Field("patient_name", "Patient name", True),
    Field("patient_first_name", "Patient first name", False),
    Field("patient_last_name", "Patient last name", False),
    Field("patient_dob", "Patient date of birth", False),
    Field("date_of_service", "Date of service", True),
    Field("date_of_service_to", "Date of service (to)", False),
    Field("amount", "Amount", True),
    Field("paid_amount", "Paid amount", False),
    Field("opening_balance", "Opening balance", False),
    Field("denial_code", "Denial code", False),
    Field("denial_reason", "Denial reason", False),
    Field("payer_id", "Payer ID", False),
    Field("payer_name", "Payer", False),
    Field("member_id", "Member ID", False),
    Field("group_number", "Group number", False),
    Field("cpt", "CPT/HCPCS", False),
    Field("modifiers", "Modifiers", False),
    Field("units", "Units", False),
    Field("icd10", "Diagnosis codes (ICD-10)", False),
    Field("place_of_service", "Place of service", False),
    Field("claim_status", "Claim status", False),
    Field("provider_npi", "Provider NPI", False),
    Field("account_number", "Patient account number", False),
]
LABELS: dict[str, str] = {field.name: field.label for field in FIELDS}

# Names seen in practice-management and clearinghouse exports. Each field's own name and label
# are added below. Deliberately absent: "ICN" (the payer's control number, not the practice's
# claim number), "insurance id" (a member ID on some cards, a payer ID in other systems) and
# a bare "date" or "description".
ALIASES: dict[str, tuple[str, ...]] = {
    "claim_number": ("claim", "claim no", "claim #", "claim num", "claim id", "claim ref", "claim reference"),
    "patient_name": (
        "patient",
        "name",
        "patient full name",
        "full name",
        "pt name",
        "patient name (last, first)",
        "patient last first",
    ),
    "patient_first_name": ("first name", "first", "fname", "given name", "pt first name", "patient first"),
    "patient_last_name": ("last name", "last", "lname", "surname", "family name", "pt last name", "patient last"),
    "patient_dob": (
        "dob",
        "date of birth",
        "birth date",
        "birthdate",
        "birthday",
        "pt dob",
        "patient birth date",
        "patient date of birth",
    ),
    "date_of_service": (
        "dos",
        "service date",
        "from date",
        "dos from",
        "from dos",
        "date of service from",
        "service date from",
        "service from",
        "svc date",
        "dos start",
        "visit date",
        "encounter date",
    ),
    "date_of_service_to": (
        "dos to",
        "dos thru",
        "dos through",
        "to date",
        "thru date",
        "through date",
        "date of service to",
        "service date to",
        "service to",
        "dos end",
    ),
    "amount": (
        "billed",
        "charge",
        "charges",
        "total charge",
        "total charges",
        "claim amount",
        "billed amount",
        "amount billed",
        "charge amount",
        "total billed",
        "amt",
        "total",
        "total amount",
    ),
    "paid_amount": ("paid", "amount paid", "paid amt", "payment", "payments", "insurance paid", "ins paid"),
    "denial_reason": (
        "denial",
        "reason",
        "denial description",
        "denial reason description",
        "reason description",
        "denial message",
        "carc description",
        "reason code description",
    ),
    "denial_code": (
        "code",
        "carc",
        "carc code",
        "adjustment code",
        "adjustment reason code",
        "adj code",
        "reason code",
        "denial reason code",
        "claim adjustment reason code",
    ),
    "payer_id": (
        "payer id",
        "payerid",
        "payer number",
        "payer no",
        "payor id",
        "payor number",
        "edi payer id",
        "electronic payer id",
    ),
    "payer_name": (
        "payer",
        "payer name",
        "payor",
        "payor name",
        "insurance",
        "insurance name",
        "insurance company",
        "ins name",
        "insurer",
        "carrier",
        "carrier name",
        "plan",
        "plan name",
        "health plan",
    ),
    "member_id": (
        "member",
        "member id",
        "member number",
        "subscriber",
        "subscriber id",
        "subscriber number",
        "policy",
        "policy number",
        "policy id",
        "insured id",
        "insured id number",
    ),
    "group_number": ("group", "group no", "group id", "grp", "policy group"),
    "cpt": (
        "cpt",
        "cpt code",
        "cpt4",
        "procedure",
        "procedure code",
        "proc",
        "proc code",
        "hcpcs",
        "hcpcs code",
        "cpt/hcpcs",
        "service code",
    ),
    "modifiers": ("modifier", "mod", "mods", "cpt modifier"),
    "units": ("unit", "qty", "quantity", "service units", "days/units", "days or units"),
    "icd10": (
        "icd10",
        "icd-10",
        "icd 10 codes",
        "icd10 code",
        "icd",
        "icd code",
        "icd codes",
        "diagnosis",
        "diagnoses",
        "diagnosis code",
        "diagnosis codes",
        "primary diagnosis",
        "diag",
        "diag code",
        "dx",
        "dx code",
        "dx codes",
    ),
    "place_of_service": ("pos", "pos code", "place of service code"),
    "claim_status": ("status", "ar status"),
    "provider_npi": ("npi", "rendering npi", "billing npi", "rendering provider npi"),
    "account_number": (
        "account",
        "account no",
        "acct",
        "acct no",
        "patient account",
        "patient account no",
        "pat acct",
        "mrn",
        "medical record number",
        "chart",
        "chart no",
        "patient id",
        "pt id",
    ),
}

# What is still owed on a claim. Many AR exports have only this column, and then it is taken as
# the amount; next to a charge column it is the claim's opening balance, because the amount is
# what was billed (``map_headers``).
BALANCE_ALIASES = (
    "balance",
    "outstanding",
    "balance due",
    "outstanding balance",
    "open balance",
    "claim balance",
    "ar balance",
    "insurance balance",
    "ins balance",
    "amount due",
)

_NUMBER_WORDS = {"#", "no", "num", "nbr", "number"}
_CAMEL_RE = re.compile(r"([a-z])([A-Z])")
_TOKEN_RE = re.compile(r"[a-z0-9]+|#")
# Tried when the whole name is unknown: "Primary Payer ID", "Modifier 1", "Dx 1".
_QUALIFIER_RE = re.compile(r"^(?:primary|prim|pri)(?=.)|(?<=[a-z])1$")


def normalize_header(text: str) -> str:
    """``"Claim #"`` → ``"claimnumber"``; ``"DOS (From)"`` → ``"dosfrom"``; ``"ClaimNo"`` → ``"claimnumber"``."""
    words = _TOKEN_RE.findall(_CAMEL_RE.sub(r"\1 \2", text).lower())
    return "".join("number" if word in _NUMBER_WORDS else word for word in words)


def _build_aliases() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for name, label, _required in FIELDS:
        for text in (name, label, *ALIASES.get(name, ())):
            key = normalize_header(text)
            if lookup.setdefault(key, name) != name:
                raise ValueError(f"Header alias {text!r} is given to both {lookup[key]} and {name}.")
    for text in BALANCE_ALIASES:
        key = normalize_header(text)
        if lookup.setdefault(key, "amount") != "amount":
            raise ValueError(f"Header alias {text!r} is given to both the balance and {lookup[key]}.")
    return lookup


_LOOKUP = _build_aliases()
_BALANCE_KEYS = frozenset(normalize_header(text) for text in BALANCE_ALIASES)


def is_balance_header(text: str) -> bool:
    """Whether a column name means the balance still owed ("Balance", "Amount Due", "Outstanding")."""
    key = normalize_header(text)
    return key in _BALANCE_KEYS or _QUALIFIER_RE.sub("", key) in _BALANCE_KEYS


def match_header(text: str) -> str | None:
    """The field a column name stands for, or None. A balance column stands for the amount here;
    ``map_headers`` makes it the opening balance when another column holds the charge."""
    key = normalize_header(text)
    if not key:
        return None
    return _LOOKUP.get(key) or _LOOKUP.get(_QUALIFIER_RE.sub("", key))


@dataclass
class HeaderMatch:
    """The header row found in a file, and what each of its columns holds.

    ``headers`` are the cells of the header row as text, as written. ``mapping`` is column
    index → field name; ``unmapped`` lists the named columns we did not recognise and those
    naming a field an earlier column already has. A balance column beside a charge column is
    the opening balance.
    """

    row_number: int
    headers: list[str]
    mapping: dict[int, str]
    unmapped: list[int]

    def column_name(self, field: str) -> str:
        """The file's name for the column holding ``field``, or the field's label if none does."""
        return column_name(self.mapping, self.headers, field)


def map_headers(cells: Iterable[object]) -> tuple[dict[int, str], list[int]]:
    """``(mapping, unmapped)`` for one candidate header row. The first column naming a field wins."""
    cells = list(cells)
    mapping: dict[int, str] = {}
    unmapped: list[int] = []
    taken: set[str] = set()
    # A balance column is the amount only when no column names the charge; beside one it is the opening balance.
    has_charge = any(
        isinstance(cell, str) and match_header(cell) == "amount" and not is_balance_header(cell) for cell in cells
    )
    for index, cell in enumerate(cells):
        # Headers are text; a number or date in a row means it is data, not a header.
        if not isinstance(cell, str) or not cell.strip():
            if cell is not None:
                unmapped.append(index)
            continue
        field = match_header(cell)
        if field == "opening_balance" or is_balance_header(cell):
            field = "opening_balance" if has_charge else "amount"
        if field is None or field in taken:
            unmapped.append(index)
        else:
            mapping[index] = field
            taken.add(field)
    return mapping, unmapped


def detect_header(first_rows: list[tuple[int, list]]) -> HeaderMatch | None:
    """The header among the first rows of a file: the row naming the most fields we know.

    A header names at least two known fields, one of them the claim number or the patient's
    name, so title rows ("Practice AR export … Run 2026-11-02") and data rows are passed over.
    On a tie the upper row wins. None if no row qualifies.
    """
    best: HeaderMatch | None = None
    for row_number, values in first_rows[:HEADER_SCAN_ROWS]:
        mapping, unmapped = map_headers(values)
        fields = set(mapping.values())
        if len(fields) < 2 or not fields & {"claim_number", "patient_name", "patient_last_name"}:
            continue
        if best is None or len(mapping) > len(best.mapping):
            headers = [cell_text(value) for value in values]
            best = HeaderMatch(row_number=row_number, headers=headers, mapping=mapping, unmapped=unmapped)
    return best


def column_name(mapping: Mapping[int, str], headers: list[str], field: str) -> str:
    """The header written over the column mapped to ``field``; its label if unmapped or blank."""
    for index, name in mapping.items():
        if name == field:
            index = int(index)
            if index < len(headers) and headers[index]:
                return str(headers[index])
            break
    return LABELS.get(field, field)


def column_notes(headers: list[str], mapping: Mapping[int | str, str]) -> dict[int, str]:
    """Column index → what happens to a balance column beside the charge column, for the column check.

    The balance set as the opening balance says what that means; another balance column says
    it is not imported, and where the opening balance comes from, if anywhere.
    """
    if "amount" not in mapping.values():
        return {}
    mapping = {int(index): field for index, field in mapping.items()}
    charge = column_name(mapping, headers, "amount")
    opening = column_name(mapping, headers, "opening_balance") if "opening_balance" in mapping.values() else None
    said = "This looks like the balance still owed."
    notes = {}
    for index, header in enumerate(headers):
        field = mapping.get(index)
        if field == "opening_balance":
            notes[index] = (
                f"{said} It becomes the claim's opening balance: the part of {charge} it leaves out "
                "is posted to the ledger as paid or adjusted before the import."
            )
        elif field is None and header and is_balance_header(header):
            notes[index] = (
                f"{said} It is not imported: the opening balance comes from {opening}."
                if opening
                else f"{said} It is not imported; choose Opening balance to start each claim with it."
            )
    return notes


def validate_mapping(mapping: Mapping[int, str], has_default_payer: bool) -> list[str]:
    """What is wrong with a column mapping before an import can run, as sentences; empty if fine.

    A missing date of birth is not a problem here: patients already on file can be matched
    without it. (Two columns set to one field are the mapping form's to report.)
    """
    fields = list(mapping.values())
    problems = [f"{name} is not a field we know." for name in fields if name not in LABELS]
    chosen = set(fields)
    if "claim_number" not in chosen:
        problems.append("Choose the column with the claim number.")
    if "patient_name" not in chosen and not {"patient_first_name", "patient_last_name"} <= chosen:
        problems.append("Choose the column with the patient name, or the columns with the first and last name.")
    if "date_of_service" not in chosen:
        problems.append("Choose the column with the date of service.")
    if "amount" not in chosen:
        problems.append("Choose the column with the amount.")
    if not has_default_payer and not chosen & {"payer_id", "payer_name"}:
        problems.append("Choose the column with the payer or payer ID, or pick one payer for the whole file.")
    return problems
