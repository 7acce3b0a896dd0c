"""The practice's fee schedule: what it charges per procedure code (and modifier).

Charge capture prices a claim's lines from this list (``claims.services.fees_for``), copying the
charge onto the line, so changing or removing an entry never touches an existing claim.

Every member reads the list; practice admins add, change and remove entries, one at a time or
by pasting lines from a spreadsheet. A paste is all or nothing: every line is checked first, and
one bad line saves none, with a report naming each bad line and why.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from billingpulse.lib import unique
from billingpulse.lib.unique import Duplicate, save_form
from billingpulse.models import Practice
from billingpulse.tenancy import AuthedRequest, admin_required, get_for_practice, member_required, scoped
from claims.importing.values import parse_money
from claims.models import MODIFIER_PATTERN, ZERO, FeeScheduleEntry, validate_procedure_code

LIST = "claims/fee_schedule.html"
# The sidebar marks "Fee schedule" (under Practice) rather than the Claims section.
NAV = {"nav_current": "claims:fee_schedule"}
DUPLICATE = unique.message(FeeScheduleEntry, "fee_schedule_code_unique_per_practice")
MAX_PASTED_LINES = 2000
# "99213, 110.00" · "99213 25 130.00" · "99213-25 $1,250.00": columns apart by spaces or a comma
# and a space; the charge is the rest of the line.
_SEP = r"(?:\s*,\s+|\s+)"
_SPACED = re.compile(rf"^(?P<code>[^\s,]+){_SEP}(?:(?P<modifier>[^\s,$]{{2}}){_SEP})?(?P<charge>\S.*)$")
_CSV_STYLE = re.compile(r"^[^\s,]+,(?!\s)")
_HEADER_WORDS = {"code", "cpt", "hcpcs", "cpt/hcpcs", "procedure"}


# -- parsing ---------------------------------------------------------------------------------------


def clean_code(value: str) -> str:
    code = (value or "").strip().upper()
    try:
        validate_procedure_code(code)
    except ValidationError:
        shown = (value or "").strip() or "An empty code"
        raise ValidationError(f"{shown} is not a CPT or HCPCS code (like 99213 or J1100).") from None
    return code


def clean_modifier(value: str) -> str:
    modifier = (value or "").strip().upper()
    if modifier and not re.match(MODIFIER_PATTERN, modifier):
        raise ValidationError(f"{value.strip()} is not a modifier. A modifier is two characters, like 25 or LT.")
    return modifier


def clean_charge(value: str) -> Decimal:
    """A charge in dollars: ``110``, ``110.00``, ``$1,250.00``; zero allowed, negative not."""
    try:
        charge = parse_money((value or "").strip())
    except ValueError as error:
        raise ValidationError(str(error)) from None
    if charge < ZERO:
        raise ValidationError("A charge cannot be negative.")
    return charge


@dataclass(frozen=True)
class FeeLine:
    number: int
    code: str
    modifier: str
    charge: Decimal

    @property
    def key(self) -> str:
        return f"{self.code}-{self.modifier}" if self.modifier else self.code


def parse_lines(text: str) -> tuple[list[FeeLine], list[str]]:
    """The pasted lines as fee lines, and a message per bad line ("Line 3: …").

    Blank lines are skipped, and so is a first line of column headings (``Code, Modifier, Charge``).
    """
    lines: list[FeeLine] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    raw_lines = text.splitlines()
    for number, raw in enumerate(raw_lines, start=1):
        line = raw.strip()
        if not line:
            continue
        first = re.split(r"[\s,]+", line)[0].strip('"').lower()
        if not lines and not problems and first in _HEADER_WORDS:
            continue
        try:
            fee = _parse_line(number, line)
        except ValidationError as error:
            problems.append(f"Line {number}: {' '.join(error.messages)}")
            continue
        if fee.key in seen:
            problems.append(f"Line {number}: {fee.key} is already on line {seen[fee.key]}.")
            continue
        seen[fee.key] = number
        lines.append(fee)
    return lines, problems


def _parse_line(number: int, line: str) -> FeeLine:
    code, modifier, charge = _cells(line)
    if "-" in code and not modifier:
        code, _, modifier = code.partition("-")
    problems: list[str] = []
    cleaned: dict[str, object] = {}
    for name, value, clean in (("code", code, clean_code), ("modifier", modifier, clean_modifier)):
        try:
            cleaned[name] = clean(value)
        except ValidationError as error:
            problems.extend(error.messages)
    try:
        cleaned["charge"] = clean_charge(charge)
    except ValidationError as error:
        problems.extend(error.messages)
    if problems:
        raise ValidationError(problems)
    return FeeLine(number, cleaned["code"], cleaned["modifier"], cleaned["charge"])  # type: ignore[arg-type]


def _cells(line: str) -> tuple[str, str, str]:
    """A line's code, modifier (maybe empty) and charge text.

    Cells copied from a spreadsheet are split at tabs, and a CSV line (``99213,25,130.00``, a
    comma straight after the code) as CSV, quotes and all. Otherwise the columns are separated by
    spaces or a comma and a space, so the comma of ``99213, 12,500.00`` stays in the amount.
    """
    if "\t" in line or _CSV_STYLE.match(line):
        cells = [cell.strip() for cell in (line.split("\t") if "\t" in line else next(csv.reader([line])))]
        while len(cells) > 2 and not cells[-1]:
            cells.pop()
        if len(cells) == 2:
            cells.insert(1, "")
        if len(cells) == 3:
            return cells[0], cells[1], cells[2]
    elif match := _SPACED.match(line):
        return match["code"], match["modifier"] or "", match["charge"]
    raise ValidationError("Give a code, an optional modifier and a charge, like 99213 25 130.00.")


# -- forms -----------------------------------------------------------------------------------------


class FeeEntryForm(forms.ModelForm):
    charge = forms.CharField(
        max_length=30,
        help_text="In dollars, like 110.00 or $1,250.00.",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "money", "autocomplete": "off"}),
    )

    class Meta:
        model = FeeScheduleEntry
        fields = ["code", "modifier", "charge"]
        labels = {"code": "CPT/HCPCS code"}
        help_texts = {"code": "Five characters, like 99213 or J1100."}
        widgets = {
            "code": forms.TextInput(attrs={"class": "mono", "autocomplete": "off"}),
            "modifier": forms.TextInput(attrs={"class": "mono", "autocomplete": "off", "maxlength": 2}),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["charge"] = f"{self.instance.charge:.2f}"

    def clean_code(self) -> str:
        return clean_code(self.cleaned_data["code"])

    def clean_modifier(self) -> str:
        return clean_modifier(self.cleaned_data.get("modifier", ""))

    def clean_charge(self) -> Decimal:
        return clean_charge(self.cleaned_data["charge"])

    def clean(self) -> dict:
        data = super().clean()
        if "code" in data and "modifier" in data:
            # The view sets instance.practice; the unique constraint spans it, so check here.
            others = FeeScheduleEntry.objects.filter(
                practice_id=self.instance.practice_id, code=data["code"], modifier=data["modifier"]
            )
            if others.exclude(pk=self.instance.pk).exists():
                self.add_error("code", DUPLICATE)
        return data


class FeePasteForm(forms.Form):
    lines = forms.CharField(
        label="Lines to add",
        max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 10, "class": "mono", "spellcheck": "false"}),
        help_text="One code a line: code, modifier if any, charge. Like 99213, 110.00 or 99213 25 130.00; "
        "cells copied from a spreadsheet work too.",
        error_messages={"required": "Paste at least one line."},
    )
    replace = forms.BooleanField(
        label="Replace the charge of codes already in the fee schedule",
        required=False,
    )

    def __init__(self, *args, practice: Practice, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.practice = practice
        self.fee_lines: list[FeeLine] = []
        self.problems: list[str] = []

    def clean(self) -> dict:
        data = super().clean()
        if "lines" not in data:
            return data
        self.fee_lines, self.problems = parse_lines(data["lines"])
        if len(self.fee_lines) + len(self.problems) > MAX_PASTED_LINES:
            raise ValidationError(f"Paste at most {MAX_PASTED_LINES} lines at a time.")
        if not data.get("replace"):
            self.problems += existing_problems(self.practice, self.fee_lines)
        self.problems.sort(key=lambda text: int(text.split(":", 1)[0].removeprefix("Line ")))
        if self.problems:
            count = len(self.problems)
            raise ValidationError(f"{count} line{'s' if count != 1 else ''} need fixing; nothing was saved.")
        if not self.fee_lines:
            self.add_error("lines", "Paste at least one line.")
        return data


def existing_problems(practice: Practice, lines: list[FeeLine]) -> list[str]:
    """A message for each line whose code and modifier already have a charge in the schedule."""
    if not lines:
        return []
    match = Q()
    for line in lines:
        match |= Q(code=line.code, modifier=line.modifier)
    stored = {
        (entry.code, entry.modifier): entry.charge
        for entry in FeeScheduleEntry.objects.filter(match, practice=practice)
    }
    return [
        f"Line {line.number}: {line.key} is already in the fee schedule at ${stored[(line.code, line.modifier)]:,.2f}. "
        "Tick “Replace” to change it."
        for line in lines
        if (line.code, line.modifier) in stored
    ]


@transaction.atomic
def save_lines(practice: Practice, lines: list[FeeLine], *, replace: bool = False) -> tuple[int, int]:
    """Add each line to the practice's fee schedule (with ``replace``, change the charge of an
    entry it already has); all or nothing. Returns how many were added and how many changed.

    Without ``replace`` an entry added meanwhile by someone else is a ``Duplicate`` and nothing
    is saved."""
    added = changed = 0
    with unique.unique_errors():
        for line in lines:
            if not replace:
                FeeScheduleEntry.objects.create(
                    practice=practice, code=line.code, modifier=line.modifier, charge=line.charge
                )
                added += 1
                continue
            _, created = FeeScheduleEntry.objects.update_or_create(
                practice=practice, code=line.code, modifier=line.modifier, defaults={"charge": line.charge}
            )
            added, changed = added + created, changed + (not created)
    return added, changed


# -- views -----------------------------------------------------------------------------------------


@require_GET
@vary_on_headers("HX-Request")
@member_required
def fee_schedule(request: AuthedRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:20]
    entries = scoped(request, FeeScheduleEntry).order_by("code", "modifier")
    shown = entries.filter(code__istartswith=query.upper()) if query else entries
    context = {"entries": shown, "query": query, "total": entries.count(), **NAV}
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, f"{LIST}#fee-table", context)
    return render(request, LIST, context)


@require_http_methods(["GET", "POST"])
@admin_required
def fee_edit(request: AuthedRequest, pk: int | None = None) -> HttpResponse:
    entry = get_for_practice(request, FeeScheduleEntry, pk) if pk else FeeScheduleEntry(practice=request.practice)
    form = FeeEntryForm(request.POST or None, instance=entry)
    if request.method == "POST" and form.is_valid() and save_form(form):
        messages.success(request, f"{entry.label} saved at ${entry.charge:,.2f}.")
        return redirect("claims:fee_schedule")
    status = 400 if request.method == "POST" else 200
    return render(request, "claims/fee_schedule_form.html", {"form": form, "entry": entry, **NAV}, status=status)


@require_http_methods(["GET", "POST"])
@admin_required
def fee_remove(request: AuthedRequest, pk: int) -> HttpResponse:
    entry = get_for_practice(request, FeeScheduleEntry, pk)
    if request.method == "POST":
        entry.delete()
        messages.success(request, f"{entry.label} removed.")
        return redirect("claims:fee_schedule")
    return render(request, "claims/fee_schedule_remove.html", {"entry": entry, **NAV})


@require_http_methods(["GET", "POST"])
@admin_required
def fee_paste(request: AuthedRequest) -> HttpResponse:
    form = FeePasteForm(request.POST or None, practice=request.practice)
    if request.method == "POST" and form.is_valid():
        try:
            added, changed = save_lines(request.practice, form.fee_lines, replace=form.cleaned_data["replace"])
        except Duplicate:
            form.add_error(None, "Someone changed the fee schedule meanwhile; nothing was saved. Submit again.")
        else:
            parts = [f"{added} added"] + ([f"{changed} changed"] if changed else [])
            messages.success(request, f"Fee schedule updated: {', '.join(parts)}.")
            return redirect("claims:fee_schedule")
    status = 400 if request.method == "POST" else 200
    return render(request, "claims/fee_schedule_paste.html", {"form": form, **NAV}, status=status)
