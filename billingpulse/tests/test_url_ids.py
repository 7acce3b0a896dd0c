"""Ids in URLs: every route takes only ids the database can hold, so a longer number is a 404."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

HUGE = "99999999999999999999"


def _patterns(resolver: URLResolver, prefix: str = ""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def test_it_writes_every_id_in_our_routes_with_the_bounded_converter():
    ours = [p for p in _patterns(get_resolver()) if not p.startswith("admin/")]

    assert not [p for p in ours if "<int:" in p]
    assert not [p for p in ours if re.search(r"\[0-9\]\+|\[\^/\.\]\+", p)]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        f"/claims/{HUGE}/",
        f"/calls/{HUGE}/",
        f"/calls/claims/{HUGE}/",
        f"/settings/providers/{HUGE}/",
        f"/api/v1/patients/{HUGE}",
        f"/api/v1/knowledge/denial-codes/{HUGE}",
    ],
)
def test_it_answers_404_to_an_id_too_large_for_any_row(owner_client, url):
    assert owner_client.get(url).status_code == 404
