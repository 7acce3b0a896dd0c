"""A provider drafts a SOAP note from a template (saved as she types), signs it with her password
and a stated meaning, sees the signature on the note, amends it with a reason and sees the version
history; a biller then turns the signed note into a draft claim."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from billingpulse.models import User
from billingpulse.tests.factories import PASSWORD, PatientFactory, PracticeFactory, ProviderFactory, UserFactory
from billingpulse.tests.icd10 import load_codes
from claims.models import Claim
from claims.tests.factories import FeeScheduleEntryFactory, InsurancePolicyFactory
from clinical.models import ClinicalNote
from clinical.tests.factories import NoteTemplateFactory
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def clinic():
    practice = PracticeFactory(name="Riverbend Family Medicine", time_zone="America/Chicago")
    doctor = UserFactory(email="dana@riverbend.example", full_name="Dana Doctor", practice=practice)
    ProviderFactory(practice=practice, user=doctor, first_name="Dana", last_name="Doctor", credentials="MD")
    UserFactory(email="sam@riverbend.example", full_name="Sam Biller", practice=practice, role=User.Role.STAFF)
    patient = PatientFactory(practice=practice, first_name="Eleanor", last_name="Whitfield")
    InsurancePolicyFactory(practice=practice, patient=patient)
    NoteTemplateFactory(
        practice=practice, name="Acute visit", sections={"subjective": "Chief complaint: ", "plan": "Follow-up: "}
    )
    FeeScheduleEntryFactory(practice=practice, code="99213", charge=Decimal("110.00"))
    load_codes("J20,R05")
    return practice


def test_a_provider_writes_signs_and_amends_a_note_and_a_biller_bills_it(page, clinic, screenshot, server_idle):
    sign_in(page, "dana@riverbend.example")
    page.goto("/notes/")
    page.get_by_role("link", name="Start a note").first.click()
    page.get_by_label("Patient").select_option(label="Whitfield, Eleanor (05/17/1970)")
    page.get_by_label("Template").select_option(label="Acute visit")
    page.get_by_role("button", name="Start note").click()

    # The template prefilled the note; what she types is saved without pressing Save.
    subjective = page.get_by_label("Subjective")
    expect(subjective).to_have_value("Chief complaint: ")
    subjective.fill("Chief complaint: cough for three days, no fever.")
    page.get_by_label("Assessment").fill("Acute bronchitis.")
    # The diagnosis code is found by words of its title and chosen from the list.
    page.get_by_label("Find a diagnosis code").fill("acute bronch")
    option = page.locator("#code-results [data-code='J20.9']")
    expect(option).to_contain_text("Acute bronchitis")
    screenshot(page, "code-picker")
    option.click()
    expect(page.get_by_label("Diagnosis codes (ICD-10-CM)")).to_have_value("J20.9")
    page.get_by_label("Procedures (CPT/HCPCS)").fill("99213 x1 A")
    expect(page.locator("#autosave-status")).to_contain_text("Saved", timeout=15_000)
    with server_idle:
        note = ClinicalNote.objects.get()
        assert (note.assessment, note.diagnosis_codes) == ("Acute bronchitis.", ["J20.9"])
    screenshot(page, "note-editor")

    # Signing asks for her password again and what the signature means.
    page.get_by_role("link", name="Sign…").click()
    expect(page.locator("#attestation")).to_contain_text("I am the author of this note")
    page.get_by_label("I attest", exact=False).check()
    page.get_by_label("Your password").fill("not-my-password")
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("password is not right")
    page.get_by_label("I attest", exact=False).check()
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Sign", exact=True).click()

    expect(page.get_by_text("Note signed.")).to_be_visible()
    signatures = page.locator("section", has=page.get_by_role("heading", name="Signatures"))
    expect(signatures).to_contain_text("Dana Doctor, MD")
    expect(signatures).to_contain_text("Electronically signed")
    expect(page.locator("#tamper-warning")).to_have_count(0)
    screenshot(page, "note-signed")
    pdf = page.request.get(page.get_by_role("link", name="Print (PDF)").get_attribute("href"))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")

    # A correction is a new version with a reason; the history shows what changed.
    page.get_by_role("link", name="Amend").click()
    page.get_by_label("Reason for the amendment").fill("Fever was present.")
    page.get_by_role("button", name="Start amendment").click()
    page.get_by_label("Subjective").fill("Chief complaint: cough for three days, low-grade fever.")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("link", name="Sign…").click()
    page.get_by_label("I attest", exact=False).check()
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Sign", exact=True).click()
    history = page.locator("section", has=page.get_by_role("heading", name="Version history"))
    expect(history).to_contain_text("Version 2")
    expect(history).to_contain_text("Fever was present.")
    expect(history.locator("del")).to_have_text("no")
    expect(history.locator("ins")).to_have_text("low-grade")
    screenshot(page, "note-amended")

    # The biller turns the signed note into a claim in one click.
    page.context.clear_cookies()
    sign_in(page, "sam@riverbend.example")
    with server_idle:
        latest = ClinicalNote.objects.get(version=2)
    page.goto(f"/notes/{latest.pk}/")
    page.get_by_role("button", name="Create claim").click()
    expect(page.get_by_text("Draft claim", exact=False)).to_be_visible()
    with server_idle:
        claim = Claim.objects.get()
        assert claim.status == "draft" and claim.diagnosis_codes == ["J20.9"]
        assert claim.lines.get().charge == Decimal("110.00")
    screenshot(page, "claim-from-note")


def test_the_editor_shows_a_conflict_instead_of_overwriting(page, clinic, server_idle):
    from clinical import services

    doctor = User.objects.get(email="dana@riverbend.example")
    note = services.start_note(
        clinic,
        patient=clinic.patient_set.get(),
        provider=doctor.provider,
        actor=services.Actor(doctor),
    )
    sign_in(page, "dana@riverbend.example")
    page.goto(f"/notes/{note.pk}/edit/")
    with server_idle:  # someone else saves first
        services.save_draft(note, {"plan": "Written by a colleague."}, actor=services.Actor(doctor))

    page.get_by_label("Plan").fill("Written here.")

    expect(page.locator("#autosave-status")).to_contain_text("Someone else saved this note", timeout=15_000)
    with server_idle:
        note.refresh_from_db()
        assert note.plan == "Written by a colleague."
