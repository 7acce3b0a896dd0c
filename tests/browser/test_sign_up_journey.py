"""A new practice signs up, signs out and signs back in, in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from billingpulse.models import Practice, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NEW_USER = {
    "full_name": "Dana Scully",
    "email": "dana@northside.example",
    "password": "a-long-unusual-passphrase",
    "practice_name": "Northside Pediatrics",
}


def _fill_sign_up(page, **overrides) -> None:
    values = {**NEW_USER, **overrides}
    page.goto("/signup/")
    page.get_by_label("Your name").fill(values["full_name"])
    page.get_by_label("Work email").fill(values["email"])
    page.get_by_label("Password").fill(values["password"])
    page.get_by_label("Practice name").fill(values["practice_name"])
    page.get_by_role("button", name="Create account").click()


def _expect_dashboard(page) -> None:
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator(".practice-name")).to_have_text(NEW_USER["practice_name"])
    expect(page.get_by_role("heading", name="Get your practice ready")).to_be_visible()


def test_it_signs_up_signs_out_and_signs_back_in(page, screenshot):
    _fill_sign_up(page)

    _expect_dashboard(page)
    expect(page.get_by_role("status").filter(has_text="is ready")).to_be_visible()
    user = User.objects.get(email=NEW_USER["email"])
    assert user.role == User.Role.ADMIN
    assert user.practice.name == NEW_USER["practice_name"]

    page.locator("details.user-menu > summary").click()
    page.locator("details.user-menu").get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))

    page.get_by_label("Email").fill(NEW_USER["email"])
    page.get_by_label("Password").fill(NEW_USER["password"])
    page.get_by_role("button", name="Sign in").click()

    _expect_dashboard(page)
    path = screenshot(page, "dashboard")
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 10_000


def test_it_shows_a_weak_password_error_and_creates_nothing(page):
    _fill_sign_up(page, password="password123")

    expect(page.locator("#id_password_error")).to_contain_text("too common")
    expect(page.get_by_role("heading", name="Create your practice account")).to_be_visible()
    expect(page.get_by_label("Practice name")).to_have_value(NEW_USER["practice_name"])
    assert Practice.objects.count() == 0
    assert not User.objects.filter(email=NEW_USER["email"]).exists()
