"""Security headers on pages and API answers; nothing with patient data is kept in a cache."""

from __future__ import annotations

import pytest
from django.test import Client

from documents.tests import samples
from documents.tests.test_pages import make, streamed

pytestmark = pytest.mark.django_db


def _directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in (p.strip() for p in policy.split(";")) if part}


def _assert_secure(response) -> None:
    csp = _directives(response)
    assert csp["script-src"] == "'self'"
    assert csp["style-src"] == "'self'"
    assert csp["img-src"] == "'self' data:"
    assert csp["object-src"] == "'none'"
    assert csp["base-uri"] == "'self'"
    assert csp["form-action"] == "'self'"
    assert "no-store" in response["Cache-Control"]
    assert "camera=()" in response["Permissions-Policy"]
    assert "microphone=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]
    assert "payment=()" in response["Permissions-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize(
    "path", ["/", "/claims/", "/billing/patients/", "/notes/", "/documents/", "/settings/security/"]
)
def test_it_secures_every_signed_in_page(teammate_client, path):
    response = teammate_client.get(path)

    assert response.status_code == 200
    _assert_secure(response)
    assert _directives(response)["frame-ancestors"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"


def test_it_secures_the_sign_in_page():
    response = Client().get("/accounts/login/")

    _assert_secure(response)


@pytest.mark.parametrize("path", ["/api/v1/claims", "/api/v1/patients", "/api/v1/me"])
def test_it_secures_every_api_answer(api, path):
    response = api.get(path)

    assert response.status_code == 200
    _assert_secure(response)


def test_it_lets_only_our_own_pages_frame_a_document_preview(owner_client, owner, practice):
    document = make(practice, owner, samples.text_pdf(("Claim denied. Reason CO-45.",)))

    preview = owner_client.get(f"/documents/{document.pk}/versions/1/preview/")
    download = owner_client.get(f"/documents/{document.pk}/versions/1/download/")

    assert streamed(preview)
    assert _directives(preview)["frame-ancestors"] == "'self'"
    assert "no-store" in preview["Cache-Control"]
    assert _directives(download)["frame-ancestors"] == "'none'"


def test_it_leaves_static_files_their_caching(client):
    response = client.get("/static/css/app.css")

    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
