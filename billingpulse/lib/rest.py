"""DRF plumbing every API endpoint shares: strict JSON parsing and one exception handler.

The handler turns the errors a request can provoke into answers an integrator can act on:

* a Django ``ValidationError`` raised by a service → 400 with field errors, as a serializer's;
* ``ProtectedError`` (deleting a row still in use) → 409 naming what still uses it;
* a value the database cannot hold (``OverflowError``, ``DataError``) → 400;
* an ``IntegrityError`` that no service turned into a field error → 409.

The last two are a safety net below the validators (which should have caught the value first),
so they are logged: each one is a validator to add.
"""

from __future__ import annotations

import logging
from collections import Counter

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.db.models import ProtectedError
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from billingpulse.lib import strict_json

logger = logging.getLogger(__name__)


class StrictJSONParser(JSONParser):
    """JSON without NaN/Infinity, absurd nesting or unstorable text; a 400 says which."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", "utf-8")
        try:
            return strict_json.loads(stream.read().decode(encoding))
        except UnicodeDecodeError:
            raise exceptions.ParseError(f"The body is not valid {encoding} text.") from None
        except strict_json.StrictJSONError as error:
            raise exceptions.ParseError(str(error)) from None


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(serializers.as_serializer_error(exc))
    elif isinstance(exc, ProtectedError):
        return Response({"detail": protected_message(exc)}, status=status.HTTP_409_CONFLICT)
    elif isinstance(exc, OverflowError | DataError):
        logger.warning("API request refused by the database: %s", exc)
        return Response({"detail": "A value is too large or out of range."}, status=status.HTTP_400_BAD_REQUEST)
    elif isinstance(exc, IntegrityError):
        logger.warning("API request conflicted with stored data: %s", exc)
        return Response(
            {"detail": "This conflicts with data already stored (a duplicate or a missing link)."},
            status=status.HTTP_409_CONFLICT,
        )
    return drf_exception_handler(exc, context)


def protected_message(error: ProtectedError) -> str:
    """'It is still used by 3 claims and 1 insurance policy. Remove or reassign those first.'"""
    counts = Counter(type(obj) for obj in error.protected_objects)
    uses = [
        f"{count} {model._meta.verbose_name if count == 1 else model._meta.verbose_name_plural}"
        for model, count in counts.items()
    ]
    return f"It is still used by {' and '.join(uses)}. Remove or reassign those first."
