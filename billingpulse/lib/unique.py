"""A unique constraint that wins a race answers like the check that lost it.

Forms and serializers look for a duplicate before saving ("Another claim in this practice
has this claim number."), but two requests at once both pass that look and the database's
unique constraint refuses the second insert with an ``IntegrityError``. ``unique_errors``
runs the write in a savepoint and turns exactly that error into a ``Duplicate``: a Django
``ValidationError`` keyed by the constraint's field, with the constraint's own
``violation_error_message`` (the text the pre-checks use too, through ``message``, so the
two cannot drift). Any other ``IntegrityError`` (a foreign key, NOT NULL, a check) is
re-raised as it is, never disguised as a duplicate.

Pages use ``save_form`` (the error lands on the form's field); the API uses
``api_unique_errors`` (a 400 with the same field errors).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django import forms
from django.apps import apps
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.text import capfirst

# PostgreSQL's SQLSTATE for unique_violation.
PG_UNIQUE_VIOLATION = "23505"
# "Key (practice_id, claim_number)=(1, CLM-1) already exists." (the values are never kept).
_PG_KEY = re.compile(r"^Key \((?P<columns>[^)]*)\)=")
# "UNIQUE constraint failed: claims_claim.practice_id, claims_claim.claim_number", or
# "UNIQUE constraint failed: index 'user_email_ci_unique'" for an index on expressions.
_SQLITE_UNIQUE = re.compile(r"^UNIQUE constraint failed: (?P<what>.+)$")
_SQLITE_INDEX = re.compile(r"^index '(?P<name>[^']+)'$")
# Columns that say whose row it is rather than what is duplicated.
_OWNER_FIELDS = {"practice"}


@dataclass(frozen=True)
class Unique:
    """A unique rule of a model: a ``UniqueConstraint``, or a field's ``unique=True``."""

    model: type[models.Model]
    name: str  # the constraint's name; "<field>" for a unique field
    fields: tuple[str, ...]
    message: str

    @property
    def error_key(self) -> str:
        """The field a duplicate is reported on: the one field that is not the owner, else none."""
        named = [name for name in self.fields if name not in _OWNER_FIELDS]
        return named[0] if len(named) == 1 else NON_FIELD_ERRORS


class Duplicate(ValidationError):
    """A unique rule refused the row: the field error its pre-check would have given."""

    def __init__(self, rule: Unique) -> None:
        super().__init__({rule.error_key: [ValidationError(rule.message, code="unique")]})
        self.rule = rule


def message(model: type[models.Model], constraint_name: str) -> str:
    """The duplicate message of ``model``'s unique constraint: what every pre-check should say."""
    for constraint in model._meta.constraints:
        if constraint.name == constraint_name:
            return constraint.get_violation_error_message()
    raise LookupError(f"{model.__name__} has no constraint {constraint_name!r}")


@contextmanager
def unique_errors() -> Iterator[None]:
    """Run the block in a savepoint; a unique constraint's ``IntegrityError`` becomes a ``Duplicate``.

    The savepoint keeps the surrounding transaction usable after the refusal (PostgreSQL
    aborts a transaction on any error). Other integrity errors pass through unchanged.
    """
    try:
        with transaction.atomic():
            yield
    except IntegrityError as error:
        rule = violated_rule(error)
        if rule is None:
            raise
        raise Duplicate(rule) from error


@contextmanager
def api_unique_errors() -> Iterator[None]:
    """``unique_errors`` for the API: a ``Duplicate`` (here or from a service) is a 400 with field errors."""
    from rest_framework import serializers
    from rest_framework.settings import api_settings

    try:
        with unique_errors():
            yield
    except Duplicate as error:
        detail = {
            api_settings.NON_FIELD_ERRORS_KEY if key == NON_FIELD_ERRORS else key: messages
            for key, messages in error.message_dict.items()
        }
        raise serializers.ValidationError(detail) from error


def save_form(form: forms.ModelForm, **save_kwargs) -> bool:
    """Save a valid ``ModelForm``; False, with the error on the form, if a duplicate got in first."""
    try:
        with unique_errors():
            form.save(**save_kwargs)
    except Duplicate as error:
        add_to_form(form, error)
        return False
    return True


def add_to_form(form: forms.BaseForm, error: ValidationError) -> None:
    """Put a keyed ``ValidationError`` on the form: on its fields where it has them, else above them."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for key, errors in error.error_dict.items():
        form.add_error(key if key in form.fields else None, errors)


def violated_rule(error: IntegrityError) -> Unique | None:
    """The unique rule an ``IntegrityError`` reports, or None if it is not a known unique violation."""
    cause = error.__cause__
    if getattr(cause, "sqlstate", None) is not None:  # PostgreSQL (psycopg 3)
        if cause.sqlstate != PG_UNIQUE_VIOLATION:
            return None
        diag = cause.diag
        if diag.constraint_name in _rules().by_name:
            return _rules().by_name[diag.constraint_name]
        # A field's unique=True gets a name PostgreSQL chose: match its table and columns.
        key = _PG_KEY.match(diag.message_detail or "")
        if key is None:
            return None
        columns = [column.strip().strip('"') for column in key["columns"].split(",")]
        return _rules().by_columns.get((diag.table_name, frozenset(columns)))
    found = _SQLITE_UNIQUE.match(str(error))
    if found is None:
        return None
    what = found["what"]
    if index := _SQLITE_INDEX.match(what):
        return _rules().by_name.get(index["name"])
    tables, columns = set(), set()
    for qualified in what.split(", "):
        table, _, column = qualified.rpartition(".")
        tables.add(table)
        columns.add(column)
    if len(tables) != 1:
        return None
    return _rules().by_columns.get((tables.pop(), frozenset(columns)))


@dataclass(frozen=True)
class _Rules:
    by_name: dict[str, Unique]
    by_columns: dict[tuple[str, frozenset[str]], Unique]


@functools.cache
def _rules() -> _Rules:
    """Every unique rule of every installed model, by constraint name and by (table, columns)."""
    by_name: dict[str, Unique] = {}
    by_columns: dict[tuple[str, frozenset[str]], Unique] = {}
    for model in apps.get_models():
        opts = model._meta
        for field in opts.local_fields:
            if field.unique and not field.primary_key:
                text = field.error_messages["unique"] % {
                    "model_name": capfirst(opts.verbose_name),
                    "field_label": capfirst(field.verbose_name),
                }
                rule = Unique(model, field.name, (field.name,), text)
                by_columns[(opts.db_table, frozenset([field.column]))] = rule
        for constraint in opts.constraints:
            if not isinstance(constraint, models.UniqueConstraint):
                continue
            fields = tuple(constraint.fields) or _referenced_fields(constraint)
            rule = Unique(model, constraint.name, fields, constraint.get_violation_error_message())
            by_name[constraint.name] = rule
            if constraint.fields:
                columns = frozenset(opts.get_field(name).column for name in constraint.fields)
                by_columns[(opts.db_table, columns)] = rule
    return _Rules(by_name, by_columns)


def _referenced_fields(constraint: models.UniqueConstraint) -> tuple[str, ...]:
    """The fields a constraint on expressions (``Lower("email")``) is about."""
    names: list[str] = []
    for expression in constraint.expressions:
        for node in expression.flatten():
            if isinstance(node, models.F) and node.name not in names:
                names.append(node.name)
    return tuple(names)
