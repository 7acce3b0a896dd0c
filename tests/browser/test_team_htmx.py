"""The team page in a real browser: htmx actions (script loaded, CSRF header sent), and an
invitation from the form to the invitee signed in through the emailed link."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from billingpulse.models import Invitation, User
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


def _invite(page, full_name: str, email: str) -> None:
    form = page.locator("form[action$='/settings/team/invite/']")
    form.get_by_label("Name").fill(full_name)
    form.get_by_label("Email").fill(email)
    form.get_by_role("button", name="Add and send invitation").click()
    expect(page.locator("#messages")).to_contain_text(f"Invitation sent to {email}.")


def test_an_invited_teammate_follows_the_emailed_link_and_is_signed_in(
    browser, base_url, page, admin_and_staff, mailoutbox, screenshot
):
    admin, _ = admin_and_staff
    sign_in(page, admin.email)
    page.goto("/settings/team/")

    _invite(page, "Eve Newhire", "eve@alpha.example")

    invitation = Invitation.objects.get(email="eve@alpha.example")
    row = page.locator(f"#invitation-{invitation.pk}")
    expect(row).to_contain_text("Eve Newhire")
    expect(row.locator(".badge-warn")).to_have_text("Invited")
    assert not User.objects.filter(email="eve@alpha.example").exists()
    screenshot(page, "team-with-invitation")

    [message] = mailoutbox
    link = re.search(r"https?://\S+(/accounts/invitation/[\w-]+/)", message.body).group(1)
    # A second browser, not signed in: the invitee's.
    invitee = browser.new_context(base_url=base_url, viewport=page.viewport_size, locale="en-US")
    try:
        invitee_page = invitee.new_page()
        invitee_page.goto(link)
        expect(invitee_page.get_by_role("heading", name="Join Alpha Family Clinic")).to_be_visible()
        expect(invitee_page.locator(".invitation-email")).to_have_text("eve@alpha.example")
        expect(invitee_page.get_by_label("Your name")).to_have_value("Eve Newhire")
        screenshot(invitee_page, "accept-invitation")
        invitee_page.get_by_label("Password", exact=True).fill("a-long-unusual-passphrase")
        invitee_page.get_by_label("Confirm password").fill("a-long-unusual-passphrase")
        invitee_page.get_by_role("button", name="Accept and sign in").click()

        expect(invitee_page.get_by_role("heading", name="Good to see you, Eve Newhire")).to_be_visible()
        expect(invitee_page.locator(".practice-name")).to_have_text("Alpha Family Clinic")
        invitee_page.goto(link)
        expect(invitee_page.get_by_text("This invitation has expired or was withdrawn")).to_be_visible()
    finally:
        invitee.close()

    eve = User.objects.get(email="eve@alpha.example")
    assert (eve.practice_id, eve.role) == (admin.practice_id, User.Role.STAFF)
    page.goto("/settings/team/")
    expect(page.locator(f"#member-{eve.pk}")).to_contain_text("Active")
    expect(page.locator(f"#invitation-{invitation.pk}")).to_have_count(0)


def test_it_withdraws_an_invitation_in_place_with_htmx(page, admin_and_staff):
    admin, _ = admin_and_staff
    sign_in(page, admin.email)
    page.goto("/settings/team/")
    _invite(page, "Frank Later", "frank@alpha.example")
    invitation = Invitation.objects.get(email="frank@alpha.example")
    page.evaluate("window.__noReload = true")
    page.once("dialog", lambda dialog: dialog.accept())

    with page.expect_response(lambda r: r.url.endswith(f"/settings/team/invitations/{invitation.pk}/withdraw/")):
        page.locator(f"#invitation-{invitation.pk}").get_by_role("button", name="Withdraw").click()

    expect(page.locator("#messages")).to_contain_text("Invitation to frank@alpha.example withdrawn.")
    expect(page.locator(f"#invitation-{invitation.pk}")).to_have_count(0)
    assert page.evaluate("window.__noReload") is True
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
