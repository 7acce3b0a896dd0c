"""/api/ and the API root /api/v1/: a browser lands on the API docs; an API client still gets
the router's JSON index of endpoints."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_it_sends_api_to_the_docs(client, teammate_client):
    for who in (client, teammate_client):
        response = who.get("/api/")
        assert response.status_code == 302
        assert response["Location"] == reverse("api_docs") == "/api/docs/"
    assert reverse("api_index") == "/api/"


def test_it_sends_a_browser_on_the_api_root_to_the_docs(teammate_client):
    response = teammate_client.get("/api/v1/", headers=BROWSER)

    assert response.status_code == 302
    assert response["Location"] == "/api/docs/"


def test_it_keeps_the_json_index_for_api_clients(teammate_api):
    response = teammate_api.get("/api/v1/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["claims"].endswith("/api/v1/claims")


def test_it_still_asks_api_clients_to_sign_in(client):
    assert client.get("/api/v1/").status_code == 401


def test_it_allows_only_reads_on_api(client):
    assert client.post("/api/").status_code == 405
