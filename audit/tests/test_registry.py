"""The one list of what is audited holds together."""

from __future__ import annotations

from django.urls import get_resolver

from audit.models import RESOURCE_TYPES
from audit.registry import ACCESS, RESOURCES, TRACKED, resource_type_of


def _route_names(patterns, namespaces=()) -> set[str]:
    names = set()
    for entry in patterns:
        if hasattr(entry, "url_patterns"):
            names |= _route_names(entry.url_patterns, (*namespaces, entry.namespace) if entry.namespace else namespaces)
        elif entry.name:
            names.add(":".join((*namespaces, entry.name)))
    return names


def test_every_resource_and_access_type_is_a_known_record_type():
    assert set(RESOURCES) <= set(RESOURCE_TYPES)
    assert {access.resource_type for access in ACCESS.values()} <= set(RESOURCE_TYPES)


def test_every_logged_route_exists():
    assert set(ACCESS) - _route_names(get_resolver().url_patterns) == set()


def test_every_tracked_model_is_a_resource_with_its_practice():
    from django.apps import apps

    for tracked in TRACKED:
        assert resource_type_of(apps.get_model(tracked.model)) in RESOURCES, tracked.model
