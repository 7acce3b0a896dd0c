"""The document pages: list, search and filters, upload, review queue, the document with its
actions, versions, downloads and previews, the patient chart's tab and the claim, note and call pages' cards."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from billingpulse.actor import Actor
from billingpulse.models import User
from billingpulse.tests.factories import PatientFactory, UserFactory
from claims.tests.factories import ClaimFactory
from clinical.tests.factories import ClinicalNoteFactory
from documents import services
from documents.models import Document, DocumentEvent, DocumentVersion, Extraction
from documents.services import Upload
from documents.status import DocumentStatus
from documents.tests import samples
from telephony.tests.factories import CallFactory

pytestmark = pytest.mark.django_db

SECRET_WORD = "Quillfeather"


@pytest.fixture
def patient(practice):
    return PatientFactory(practice=practice, first_name="Eleanor", last_name="Whitfield")


@pytest.fixture
def letter_pdf() -> bytes:
    return samples.text_pdf((f"Claim denied. Reason {SECRET_WORD} CO-45.", "Appeal within 90 days."))


@pytest.fixture
def png() -> bytes:
    return samples.image_bytes("PNG", ("DENIAL CO-45",))


def make(practice, user, data: bytes, *, name="letter.pdf", run=None, **fields) -> Document:
    """A document uploaded through the service; its text is read when ``run`` (the on-commit
    capture) is given."""
    fields.setdefault("document_type", "denial_letter")
    fields.setdefault("patient", PatientFactory(practice=practice))
    file = Upload(name=name, stream=io.BytesIO(data), size=len(data))
    if run is None:
        return services.upload(practice, actor=Actor(user), file=file, **fields)
    with run(execute=True):
        return services.upload(practice, actor=Actor(user), file=file, **fields)


def body(response) -> str:
    return response.content.decode()


def streamed(response) -> bytes:
    return b"".join(response.streaming_content)


# -- list, search and filters -----------------------------------------------------------------------


def test_it_lists_the_practices_documents_with_their_details(owner_client, owner, practice, patient, letter_pdf):
    make(practice, owner, letter_pdf, patient=patient, title="Aetna denial March")

    response = owner_client.get("/documents/")

    page = body(response)
    assert response.status_code == 200
    assert "Aetna denial March" in page
    assert "Denial letter" in page and "Whitfield, Eleanor" in page and "Pending review" in page
    assert f"{len(letter_pdf) / 1000:.0f} KB" in page
    # The upload area is on the same page, script from our static files, no inline script.
    assert 'type="file" name="file"' in page and "multiple" in page
    assert "/static/js/documents.js" in page
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)


def test_it_finds_documents_by_title_and_by_words_of_their_text(
    owner_client, owner, practice, letter_pdf, png, django_capture_on_commit_callbacks
):
    make(practice, owner, letter_pdf, title="Letter from Cigna", run=django_capture_on_commit_callbacks)
    make(practice, owner, png, name="scan.png", title="Unrelated scan")

    by_title = body(owner_client.get("/documents/", {"q": "cigna"}))
    by_text = body(owner_client.get("/documents/", {"q": SECRET_WORD.lower()}))
    nothing = body(owner_client.get("/documents/", {"q": "cardiology"}))

    assert "Letter from Cigna" in by_title and "Unrelated scan" not in by_title
    assert "Letter from Cigna" in by_text and "Unrelated scan" not in by_text
    assert "No documents match" in nothing


def test_it_filters_by_type_status_patient_claim_and_date(owner_client, owner, practice, patient, letter_pdf, png):
    claim = ClaimFactory(practice=practice, patient=patient)
    eob = make(
        practice, owner, letter_pdf, patient=patient, document_type="eob", title="The EOB", links={"claim": claim}
    )
    make(practice, owner, png, name="card.png", document_type="insurance_card", title="The card")
    services.move(eob, DocumentStatus.REVIEWED, actor=Actor(owner))

    def titles(**params) -> set[str]:
        page = body(owner_client.get("/documents/", params))
        return {t for t in ("The EOB", "The card") if t in page}

    assert titles(document_type="eob") == {"The EOB"}
    assert titles(status="reviewed") == {"The EOB"}
    assert titles(status="pending_review") == {"The card"}
    assert titles(patient=patient.pk) == {"The EOB"}
    assert titles(claim=claim.pk) == {"The EOB"}
    today = eob.created_at.date()
    assert titles(date_from=today.isoformat(), date_to=today.isoformat()) == {"The EOB", "The card"}
    assert titles(date_to="2000-01-01") == set()


def test_it_answers_htmx_with_the_table_alone(owner_client, owner, practice, letter_pdf):
    make(practice, owner, letter_pdf, title="Only the table")

    page = body(owner_client.get("/documents/", {"q": "table"}, headers={"HX-Request": "true"}))

    assert 'id="document-table"' in page and "Only the table" in page and "<html" not in page


# -- upload -----------------------------------------------------------------------------------------


def test_it_uploads_a_file_from_the_page_and_goes_to_the_document(
    owner_client, patient, letter_pdf, django_capture_on_commit_callbacks
):
    form = {
        "patient": patient.pk,
        "document_type": "denial_letter",
        "title": "Denial from Humana",
        "file": SimpleUploadedFile("humana.pdf", letter_pdf, "application/pdf"),
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post("/documents/upload/", form)

    document = Document.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/documents/{document.pk}/"
    assert (document.title, document.patient, document.current_version.size) == (
        "Denial from Humana",
        patient,
        len(letter_pdf),
    )
    assert document.current_version.extraction_status == Extraction.DONE


def test_a_scripted_upload_answers_json_per_file(owner_client, patient, png):
    form = {"patient": patient.pk, "document_type": "eob", "file": SimpleUploadedFile("eob.png", png)}

    response = owner_client.post("/documents/upload/", form, headers={"Accept": "application/json"})

    document = Document.objects.get()
    assert response.status_code == 201
    assert response.json() == {"ok": True, "title": "eob.png", "url": f"/documents/{document.pk}/"}


def test_it_refuses_a_program_renamed_pdf_and_stores_nothing(owner_client, patient, tmp_path):
    form = {
        "patient": patient.pk,
        "document_type": "eob",
        "file": SimpleUploadedFile("eob.pdf", samples.elf_program(), "application/pdf"),
    }

    page_response = owner_client.post("/documents/upload/", form)
    form["file"] = SimpleUploadedFile("eob.pdf", samples.elf_program(), "application/pdf")
    json_response = owner_client.post("/documents/upload/", form, headers={"Accept": "application/json"})

    assert page_response.status_code == 400
    assert "Nothing was saved." in body(page_response)
    assert json_response.status_code == 400 and "Nothing was saved." in json_response.json()["message"]
    assert not Document.objects.exists() and not DocumentVersion.objects.exists()
    stored = tmp_path / "documents"
    assert not stored.exists() or not [p for p in stored.rglob("*") if p.is_file()]


def test_it_explains_a_missing_patient_type_or_file(owner_client):
    response = owner_client.post("/documents/upload/", {"patient": "", "document_type": ""})

    page = body(response)
    assert response.status_code == 400
    assert "Choose the patient this document belongs to." in page
    assert "Choose what kind of document this is." in page
    assert "Choose a file to upload." in page


def test_it_refuses_a_claim_of_another_patient(owner_client, practice, patient, png):
    other_claim = ClaimFactory(practice=practice)
    form = {"patient": patient.pk, "document_type": "eob", "claim": other_claim.pk}
    form["file"] = SimpleUploadedFile("eob.png", png)

    response = owner_client.post("/documents/upload/", form)

    assert response.status_code == 400 and "That claim is for another patient." in body(response)
    assert not Document.objects.exists()


# -- the document -----------------------------------------------------------------------------------


def test_it_shows_versions_preview_text_and_history(
    owner_client, owner, practice, letter_pdf, png, django_capture_on_commit_callbacks
):
    document = make(practice, owner, letter_pdf, title="Appeal packet", run=django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        services.add_version(document, actor=Actor(owner), file=Upload("scan.png", io.BytesIO(png), len(png)))

    page = body(owner_client.get(f"/documents/{document.pk}/"))

    assert f"/documents/{document.pk}/versions/1/download/" in page
    assert f"/documents/{document.pk}/versions/2/download/" in page
    assert f'<img class="preview-image" src="/documents/{document.pk}/versions/2/preview/"' in page
    assert "letter.pdf" in page and "scan.png" in page
    assert "Text read from version 2" in page and "DENIAL" in page
    assert "New version uploaded" in page and "Uploaded" in page and "Text read" in page
    assert "Send back to draft" in page and "Mark reviewed" in page


def test_a_new_version_is_uploaded_from_the_page_and_version_1_stays_downloadable(
    owner_client, owner, practice, letter_pdf, png
):
    document = make(practice, owner, letter_pdf)

    response = owner_client.post(
        f"/documents/{document.pk}/versions/", {"file": SimpleUploadedFile("v2.png", png), "comment": "Clearer scan"}
    )
    first = owner_client.get(f"/documents/{document.pk}/versions/1/download/")
    second = owner_client.get(f"/documents/{document.pk}/versions/2/download/")

    assert response.status_code == 302
    assert streamed(first) == letter_pdf and streamed(second) == png
    assert first["Content-Disposition"].startswith("attachment")
    assert DocumentEvent.objects.filter(document=document, kind=DocumentEvent.Kind.DOWNLOADED).count() == 2


def test_a_refused_new_version_is_explained_and_nothing_changes(owner_client, owner, practice, letter_pdf):
    document = make(practice, owner, letter_pdf)

    response = owner_client.post(
        f"/documents/{document.pk}/versions/", {"file": SimpleUploadedFile("v2.pdf", samples.elf_program())}
    )

    assert response.status_code == 400 and "Nothing was saved." in body(response)
    assert document.versions.count() == 1


def test_the_preview_is_inline_and_frameable_only_for_pdfs_and_images(owner_client, owner, practice, letter_pdf):
    pdf = make(practice, owner, letter_pdf)
    text = make(practice, owner, samples.csv_bytes(), name="denials.csv")

    inline = owner_client.get(f"/documents/{pdf.pk}/versions/1/preview/")
    other = owner_client.get(f"/documents/{text.pk}/versions/1/preview/")
    download = owner_client.get(f"/documents/{pdf.pk}/versions/1/download/")

    assert inline.status_code == 200 and inline["Content-Disposition"].startswith("inline")
    assert inline["X-Frame-Options"] == "SAMEORIGIN" and streamed(inline) == letter_pdf
    assert other.status_code == 302 and other["Location"] == f"/documents/{text.pk}/versions/1/download/"
    assert download["X-Frame-Options"] == "DENY"
    assert DocumentEvent.objects.filter(document=pdf, kind=DocumentEvent.Kind.PREVIEWED).count() == 1


def test_it_moves_comments_and_attaches(owner_client, owner, practice, patient, letter_pdf):
    document = make(practice, owner, letter_pdf, patient=patient)
    claim = ClaimFactory(practice=practice, patient=patient, claim_number="BP000777")
    url = f"/documents/{document.pk}"

    assert owner_client.post(f"{url}/status/", {"status": "reviewed", "comment": "Checked"}).status_code == 302
    assert owner_client.post(f"{url}/status/", {"status": "approved"}).status_code == 302
    assert owner_client.post(f"{url}/comment/", {"text": "Sent to the payer"}).status_code == 302
    assert owner_client.post(f"{url}/attach/", {"claim": claim.pk}).status_code == 302

    document.refresh_from_db()
    assert (document.status, document.claim) == (DocumentStatus.APPROVED, claim)
    page = body(owner_client.get(f"{url}/"))
    assert "Pending review → Reviewed: Checked" in page
    assert "Sent to the payer" in page and "BP000777" in page
    assert owner_client.post(f"{url}/attach/", {"claim": ""}).status_code == 302
    document.refresh_from_db()
    assert document.claim is None


def test_it_assigns_a_reviewer(owner_client, owner, teammate, practice, letter_pdf):
    document = make(practice, owner, letter_pdf)

    response = owner_client.post(f"/documents/{document.pk}/assign/", {"assignee": teammate.pk})

    assert response.status_code == 302
    document.refresh_from_db()
    assert document.assignee == teammate
    assert "Review assigned to Bob Biller" in body(owner_client.get(f"/documents/{document.pk}/"))


def test_it_refuses_a_reviewer_of_another_practice(owner_client, owner, outsider, practice, letter_pdf):
    document = make(practice, owner, letter_pdf)

    response = owner_client.post(f"/documents/{document.pk}/assign/", {"assignee": outsider.pk})

    assert response.status_code == 400 and "Choose someone in your practice." in body(response)
    document.refresh_from_db()
    assert document.assignee is None


def test_it_explains_a_move_the_status_does_not_allow(owner_client, owner, practice, letter_pdf):
    document = make(practice, owner, letter_pdf)

    response = owner_client.post(f"/documents/{document.pk}/status/", {"status": "approved"})

    assert response.status_code == 400
    assert "A document that is pending review can&#x27;t be marked approved." in body(response)
    document.refresh_from_db()
    assert document.status == DocumentStatus.PENDING_REVIEW


def test_approving_is_for_admins_only(teammate_client, teammate, owner, practice, letter_pdf):
    document = make(practice, owner, letter_pdf)
    services.move(document, DocumentStatus.REVIEWED, actor=Actor(owner))

    page = body(teammate_client.get(f"/documents/{document.pk}/"))
    response = teammate_client.post(f"/documents/{document.pk}/status/", {"status": "approved"})

    assert 'value="approved"' not in page and "An admin approves reviewed documents." in page
    assert response.status_code == 403 and "Only a practice admin can approve a document." in body(response)
    document.refresh_from_db()
    assert document.status == DocumentStatus.REVIEWED


def test_a_comment_must_have_words(owner_client, owner, practice, letter_pdf):
    document = make(practice, owner, letter_pdf)

    response = owner_client.post(f"/documents/{document.pk}/comment/", {"text": ""})

    assert response.status_code == 400 and "Write a comment first." in body(response)


# -- review queue, patient chart, claim page ---------------------------------------------------------


def test_the_review_queue_lists_waiting_documents_oldest_first(owner_client, owner, teammate, practice, png):
    first = make(practice, owner, png, name="a.png", title="First in")
    second = make(practice, owner, png, name="b.png", title="Second in")
    done = make(practice, owner, png, name="c.png", title="Already approved")
    Document.objects.filter(pk=second.pk).update(assignee=teammate)
    services.move(first, DocumentStatus.REVIEWED, actor=Actor(owner))
    services.move(done, DocumentStatus.REVIEWED, actor=Actor(owner))
    services.move(done, DocumentStatus.APPROVED, actor=Actor(owner))

    page = body(owner_client.get("/documents/review/"))

    assert page.index("First in") < page.index("Second in")
    assert "Already approved" not in page and "Bob Biller" in page


def test_the_patient_chart_has_a_documents_tab(owner_client, owner, practice, patient, png):
    make(practice, owner, png, name="card.png", patient=patient, title="Insurance card front")
    make(practice, owner, png, name="x.png", title="Someone else's")

    full = body(owner_client.get(f"/documents/patients/{patient.pk}/"))
    partial = body(owner_client.get(f"/documents/patients/{patient.pk}/", headers={"HX-Request": "true"}))
    account = body(owner_client.get(f"/billing/patients/{patient.pk}/"))

    assert "Insurance card front" in full and "Someone else's" not in full
    assert f'<input type="hidden" name="patient" value="{patient.pk}">' in full
    assert 'id="patient-chart"' in partial and "<html" not in partial
    assert f'hx-get="/documents/patients/{patient.pk}/"' in account


def test_the_claim_page_lists_its_documents_and_offers_an_upload(owner_client, owner, practice, patient, png):
    claim = ClaimFactory(practice=practice, patient=patient)
    make(practice, owner, png, name="eob.png", patient=patient, title="EOB for this claim", links={"claim": claim})
    make(practice, owner, png, name="x.png", patient=patient, title="Not this claim")

    page = body(owner_client.get(f"/claims/{claim.pk}/"))

    assert 'id="claim-documents"' in page and "EOB for this claim" in page and "Not this claim" not in page
    assert f'name="claim" value="{claim.pk}"' in page
    assert f'<input type="hidden" name="patient" value="{patient.pk}">' in page


def test_the_note_and_call_pages_list_their_documents_and_attach_uploads_to_them(
    owner_client, owner, practice, patient, png
):
    note = ClinicalNoteFactory(practice=practice, patient=patient)
    call = CallFactory(practice=practice, claim=ClaimFactory(practice=practice, patient=patient))
    for url, link, record in ((f"/notes/{note.pk}/", "note", note), (f"/calls/{call.pk}/", "call", call)):
        page = body(owner_client.get(url))
        assert f'id="{link}-documents"' in page and f'name="{link}" value="{record.pk}"' in page

        response = owner_client.post(
            "/documents/upload/",
            {
                "file": SimpleUploadedFile("scan.png", png),
                "patient": patient.pk,
                "document_type": "medical_records",
                link: record.pk,
                "next": url,
            },
        )
        assert response.status_code == 302 and response["Location"] == url
        document = Document.objects.get(**{link: record})
        assert document.title in body(owner_client.get(url))


def test_it_refuses_to_attach_to_a_note_of_another_patient(owner_client, practice, patient, png):
    note = ClinicalNoteFactory(practice=practice)

    response = owner_client.post(
        "/documents/upload/",
        {"file": SimpleUploadedFile("scan.png", png), "patient": patient.pk, "document_type": "other", "note": note.pk},
    )

    assert response.status_code == 400 and "That clinical note is for another patient." in body(response)
    assert not Document.objects.exists()


# -- who may see ------------------------------------------------------------------------------------


def _document_urls(document: Document) -> list[tuple[str, str]]:
    base = f"/documents/{document.pk}"
    return [
        ("get", f"{base}/"),
        ("get", f"{base}/versions/1/download/"),
        ("get", f"{base}/versions/1/preview/"),
        ("post", f"{base}/status/"),
        ("post", f"{base}/comment/"),
        ("post", f"{base}/assign/"),
        ("post", f"{base}/attach/"),
        ("post", f"{base}/versions/"),
    ]


def test_another_practices_document_is_not_found_on_any_page(client, outsider, owner, practice, patient, letter_pdf):
    document = make(practice, owner, letter_pdf, patient=patient, title="Alpha's letter")
    client.force_login(outsider)

    for method, url in _document_urls(document):
        assert getattr(client, method)(url, {"status": "archived", "text": "x"}).status_code == 404, url
    assert client.get(f"/documents/patients/{patient.pk}/").status_code == 404
    assert "Alpha&#x27;s letter" not in body(client.get("/documents/", {"patient": patient.pk}))
    assert "Alpha" not in body(client.get("/documents/review/"))
    document.refresh_from_db()
    assert document.status == DocumentStatus.PENDING_REVIEW


def test_a_confidential_document_is_not_found_by_staff_not_named_on_it(
    teammate_client, owner, practice, patient, letter_pdf
):
    named = UserFactory(practice=practice, role=User.Role.STAFF, email="named@alpha.example")
    document = make(
        practice, owner, letter_pdf, patient=patient, title="Psych records", confidential=True, allowed_users=[named]
    )

    for method, url in _document_urls(document):
        assert getattr(teammate_client, method)(url, {"text": "x"}).status_code == 404, url
    assert "Psych records" not in body(teammate_client.get("/documents/"))
    assert "Psych records" not in body(teammate_client.get(f"/documents/patients/{patient.pk}/"))
    teammate_client.force_login(named)
    assert teammate_client.get(f"/documents/{document.pk}/").status_code == 200


def test_it_sends_anonymous_visitors_to_sign_in(client, owner, practice, letter_pdf):
    document = make(practice, owner, letter_pdf)

    for url in ("/documents/", "/documents/review/", f"/documents/{document.pk}/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_it_refuses_the_wrong_method(owner_client, owner, practice, letter_pdf):
    document = make(practice, owner, letter_pdf)

    assert owner_client.get("/documents/upload/").status_code == 405
    assert owner_client.get(f"/documents/{document.pk}/status/").status_code == 405
    assert owner_client.post(f"/documents/{document.pk}/versions/1/download/").status_code == 405
