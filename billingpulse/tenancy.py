"""The one doorway to practice-owned data.

Every view and API endpoint reaches a practice's rows through this module:

* ``PracticeMiddleware`` puts the signed-in user's practice on ``request.practice``.
* ``member_required`` / ``admin_required`` guard HTML views; role checks live only here.
* ``get_for_practice`` fetches one object of the request's practice, or raises 404 —
  another practice's object looks exactly like one that does not exist.
* ``PracticeScopedFilter`` is the default DRF filter backend: every API queryset is
  narrowed to the caller's practice with a single ``practice=`` predicate.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, TypeVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework import filters, permissions

if TYPE_CHECKING:
    from billingpulse.models import Practice, User

M = TypeVar("M", bound=models.Model)
View = Callable[..., HttpResponse]


class AuthedRequest(HttpRequest):
    """A request from a signed-in practice member (what guarded views receive)."""

    user: User
    practice: Practice


def practice_of(request: HttpRequest) -> Practice | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    return user.practice


class PracticeMiddleware:
    def __init__(self, get_response: View) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.practice = practice_of(request)  # type: ignore[attr-defined]
        return self.get_response(request)


def member_required(view: View) -> View:
    """Signed in and belonging to a practice. Operators without one get an explanation."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if getattr(request, "practice", None) is None:
            return render(request, "billingpulse/no_practice.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


def admin_required(view: View) -> View:
    """A practice admin; staff get 403 with a page saying who can do this."""

    @member_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_practice_admin:
            raise PermissionDenied("Only practice admins can do this.")
        return view(request, *args, **kwargs)

    return wrapper


def scoped(request: HttpRequest, model_or_queryset: type[M] | models.QuerySet[M]) -> models.QuerySet[M]:
    """The rows of the request's practice; none at all for a request without one."""
    queryset = model_or_queryset._default_manager.all() if isinstance(model_or_queryset, type) else model_or_queryset
    practice = getattr(request, "practice", None) or practice_of(request)
    if practice is None:
        return queryset.none()
    return queryset.filter(**{_practice_lookup(queryset.model): practice})


def get_for_practice(request: HttpRequest, model_or_queryset: type[M] | models.QuerySet[M], pk: object) -> M:
    """One object of the request's practice by primary key, or 404 (never 403)."""
    try:
        return scoped(request, model_or_queryset).get(pk=pk)
    except (models.ObjectDoesNotExist, ValueError, TypeError):
        raise Http404("No such record.") from None


def _practice_lookup(model: type[models.Model]) -> str:
    """The lookup from ``model`` to its practice: ``practice`` or ``model.practice_path``.

    Rows owned through a parent (a claim line through its claim) declare
    ``practice_path = "claim__practice"`` on the model.
    """
    return getattr(model, "practice_path", "practice")


class IsPracticeMember(permissions.BasePermission):
    message = "Sign in as a member of a practice to use the API."

    def has_permission(self, request, view) -> bool:
        return practice_of(request) is not None


class IsPracticeAdmin(IsPracticeMember):
    message = "Only practice admins can do this."

    def has_permission(self, request, view) -> bool:
        return super().has_permission(request, view) and request.user.is_practice_admin


class IsPracticeAdminOrReadOnly(IsPracticeMember):
    """Every member reads; only admins write (practice set-up such as payers and providers)."""

    message = "Only practice admins can change this."

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        return request.method in permissions.SAFE_METHODS or request.user.is_practice_admin


class PracticeScopedFilter(filters.BaseFilterBackend):
    """Default filter backend: every API list and detail sees only the caller's practice."""

    def filter_queryset(self, request, queryset, view):
        return scoped(request, queryset)
