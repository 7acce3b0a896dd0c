"""Serializer fields and query-parameter parsing shared by the claims API."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request

from billingpulse.tenancy import scoped
from billingpulse.validators import MAX_ID


class PracticePrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """A foreign key written as a primary key, accepted only for a row of the caller's practice.

    Another practice's pk gets the same "Invalid pk … object does not exist" as a pk that
    exists nowhere, so a request can neither link across practices nor learn that the row exists.
    """

    def to_internal_value(self, data):
        # A number too large for any id names no row: the database must never be asked.
        digits = str(data).strip() if isinstance(data, int | str) and not isinstance(data, bool) else ""
        if digits.isdigit() and int(digits) > MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)

    def get_queryset(self):
        queryset = super().get_queryset()
        request = self.context.get("request")
        # Schema generation builds serializers without a request: offer no rows at all.
        return scoped(request, queryset) if request is not None else queryset.none()


@extend_schema_field(
    {"type": "string", "pattern": r"^[0-2][0-9]:[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?$", "example": "08:00:00"}
)
class LocalTimeField(serializers.TimeField):
    """A time of day in the payer's own time zone, "08:00:00": no UTC offset, so not OpenAPI's
    ``format: time`` (which requires one)."""


def int_param(request: Request, name: str) -> int | None:
    """The query parameter ``name`` as an id (a positive integer that fits the database), None if
    absent, or a 400 naming it."""
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()):
        raise serializers.ValidationError({name: ["A valid integer is required."]})
    if int(raw) > MAX_ID:
        raise serializers.ValidationError({name: [f"Ensure this value is less than or equal to {MAX_ID}."]})
    return int(raw)


def choice_params(request: Request, name: str, choices: list[str]) -> list[str]:
    """A comma-separated list of allowed values (``?status=denied,rejected``), or a 400 naming it."""
    values = [v.strip() for v in request.query_params.get(name, "").split(",") if v.strip()]
    unknown = [v for v in values if v not in choices]
    if unknown:
        raise serializers.ValidationError(
            {name: [f"Unknown value {', '.join(unknown)}; choose from {', '.join(choices)}."]}
        )
    return values
