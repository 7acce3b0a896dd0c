"""/api/v1/documents: upload, list and word search, downloads of exact versions, review."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from billingpulse.tests.factories import PatientFactory, UserFactory
from claims.tests.factories import ClaimFactory
from documents import storage
from documents.models import Document, DocumentEvent
from documents.tests import samples

pytestmark = pytest.mark.django_db

URL = "/api/v1/documents/"


@pytest.fixture
def patient(practice):
    return PatientFactory(practice=practice)


def pdf_file(text: str = "Denied for missing authorization, code CO-197.", name: str = "denial.pdf"):
    return SimpleUploadedFile(name, samples.text_pdf((text,)), content_type="application/pdf")


def post(api, **data):
    return api.post(URL, data, format="multipart")


def test_upload_answers_201_with_the_document_and_the_text_is_searchable(
    api, patient, practice, django_capture_on_commit_callbacks, document_storage
):
    claim = ClaimFactory(practice=practice, patient=patient)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            api, file=pdf_file(), patient=patient.pk, document_type="denial_letter", title="Denial", claim=claim.pk
        )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["claim"] == claim.pk and body["status"] == "pending_review" and body["encrypted"] is True
    assert body["current_version"]["number"] == 1 and body["current_version"]["mime_type"] == "application/pdf"
    found = api.get(URL, {"q": "co-197 authorization"}).json()
    assert [row["id"] for row in found["results"]] == [body["id"]]
    assert api.get(URL, {"q": "cardiology"}).json()["results"] == []
    assert api.get("/api/v1/documents", {"claim": claim.pk}).json()["results"][0]["id"] == body["id"]


def test_upload_refusals_are_400_with_field_errors_and_store_nothing(api, patient, other_practice):
    refusals = [
        {"file": SimpleUploadedFile("x.pdf", samples.windows_program()), "patient": patient.pk},
        {"file": SimpleUploadedFile("empty.pdf", b""), "patient": patient.pk},
        {"file": pdf_file(), "patient": PatientFactory(practice=other_practice).pk},
        {"file": pdf_file(), "patient": patient.pk, "claim": ClaimFactory(practice=other_practice).pk},
        {"patient": patient.pk},
    ]
    fields = []
    for data in refusals:
        response = post(api, document_type="eob", **data)
        assert response.status_code == 400, response.content
        fields.append(sorted(response.json()))
    assert fields == [["file"], ["file"], ["patient"], ["claim"], ["file"]]
    program = SimpleUploadedFile("x.pdf", samples.windows_program())
    assert "not a PDF" in post(api, document_type="eob", file=program, patient=patient.pk).json()["file"][0]
    assert not Document.objects.exists() and list(storage.all_keys()) == []


def test_each_version_downloads_its_own_bytes_and_each_download_is_recorded(api, patient, document_storage):
    first = samples.text_pdf(("First EOB",))
    second = samples.text_pdf(("Corrected EOB",))
    created = post(api, file=SimpleUploadedFile("eob.pdf", first), patient=patient.pk, document_type="eob").json()
    url = f"{URL}{created['id']}/"

    response = api.post(f"{url}versions/", {"file": SimpleUploadedFile("eob2.pdf", second), "comment": "Fix"})
    assert response.status_code == 201 and response.json()["number"] == 2

    current = api.get(f"{url}download/")
    assert current.status_code == 200
    assert b"".join(current.streaming_content) == second
    assert current["Content-Disposition"].startswith("attachment;")
    assert current["X-Content-Type-Options"] == "nosniff"
    old = api.get(f"{url}versions/1/download/")
    assert b"".join(old.streaming_content) == first
    assert api.get(f"{url}versions/3/download/").status_code == 404
    assert [v["number"] for v in api.get(f"{url}versions/").json()] == [2, 1]
    downloads = DocumentEvent.objects.filter(kind=DocumentEvent.Kind.DOWNLOADED).order_by("id")
    assert [event.version.number for event in downloads] == [2, 1]


def test_review_through_the_api_follows_the_same_rules(api, teammate_api, patient):
    created = post(api, file=pdf_file(), patient=patient.pk, document_type="eob").json()
    status_url = f"{URL}{created['id']}/status/"

    refused = teammate_api.post(status_url, {"status": "approved"})
    assert refused.status_code == 403 and "admin" in refused.json()["detail"]
    assert teammate_api.post(status_url, {"status": "reviewed", "comment": "Amounts match"}).status_code == 200
    approved = api.post(status_url, {"status": "approved"})
    assert approved.status_code == 200 and approved.json()["is_approved"] is True
    assert api.post(status_url, {"status": "draft"}).status_code == 400


def test_another_practices_documents_are_invisible(api, patient, outsider, api_for):
    created = post(api, file=pdf_file(), patient=patient.pk, document_type="eob").json()
    stranger = api_for(outsider)

    assert stranger.get(URL).json()["results"] == []
    for path in ("", "download/", "versions/", "versions/1/download/"):
        assert stranger.get(f"{URL}{created['id']}/{path}").status_code == 404
    assert stranger.post(f"{URL}{created['id']}/versions/", {"file": pdf_file()}).status_code == 404
    assert stranger.post(f"{URL}{created['id']}/status/", {"status": "reviewed"}).status_code == 404


def test_confidential_documents_are_invisible_to_staff_not_named_on_them(api, teammate_api, practice, patient, api_for):
    created = post(api, file=pdf_file(), patient=patient.pk, document_type="medical_records", confidential=True)
    document_id = created.json()["id"]
    named = UserFactory(practice=practice)
    Document.objects.get(pk=document_id).allowed_users.add(named)
    assert teammate_api.get(URL).json()["results"] == []
    assert teammate_api.get(f"{URL}{document_id}/download/").status_code == 404
    assert api_for(named).get(f"{URL}{document_id}/download/").status_code == 200
    assert api.get(f"{URL}{document_id}/").status_code == 200


def test_a_file_missing_from_storage_is_a_503_with_a_reason_on_the_api_and_a_message_on_the_page(
    api, owner_client, patient
):
    created = post(api, file=pdf_file(), patient=patient.pk, document_type="eob").json()
    document = Document.objects.get(pk=created["id"])
    storage.delete(document.current_version.storage_key)

    response = api.get(f"{URL}{document.pk}/download/")
    assert response.status_code == 503 and "can't be read from storage" in response.json()["detail"]
    page = owner_client.get(f"/documents/{document.pk}/versions/1/download/", follow=True)
    assert page.status_code == 200 and "be read from storage just now" in page.content.decode()
    assert not document.events.filter(kind=DocumentEvent.Kind.DOWNLOADED).exists()
    assert document.events.filter(kind=DocumentEvent.Kind.REFUSED).count() == 2
