"""A biller uploads a scanned denial letter, sees its text read, finds it by a word of that text,
attaches it to the claim, uploads a clearer second version and marks it reviewed; an admin then
approves it and shares the first version by link, which someone outside downloads. In a real
browser, through the upload script's per-file request and progress bar.

Reading the text runs in Celery. Tests run tasks eagerly (root conftest) and this test's database
is really committed (``transaction=True``), so the upload's on-commit hook reads the text before
the upload request answers: no worker, no waiting.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from billingpulse.actor import Actor
from billingpulse.models import User
from billingpulse.tests.factories import PatientFactory, PracticeFactory, UserFactory
from claims.tests.factories import ClaimFactory
from documents import services
from documents.models import Document, Extraction
from documents.status import DocumentStatus
from documents.tests import samples
from tests.browser.helpers import sign_in

VIEWPORT = {"width": 1366, "height": 900}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LETTER = ("NOTICE OF DENIAL", "Claim RB-40001 for Eleanor Whitfield", "Reason code CO-45", "Payer Lonestar Health")
CLEARER = ("NOTICE OF DENIAL", "Claim RB-40001 corrected copy", "Reason code CO-45")


@pytest.fixture(autouse=True)
def local_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "documents"},
        },
    }


@pytest.fixture
def clinic():
    practice = PracticeFactory(name="Riverbend Family Medicine", time_zone="America/Chicago")
    UserFactory(email="alice@riverbend.example", full_name="Alice Admin", practice=practice, role=User.Role.ADMIN)
    sam = UserFactory(email="sam@riverbend.example", full_name="Sam Biller", practice=practice, role=User.Role.STAFF)
    patient = PatientFactory(practice=practice, first_name="Eleanor", last_name="Whitfield")
    claim = ClaimFactory(practice=practice, patient=patient, claim_number="RB-40001", status="denied")
    # Another document of the same patient, which the search must leave out.
    card = samples.image_bytes("PNG", ("MEMBER CARD", "Group 7741"))
    services.upload(
        practice,
        actor=Actor(sam),
        file=services.Upload("card.png", io.BytesIO(card), len(card)),
        patient=patient,
        document_type="insurance_card",
        title="Insurance card front",
    )
    return {"practice": practice, "patient": patient, "claim": claim}


def test_a_biller_uploads_finds_attaches_and_revises_a_letter_and_an_admin_approves_it(
    page, browser, base_url, clinic, tmp_path, screenshot, server_idle
):
    scan = tmp_path / "denial-letter.png"
    scan.write_bytes(samples.image_bytes("PNG", LETTER))
    clearer = tmp_path / "denial-letter-v2.png"
    clearer.write_bytes(samples.image_bytes("PNG", CLEARER))
    claim = clinic["claim"]

    # Sam uploads the scan from the documents page: one request, its own bar and result.
    sign_in(page, "sam@riverbend.example")
    page.goto("/documents/")
    upload = page.locator("form[data-upload]")
    upload.get_by_label("Patient").select_option(value=str(clinic["patient"].pk))
    upload.get_by_label("Type").select_option(label="Denial letter")
    upload.get_by_label("Drop files here", exact=False).set_input_files(str(scan))
    upload.get_by_role("button", name="Upload").click()
    result = page.locator(".upload-result", has_text="denial-letter.png")
    expect(result.locator(".upload-outcome")).to_contain_text("Uploaded")
    expect(result.locator("progress")).to_have_attribute("value", "100")
    # The table below refreshes with the new document and its text already read.
    row = page.locator("#document-table tr", has_text="denial-letter.png")
    expect(row).to_contain_text("Text read")
    screenshot(page, "documents-uploaded")

    # She finds it by a word that is only in the scan's text, not in its title.
    page.get_by_label("Search").fill("lonestar")
    page.get_by_role("button", name="Search").click()
    table = page.locator("#document-table")
    expect(table).to_contain_text("1 document")
    expect(table).to_contain_text("denial-letter.png")
    expect(table).not_to_contain_text("Insurance card front")
    screenshot(page, "documents-search")
    table.get_by_role("link", name="denial-letter.png").click()

    # The document shows the scan and the text read from it.
    expect(page.get_by_role("heading", level=1)).to_contain_text("denial-letter.png")
    expect(page.get_by_role("img", name="Preview of denial-letter.png")).to_be_visible()
    page.get_by_text("Text read from version 1").click()
    expect(page.locator(".document-text pre")).to_contain_text("CO-45")

    # She attaches it to the claim.
    page.get_by_role("combobox", name="Claim").select_option(value=str(claim.pk))
    page.get_by_role("button", name="Attach to claim").click()
    expect(page.get_by_role("status").filter(has_text="Attached to claim RB-40001.")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("RB-40001")

    # A clearer scan becomes version 2; version 1 stays, with its own download.
    page.get_by_label("New version").set_input_files(str(clearer))
    page.get_by_label("What changed").fill("Clearer scan from the payer portal")
    page.get_by_role("button", name="Upload version").click()
    expect(page.get_by_text("Version 2 uploaded.")).to_be_visible()
    expect(page.get_by_role("link", name="Download version 1")).to_be_visible()
    expect(page.get_by_role("link", name="Download version 2")).to_be_visible()
    page.get_by_text("Text read from version 2").click()
    expect(page.locator(".document-text pre")).to_contain_text("corrected copy")

    # She marks it reviewed; approving is not hers to do.
    page.get_by_label("Comment optional").fill("Matches the claim")
    page.get_by_role("button", name="Mark reviewed").click()
    expect(page.locator("h1 .badge")).to_have_text("Reviewed")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    screenshot(page, "document-detail-reviewed")

    # The claim page lists the document in its Documents card.
    page.goto(f"/claims/{claim.pk}/")
    expect(page.locator("#claim-documents")).to_contain_text("denial-letter.png")
    screenshot(page, "claim-documents-card")

    # The patient's chart has it under its Documents tab, with an upload area for her.
    page.goto(f"/billing/patients/{clinic['patient'].pk}/")
    page.get_by_role("link", name="Documents", exact=True).last.click()
    expect(page.locator(".chart-panel")).to_contain_text("denial-letter.png")
    expect(page.locator(".chart-tabs [aria-current=page]")).to_have_text("Documents")
    screenshot(page, "patient-chart-documents")

    # Alice, an admin, approves it from the review queue.
    admin_context = browser.new_context(base_url=base_url, viewport=VIEWPORT, locale="en-US")
    admin_context.set_default_timeout(10_000)
    try:
        admin = admin_context.new_page()
        sign_in(admin, "alice@riverbend.example")
        admin.goto("/documents/review/")
        queue_row = admin.locator("tr", has_text="denial-letter.png")
        expect(queue_row).to_contain_text("Reviewed")
        queue_row.get_by_role("link", name="denial-letter.png").click()
        admin.get_by_role("button", name="Approve").click()
        expect(admin.locator("h1 .badge")).to_have_text("Approved")
        expect(admin.locator(".document-history")).to_contain_text("Reviewed → Approved")
        screenshot(admin, "document-approved")

        # She shares the first scan, not the current one, with the payer's appeals desk.
        send = admin.locator("#send")
        send.get_by_label("Version").first.select_option(label="Version 1")
        send.get_by_label("Shared with").fill("Lonestar appeals")
        send.get_by_role("button", name="Make link").click()
        link = admin.get_by_label("Share link").input_value()
        expect(admin.locator(".share-list")).to_contain_text("Version 1 · Lonestar appeals")
        screenshot(admin, "document-shared")
    finally:
        admin_context.close()

    # Whoever holds the link, signed in or not, downloads exactly version 1.
    outside = browser.new_context(viewport=VIEWPORT, locale="en-US", accept_downloads=True)
    try:
        stranger = outside.new_page()
        stranger.goto(link)
        expect(stranger.get_by_role("heading", level=1)).to_have_text("A file from Riverbend Family Medicine")
        with stranger.expect_download() as download:
            stranger.get_by_role("link", name="Download").click()
        assert download.value.suggested_filename == "denial-letter.png"
        assert Path(download.value.path()).read_bytes() == scan.read_bytes()
    finally:
        outside.close()

    with server_idle:
        document = Document.objects.get(title="denial-letter.png")
        versions = list(document.versions.order_by("number"))
        assert (document.status, document.claim_id) == (DocumentStatus.APPROVED, claim.pk)
        assert [v.number for v in versions] == [1, 2]
        assert all(v.extraction_status == Extraction.DONE for v in versions)
        assert document.approved_by.email == "alice@riverbend.example"
        shared = document.events.get(kind="share_downloaded")
        assert shared.version == versions[0] and shared.actor is None
