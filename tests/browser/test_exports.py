"""An admin exports the filtered worklist in a real browser: the file arrives with the claims
on screen; a large export goes through its progress page to a download. No page breaks the CSP."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from billingpulse.models import User
from billingpulse.tests.factories import PracticeFactory, UserFactory
from claims.tests.factories import ClaimFactory
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Collects the page's own reports of blocked content, from before any of its scripts run.
LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
});
"""


@pytest.fixture
def admin(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "exports": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }
    practice = PracticeFactory(name="Riverbend Family Medicine", time_zone="America/Chicago")
    user = UserFactory(email="jordan@riverbend.example", practice=practice, role=User.Role.ADMIN)
    for number in range(3):
        ClaimFactory(practice=practice, claim_number=f"DEN-{number}", status="denied", denial_code="CO-16")
    ClaimFactory(practice=practice, claim_number="SUB-1", status="submitted")
    return user


@pytest.fixture
def console(context, page) -> list[str]:
    messages: list[str] = []
    context.add_init_script(LISTEN)
    page.on("console", lambda message: messages.append(message.text) if message.type in ("error", "warning") else None)
    return messages


def _no_csp_violations(page, console: list[str]) -> None:
    assert page.evaluate("window.__cspViolations") == []
    assert [text for text in console if "Content Security Policy" in text or "Refused to" in text] == []


def test_an_admin_downloads_the_filtered_worklist_as_excel(page, admin, console):
    sign_in(page, admin.email)
    page.goto("/claims/?status=denied")
    export = page.get_by_role("group", name="Export claims")

    with page.expect_download() as arrived:
        export.get_by_role("link", name="Excel").click()

    download = arrived.value
    assert download.suggested_filename.startswith("claims-") and download.suggested_filename.endswith(".xlsx")
    with open(download.path(), "rb") as file:
        sheet = load_workbook(file)["Claims"]
    assert sorted(row[0] for row in sheet.iter_rows(min_row=2, values_only=True)) == ["DEN-0", "DEN-1", "DEN-2"]
    _no_csp_violations(page, console)


def test_a_large_export_shows_its_progress_page_then_the_file(page, admin, console, settings):
    settings.EXPORT_BACKGROUND_ROWS = 2
    sign_in(page, admin.email)
    page.goto("/claims/?status=denied")

    page.get_by_role("group", name="Export claims").get_by_role("link", name="CSV").click()

    expect(page.get_by_role("heading", name="Your file is ready")).to_be_visible()
    with page.expect_download() as arrived:
        page.get_by_role("link", name="Download").click()
    with open(arrived.value.path(), encoding="utf-8-sig") as file:
        rows = list(csv.reader(io.StringIO(file.read())))
    assert rows[0][0] == "Claim number"
    assert sorted(row[0] for row in rows[1:]) == ["DEN-0", "DEN-1", "DEN-2"]
    _no_csp_violations(page, console)
