"""Changes to a practice's knowledge base: validated, all-or-nothing, and indexed after commit.

Every write goes through here, whichever door it came from (pages, API, ``ingest_knowledge``),
so the Chroma index is told about each change once the transaction commits
(``ai.knowledge.sync_on_commit``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Q

from ai import knowledge
from ai.forms import FORMS
from ai.knowledge import DENIAL_CODES, PAYER_POLICIES
from ai.models import DenialCode, PayerPolicy
from billingpulse.lib.unique import Duplicate, unique_errors

STARTER_FILE = Path(__file__).resolve().parent / "data" / "denial_codes.json"
MAX_ENTRIES = 5000

Entry = DenialCode | PayerPolicy


@dataclass
class EntriesInvalid(Exception):
    """Some entries were bad, so none was saved.

    ``errors`` has one dict per entry, in order: field name → messages, empty for a good
    entry (the shape DRF gives a list). ``message`` is set instead when the whole batch is
    unusable (not a list, too long).
    """

    errors: list[dict[str, list[str]]]
    message: str = ""

    def __str__(self) -> str:
        if self.message:
            return self.message
        lines = []
        for index, fields in enumerate(self.errors):
            for field, messages in fields.items():
                lines.append(f"entry {index}: {field}: {' '.join(messages)}")
        return "; ".join(lines)


def validate_entries(kind: str, entries: Any) -> list[dict[str, Any]]:
    """Cleaned values of each entry, or ``EntriesInvalid`` naming every problem by entry index."""
    if not isinstance(entries, list):
        raise EntriesInvalid([], "Send a list of entries.")
    if not entries:
        raise EntriesInvalid([], "The list of entries is empty.")
    if len(entries) > MAX_ENTRIES:
        raise EntriesInvalid([], f"Send at most {MAX_ENTRIES} entries at a time.")
    form_class = FORMS[kind]
    allowed = set(form_class._meta.fields)
    cleaned, errors, seen = [], [], {}
    for index, entry in enumerate(entries):
        entry_errors: dict[str, list[str]] = {}
        values: dict[str, Any] = {}
        if not isinstance(entry, dict):
            entry_errors["non_field_errors"] = ["Each entry must be an object with named fields."]
        else:
            for name in sorted(set(entry) - allowed):
                entry_errors[name] = [f"Unknown field. Known fields: {', '.join(sorted(allowed))}."]
            for name in allowed & set(entry):
                if entry[name] is not None and not isinstance(entry[name], str | int):
                    entry_errors[name] = ["Must be text."]
            form = form_class(data={k: "" if v is None else str(v) for k, v in entry.items() if k in allowed})
            if form.is_valid():
                # Only the fields the entry names: an upsert leaves the others as they are.
                values = {name: form.cleaned_data[name] for name in allowed & set(entry)}
            else:
                for name, messages in form.errors.items():
                    entry_errors.setdefault(name, []).extend(str(m) for m in messages)
            key = _natural_key(kind, values)
            if key and key in seen:
                entry_errors.setdefault("non_field_errors", []).append(
                    f"Same entry as number {seen[key]} in this list."
                )
            elif key:
                seen[key] = index
        errors.append(entry_errors)
        cleaned.append(values)
    if any(errors):
        raise EntriesInvalid(errors)
    return cleaned


@transaction.atomic
def save_entries(practice_id: int, kind: str, entries: Any) -> list[Entry]:
    """Validate and save a list of entries for a practice: all of them, or none.

    A denial code already in the practice's knowledge base is updated (upsert by code); so
    is a payer policy with the same payer, title and effective date. Returns the saved rows
    in the order given.
    """
    cleaned = validate_entries(kind, entries)
    # Written in key order, so two uploads sharing entries lock them in the same order and
    # neither deadlocks waiting for the other; answered in the order given.
    order = sorted(range(len(cleaned)), key=lambda index: _sort_key(kind, cleaned[index]))
    by_index = {index: _upsert(practice_id, kind, cleaned[index]) for index in order}
    saved = [by_index[index] for index in range(len(cleaned))]
    knowledge.sync_on_commit(kind, [entry.pk for entry in saved])
    return saved


def save_entry(entry: Entry) -> Entry:
    """Save one entry already validated by its form or serializer, and index it after commit."""
    try:
        with unique_errors():
            entry.save()
    except Duplicate as duplicate:
        # Another request took the code since the form checked it: the form's own error.
        raise EntriesInvalid([duplicate.message_dict]) from None
    knowledge.sync_on_commit(_kind(entry), [entry.pk])
    return entry


def delete_entry(entry: Entry) -> None:
    kind, pk = _kind(entry), entry.pk
    with transaction.atomic():
        entry.delete()
    knowledge.sync_on_commit(kind, [pk])


def starter_entries() -> list[dict[str, str]]:
    """The common denial codes every practice starts with (``ai/data/denial_codes.json``)."""
    return [dict(entry) for entry in _starter()]


@transaction.atomic
def install_starter_set(practice_id: int) -> int:
    """Add the starter denial codes the practice does not have yet; its own wording is never overwritten.

    Returns how many codes were added.
    """
    have = set(DenialCode.objects.filter(practice_id=practice_id).values_list("code", flat=True))
    new = [DenialCode(practice_id=practice_id, **entry) for entry in _starter() if entry["code"] not in have]
    # PostgreSQL and SQLite (3.35+) hand back the new rows' keys, so nothing is read again.
    created = DenialCode.objects.bulk_create(new)
    knowledge.sync_on_commit(DENIAL_CODES, [entry.pk for entry in created])
    return len(created)


@cache
def _starter() -> tuple[dict[str, str], ...]:
    entries = json.loads(STARTER_FILE.read_text())
    validate_entries(DENIAL_CODES, entries)  # the shipped file obeys the same rules as any upload
    return tuple(entries)


def _upsert(practice_id: int, kind: str, values: dict[str, Any]) -> Entry:
    entry = _existing(practice_id, kind, values)
    if entry is None:
        entry = (DenialCode if kind == DENIAL_CODES else PayerPolicy)(practice_id=practice_id, **values)
        try:
            with unique_errors():
                entry.save()
            return entry
        except Duplicate:
            # Another upload added this code since we looked: update its entry, as if it had been there.
            entry = _existing(practice_id, kind, values)
            if entry is None:
                raise
    for name, value in values.items():
        setattr(entry, name, value)
    entry.save()
    return entry


def _existing(practice_id: int, kind: str, values: dict[str, Any]) -> Entry | None:
    rows = DenialCode.objects if kind == DENIAL_CODES else PayerPolicy.objects
    rows = rows.select_for_update().filter(practice_id=practice_id)
    if kind == DENIAL_CODES:
        return rows.filter(code=values["code"]).first()
    if not values.get("title"):
        return None
    same_date = Q(effective_date=values["effective_date"]) if values.get("effective_date") else Q(effective_date=None)
    return rows.filter(same_date, payer__iexact=values["payer"], title__iexact=values["title"]).first()


def _sort_key(kind: str, values: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(part) for part in _natural_key(kind, values) or ())


def _natural_key(kind: str, values: dict[str, Any]) -> tuple | None:
    if kind == DENIAL_CODES:
        return (values["code"],) if values.get("code") else None
    if not values.get("title") or not values.get("payer"):
        return None
    return (values["payer"].lower(), values["title"].lower(), values.get("effective_date"))


def _kind(entry: Entry) -> str:
    return DENIAL_CODES if isinstance(entry, DenialCode) else PAYER_POLICIES
