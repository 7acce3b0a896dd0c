"""No route leaks another practice's data.

The test walks every URL pattern the project has — pages, HTMX actions and API routes,
including the ones later apps add — as an admin of practice A, using the ids of every
row that belongs to practice B. It needs no editing when routes or models are added:

* every practice-owned model (a ``practice`` field, or a ``practice_path`` attribute for
  rows owned through a parent) must have a factory named ``<Model>Factory`` in its app's
  ``tests/factories.py`` that accepts ``practice=``; a model without one fails the test;
* every route must be named, so it can be reversed.

For each route:
* with object ids in the URL: GET, POST, PATCH and DELETE answer 404 (or 405 for a
  method the route does not have) and never 2xx/3xx;
* all routes: no 5xx, and no text of practice B's rows appears in the response that
  was not already there before B's rows existed;
* afterwards, practice B's rows are exactly as they were.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

import pytest
from django.apps import apps
from django.conf import settings
from django.db import models
from django.forms.models import model_to_dict
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RoutePattern

from billingpulse.models import Practice, User
from billingpulse.tests.factories import PracticeFactory, UserFactory

# Every app of the project (a folder of the repository with an apps.py), later ones included.
PROJECT_APPS = sorted(path.parent.name for path in settings.BASE_DIR.glob("*/apps.py"))
SKIPPED_NAMESPACES = {"admin"}  # superusers only; see test_admin.py
ID_CONVERTERS = {"IntConverter", "UUIDConverter"}


@dataclass
class Route:
    name: str
    kwargs: list[str]
    id_kwargs: set[str] = field(default_factory=set)


def _walk(patterns, namespaces=(), inherited=()) -> list[Route]:
    routes = []
    for entry in patterns:
        names, id_names = _pattern_kwargs(entry.pattern)
        if isinstance(entry, URLResolver):
            if entry.namespace in SKIPPED_NAMESPACES:
                continue
            ns = (*namespaces, entry.namespace) if entry.namespace else namespaces
            routes += _walk(entry.url_patterns, ns, (*inherited, *names))
        elif isinstance(entry, URLPattern):
            assert entry.name, f"Route {entry.pattern} has no name; name it so it can be reversed and checked."
            kwargs = [k for k in (*inherited, *names) if k not in entry.default_args]
            routes.append(Route(":".join((*namespaces, entry.name)), kwargs, id_names))
    return routes


def _pattern_kwargs(pattern) -> tuple[list[str], set[str]]:
    if isinstance(pattern, RoutePattern):  # path()
        converters = pattern.converters
        names = list(converters)
        ids = {n for n, c in converters.items() if type(c).__name__ in ID_CONVERTERS or _id_like(n)}
    else:  # re_path() route, as DRF's routers make
        names = list(pattern.regex.groupindex)
        ids = {n for n in names if _id_like(n)}
    return names, ids


def _id_like(name: str) -> bool:
    return name in {"pk", "id"} or name.endswith(("_id", "_pk"))


def _practice_owned_models() -> list[type[models.Model]]:
    owned = []
    for label in PROJECT_APPS:
        for model in apps.get_app_config(label).get_models():
            has_practice = any(f.name == "practice" for f in model._meta.get_fields())
            if (has_practice or hasattr(model, "practice_path")) and model is not User:
                owned.append(model)
    return owned


def _factory_for(model):
    module = importlib.import_module(f"{model._meta.app_label}.tests.factories")
    factory = getattr(module, f"{model.__name__}Factory", None)
    assert factory is not None, (
        f"{model.__name__} belongs to a practice but {model._meta.app_label}/tests/factories.py has no "
        f"{model.__name__}Factory, so the cross-practice test cannot check its routes. Add one."
    )
    return factory


def _rows_of(practice: Practice) -> list[models.Model]:
    rows: list[models.Model] = [practice, *User.objects.filter(practice=practice)]
    for model in _practice_owned_models():
        lookup = getattr(model, "practice_path", "practice")
        rows += list(model._default_manager.filter(**{lookup: practice}))
    return rows


def _text_of(rows) -> set[str]:
    """Distinctive text values of rows: free text, not choices, long enough to be specific."""
    texts = set()
    for row in rows:
        for f in row._meta.concrete_fields:
            if isinstance(f, models.CharField | models.TextField) and not f.choices:
                value = getattr(row, f.attname)
                if isinstance(value, str) and len(value) >= 6:
                    texts.add(value)
    return texts


def _snapshot(rows) -> dict:
    return {(type(r).__name__, r.pk): model_to_dict(r) for r in rows}


def _urls(route: Route, values: list[str]) -> list[str]:
    if not route.kwargs:
        return [reverse(route.name)]
    urls = []
    for value in values:
        kwargs = {k: ("json" if k == "format" else value) for k in route.kwargs}
        urls.append(reverse(route.name, kwargs=kwargs))
    return urls


def _body(response) -> str:
    """The response's text, streamed (an export) or not."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode(errors="replace")


def _leaks(body: str, baseline: str, secrets: set[str]) -> list[str]:
    return sorted(s for s in secrets if s in body and s not in baseline)


@pytest.mark.django_db
def test_it_has_a_factory_for_every_practice_owned_model():
    for model in _practice_owned_models():
        _factory_for(model)


@pytest.mark.django_db
def test_it_leaks_nothing_of_another_practice_on_any_route(client):
    # GIVEN an admin of practice A, who has no data yet, and every page as it looks now
    practice_a = PracticeFactory(name="Alpha Family Clinic")
    owner = UserFactory(practice=practice_a, role=User.Role.ADMIN, email="alice@alpha.example")
    client.force_login(owner)
    routes = _walk(get_resolver().url_patterns)
    plain_routes = [r for r in routes if not r.kwargs]
    baseline = {r.name: _body(client.get(reverse(r.name))) for r in plain_routes}

    # WHEN practice B has one row of every practice-owned model
    practice_b = PracticeFactory(name="Bravo Orthopedics Zyxwv")
    UserFactory(practice=practice_b, role=User.Role.ADMIN, full_name="Charlie Outsiderson")
    for model in _practice_owned_models():
        _factory_for(model)(practice=practice_b)
    b_rows = _rows_of(practice_b)
    before = _snapshot(b_rows)
    secrets = _text_of(b_rows)
    own_pks = {str(row.pk) for row in _rows_of(practice_a)}
    b_ids = sorted({str(row.pk) for row in b_rows} - own_pks, key=int)
    assert b_ids, "practice B needs rows whose ids practice A does not also use"

    # THEN no route shows, changes or admits to B's rows
    problems = []
    for route in routes:
        for url in _urls(route, b_ids):
            for method in ("get", "post", "patch", "delete"):
                if not route.id_kwargs and method != "get":
                    continue
                response = getattr(client, method)(url)
                body = _body(response)
                if response.status_code >= 500:
                    problems.append(f"{method.upper()} {url} -> {response.status_code}")
                if route.id_kwargs and response.status_code not in (404, 405):
                    problems.append(f"{method.upper()} {url} -> {response.status_code}, expected 404")
                leaked = _leaks(body, baseline.get(route.name, ""), secrets)
                if leaked:
                    problems.append(f"{method.upper()} {url} shows practice B's {leaked}")
        if not route.kwargs:
            forged = reverse(route.name) + f"?practice={practice_b.pk}&practice_id={practice_b.pk}"
            body = _body(client.get(forged))
            if leaked := _leaks(body, baseline[route.name], secrets):
                problems.append(f"GET {forged} shows practice B's {leaked}")

    assert problems == []
    assert _snapshot(_rows_of(practice_b)) == before


def test_it_walks_every_route_including_the_api():
    names = {route.name for route in _walk(get_resolver().url_patterns)}

    assert {"dashboard", "team_role", "api:me", "api:patient-detail", "api:patient-list"} <= names
    assert not any(name.startswith("admin:") for name in names)
