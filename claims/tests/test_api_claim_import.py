from __future__ import annotations

from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from claims.models import Claim, ClaimImport
from claims.tests.factories import ClaimImportFactory, PayerFactory

CSV = b"Claim #,Patient,DOB,DOS,Balance\nA-1,Maria Lopez,03/14/1980,09/01/2026,100\nA-2,Bo Chan,01/01/1990,bad,5\n"


@pytest.fixture
def aetna(practice):
    return PayerFactory(practice=practice, payer_id="60054")


def post(api, content=CSV, **data):
    return api.post(
        "/api/v1/claims/import", {"file": SimpleUploadedFile("ar.csv", content), **data}, format="multipart"
    )


@pytest.mark.django_db
def test_it_imports_and_returns_the_report(teammate_api, aetna):
    response = post(teammate_api, payer_id="60054")

    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["imported_count"], body["rejected_count"]) == ("done", 1, 1)
    errors = teammate_api.get(f"/api/v1/claim-imports/{body['id']}/errors").json()["results"]
    assert errors == [{"row_number": 3, "column": "DOS", "value": "bad", "message": errors[0]["message"]}]
    assert Claim.objects.get().payer == aetna


@pytest.mark.django_db
def test_it_needs_a_payer_when_the_file_has_none(teammate_api, aetna):
    response = post(teammate_api)

    assert response.status_code == 400
    assert "payer" in response.json()["file"][0]
    assert not ClaimImport.objects.exists()


@pytest.mark.django_db
def test_it_refuses_an_unknown_payer_id(teammate_api, aetna):
    response = post(teammate_api, payer_id="99999")

    assert response.status_code == 400
    assert response.json()["payer_id"] == ["You have no payer with payer ID 99999."]


@pytest.mark.django_db
def test_it_refuses_a_file_that_is_not_a_spreadsheet(teammate_api):
    response = post(teammate_api, content=b"\x89PNG\r\n\x1a\n\x00\x00")

    assert response.status_code == 400
    assert "not a CSV or Excel" in response.json()["file"][0]


@pytest.mark.django_db
def test_it_queues_large_files(teammate_api, aetna, settings, django_capture_on_commit_callbacks):
    settings.CLAIM_IMPORT_INLINE_ROWS = 1

    with (
        mock.patch("claims.services.tasks.run_claim_import.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = post(teammate_api, payer_id="60054")

    assert response.status_code == 202
    delay.assert_called_once_with(response.json()["id"])
    assert response.json()["status"] == "queued"


@pytest.mark.django_db
def test_it_answers_401_to_anonymous_calls(client):
    assert client.post("/api/v1/claims/import").status_code == 401


@pytest.mark.django_db
def test_it_hides_another_practices_imports(teammate_api, other_practice):
    foreign = ClaimImportFactory(practice=other_practice)

    assert teammate_api.get(f"/api/v1/claim-imports/{foreign.pk}").status_code == 404
    assert teammate_api.get(f"/api/v1/claim-imports/{foreign.pk}/errors").status_code == 404
    assert teammate_api.get("/api/v1/claim-imports").json()["count"] == 0
