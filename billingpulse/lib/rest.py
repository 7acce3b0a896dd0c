"""DRF plumbing every API endpoint shares: routers whose ids fit the database, and one
exception handler (the strict JSON parser is in ``billingpulse.lib.parsers``).

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

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.db.models import ProtectedError
from django.shortcuts import redirect
from rest_framework import exceptions, routers, serializers, status
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter, SimpleRouter
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from billingpulse.validators import ID_REGEX

logger = logging.getLogger(__name__)


class _IdLookupMixin:
    """Detail routes match only ids the database can hold (``ID_REGEX``) unless a viewset sets its own
    ``lookup_value_regex``: a longer number is no route (404), never an integer the database refuses."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._default_value_pattern = ID_REGEX


class APIRootView(routers.APIRootView):
    """The router's index of its endpoints, for API clients; a browser goes to the API docs instead,
    which describe every endpoint (the index lists only the router's)."""

    def get(self, request, *args, **kwargs):
        if isinstance(request.accepted_renderer, BrowsableAPIRenderer):
            return redirect("api_docs")
        return super().get(request, *args, **kwargs)


class Router(_IdLookupMixin, DefaultRouter):
    APIRootView = APIRootView


class NestedRouter(_IdLookupMixin, SimpleRouter):
    """For route groups included under the API root: no root page of their own."""


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        errors = serializers.as_serializer_error(exc)
        if NON_FIELD_ERRORS in errors:
            errors[api_settings.NON_FIELD_ERRORS_KEY] = errors.pop(NON_FIELD_ERRORS)
        exc = exceptions.ValidationError(errors)
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


class Refused(exceptions.APIException):
    """A service's refusal as the API's answer: its ``message``, with its HTTP ``status``."""

    def __init__(self, error) -> None:
        super().__init__(detail=error.message)
        self.status_code = error.status
