"""htmx actions on the team page work in a real browser (script loaded, CSRF header sent)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from billingpulse.models import User
from billingpulse.tests.factories import PracticeFactory, UserFactory
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def admin_and_staff():
    practice = PracticeFactory(name="Alpha Family Clinic")
    admin = UserFactory(email="alice@alpha.example", full_name="Alice Admin", practice=practice, role=User.Role.ADMIN)
    staff = UserFactory(email="bob@alpha.example", full_name="Bob Biller", practice=practice, role=User.Role.STAFF)
    return admin, staff


def test_it_changes_a_role_in_place_with_htmx(page, admin_and_staff):
    admin, staff = admin_and_staff
    sign_in(page, admin.email)
    page.goto("/settings/team/")
    assert page.evaluate("typeof window.htmx") == "object"
    # A full page load would wipe this marker; an htmx swap keeps it.
    page.evaluate("window.__noReload = true")

    with page.expect_response(lambda r: r.url.endswith(f"/settings/team/{staff.pk}/role/")) as info:
        page.get_by_label(f"Role of {staff.email}").select_option("Admin")
    response = info.value
    assert response.status == 200
    assert response.request.headers.get("hx-request") == "true"
    assert response.request.headers.get("x-csrftoken")

    expect(page.locator("#messages")).to_contain_text(f"{staff.full_name} updated.")
    expect(page.locator(f"#member-{staff.pk} select")).to_have_value("admin")
    assert page.evaluate("window.__noReload") is True
    staff.refresh_from_db()
    assert staff.role == User.Role.ADMIN
