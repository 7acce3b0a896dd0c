"""The one doorway to practice-owned data.

Every view and API endpoint reaches a practice's rows through this module:

* ``PracticeMiddleware`` puts the signed-in user's practice on ``request.practice``.
* ``member_required`` / ``admin_required`` guard HTML views; role checks live only here.
  ``admin_required`` marks the view ``admin_only``, so tests find every admin-only page.
* ``IsPracticeMember`` (the API's default permission) and its two subclasses decide roles for
  the API; a viewset names its admin-only actions in ``admin_actions``. ``api_admin_only`` says
  which (action, method) pairs need an admin, for the permission and for tests alike.

Who may do what: admins manage the practice (members, payers and fee schedule, providers,
knowledge base edits, note templates, follow-up intervals, voids and reversals, exports, the
audit log); staff do the daily work (claims, calls, billing, notes, documents) and read what
admins set up, including the knowledge base.
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

    # functools.wraps copies this onto every decorator applied outside this one.
    wrapper.admin_only = True  # type: ignore[attr-defined]
    return wrapper


def is_admin_only(view: View) -> bool:
    """Whether an HTML view is guarded by ``admin_required``."""
    return getattr(view, "admin_only", False)


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


def api_admin_only(view_class: type, action: str | None, method: str) -> bool:
    """Whether calling ``view_class``'s ``action`` with ``method`` needs a practice admin.

    An API view needs one for everything when its permission is ``IsPracticeAdmin``, for writes
    when it is ``IsPracticeAdminOrReadOnly``, and for the actions it lists in ``admin_actions``.
    """
    classes = getattr(view_class, "permission_classes", ())
    if any(issubclass(cls, IsPracticeAdmin) for cls in classes):
        return True
    if any(issubclass(cls, IsPracticeAdminOrReadOnly) for cls in classes) and method not in permissions.SAFE_METHODS:
        return True
    return action is not None and action in getattr(view_class, "admin_actions", ())


class IsPracticeMember(permissions.BasePermission):
    """A member of a practice; an admin for the view's ``admin_actions``."""

    message = "Sign in as a member of a practice to use the API."

    def has_permission(self, request, view) -> bool:
        if practice_of(request) is None:
            return False
        if getattr(view, "action", None) in getattr(view, "admin_actions", ()) and not request.user.is_practice_admin:
            self.message = "Only practice admins can do this."
            return False
        return True


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
