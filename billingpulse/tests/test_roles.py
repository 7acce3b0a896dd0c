"""Roles: every admin-only page and API route refuses staff and lets admins through.

The routes come from the URL resolver, and which of them are admin-only from the one place
that decides it (``billingpulse.tenancy``): a page guarded by ``admin_required``, an API view
whose permission is ``IsPracticeAdmin`` (or ``IsPracticeAdminOrReadOnly`` for writes), or an
action a viewset lists in ``admin_actions``. A route added later is tried without editing this.
Ids in the URLs are 1: the role is checked before any object is looked up.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from billingpulse.tenancy import api_admin_only, is_admin_only

pytestmark = pytest.mark.django_db

SKIPPED_NAMESPACES = {"admin"}  # the operators' Django admin: superusers only (test_admin.py)
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def _walk(patterns, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace not in SKIPPED_NAMESPACES:
                yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        else:
            yield prefix + str(entry.pattern), entry


def _url(route: str) -> str:
    """A concrete path for a route: every parameter 1 (path() converters and DRF's regex groups)."""
    path = re.sub(r"\(\?P<\w+>[^)]*\)", "1", route)
    path = re.sub(r"<(?:\w+:)?\w+>", "1", path)
    path = path.replace("^", "").replace("$", "").replace("/?", "").replace("\\.", ".")
    return "/" + path


def _pages() -> list[tuple[str, str]]:
    """(name, path) of every admin-only page."""
    found = []
    for route, pattern in _walk(get_resolver().url_patterns):
        if getattr(pattern.callback, "cls", None) is None and is_admin_only(pattern.callback):
            found.append((pattern.name, _url(route)))
    return found


def _api_calls() -> list[tuple[str, str]]:
    """(method, path) of every admin-only API call."""
    found = []
    for route, pattern in _walk(get_resolver().url_patterns):
        view_class = getattr(pattern.callback, "cls", None)
        if view_class is None or "format" in route:
            continue
        actions = getattr(pattern.callback, "actions", None) or {
            method: None for method in ("get", "post", "put", "patch", "delete") if hasattr(view_class, method)
        }
        for method, action in actions.items():
            if api_admin_only(view_class, action, method.upper()):
                found.append((method.upper(), _url(route)))
    return found


def _page_answer(client: Client, path: str) -> int:
    response = client.get(path)
    if response.status_code == 405:
        response = client.post(path)
    return response.status_code


def test_it_finds_the_admin_only_routes_it_knows_of():
    pages = {name for name, _ in _pages()}
    calls = set(_api_calls())

    assert {"team_invite", "team_role", "practice_settings", "payer_add", "transaction_reverse"} <= pages
    assert {"denial_code_add", "policy_edit", "fee_add", "template_add", "followup_cadence"} <= pages
    assert {"practice_two_factor", "member_unlock"} <= pages
    assert {"claims", "calls", "denial_trends", "ar_aging", "detail", "download"} <= pages  # exports
    assert ("GET", "/api/v1/exports/claims") in calls
    assert ("POST", "/api/v1/transactions/1/reverse") in calls
    assert ("POST", "/api/v1/payments/1/void") in calls
    assert ("POST", "/api/v1/payers") in calls
    assert ("DELETE", "/api/v1/knowledge/denial-codes/1") in calls
    # Reading what admins set up is daily work.
    assert ("GET", "/api/v1/payers") not in calls
    assert ("GET", "/api/v1/knowledge/denial-codes") not in calls


def test_it_refuses_staff_every_admin_only_page(teammate, owner):
    staff, admin = Client(raise_request_exception=False), Client(raise_request_exception=False)
    staff.force_login(teammate)
    admin.force_login(owner)

    refused_staff = {path: _page_answer(staff, path) for _, path in _pages()}
    refused_admin = {path: status for _, path in _pages() if (status := _page_answer(admin, path)) == 403}

    assert {path: status for path, status in refused_staff.items() if status != 403} == {}
    assert refused_admin == {}


def test_it_refuses_staff_every_admin_only_api_call(teammate_api, api):
    calls = _api_calls()

    staff = {(method, path): teammate_api.generic(method, path).status_code for method, path in calls}
    admin = {(method, path): api.generic(method, path).status_code for method, path in calls}

    assert {call: status for call, status in staff.items() if status != 403} == {}
    assert {call: status for call, status in admin.items() if status == 403} == {}


def test_it_says_why_staff_are_refused(teammate_api, teammate_client):
    response = teammate_api.post("/api/v1/transactions/1/reverse")
    assert response.json()["detail"] == "Only practice admins can do this."

    response = teammate_client.get("/settings/team/invite/")
    assert response.status_code in (403, 405)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/claims/",
        "/calls/",
        "/calls/review/",
        "/billing/",
        "/billing/patients/",
        "/notes/",
        "/documents/",
        "/knowledge/",
        "/knowledge/policies/",
        "/settings/team/",
        "/settings/security/",
    ],
)
def test_it_lets_staff_do_the_daily_work(teammate_client, path):
    assert teammate_client.get(path).status_code == 200


def test_it_lets_staff_read_the_knowledge_base_through_the_api(teammate_api: APIClient):
    assert teammate_api.get("/api/v1/knowledge/denial-codes").status_code == 200
    assert teammate_api.post("/api/v1/knowledge/denial-codes", {"code": "999"}).status_code == 403
