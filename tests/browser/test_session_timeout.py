"""The idle-timeout warning in a real page: it appears before the end, "Stay signed in" keeps the
session, and at the end the page goes to the sign-in page with the reason.

The server's clock (time-machine, which the live server's thread shares) and the page's clock
(Playwright's) are moved forward together, so no test waits half an hour.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from playwright.sync_api import expect

from billingpulse.models import User
from billingpulse.tests.factories import PracticeFactory, UserFactory
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

START = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)


def test_the_page_warns_before_an_idle_sign_out_and_can_keep_the_session(page):
    practice = PracticeFactory(name="Riverbend Family Medicine")
    UserFactory(email="sam@riverbend.example", full_name="Sam Biller", practice=practice, role=User.Role.STAFF)
    with time_machine.travel(START, tick=True) as server_clock:
        page.clock.install(time=START)
        sign_in(page, "sam@riverbend.example")
        page.goto("/claims/")
        dialog = page.get_by_role("dialog", name="Still there?")
        expect(dialog).to_be_hidden()

        # 28½ minutes later, with nothing done: the warning, counting down.
        server_clock.shift(timedelta(minutes=28, seconds=30))
        page.clock.fast_forward("28:30")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text("you will be signed out in 1:")

        dialog.get_by_role("button", name="Stay signed in").click()
        expect(dialog).to_be_hidden()

        # Another 28½ minutes: the session was extended, so the warning comes again, not the end.
        server_clock.shift(timedelta(minutes=28, seconds=30))
        page.clock.fast_forward("28:30")
        expect(dialog).to_be_visible()

        # Nothing more: at the end the page shows the sign-in page and why.
        server_clock.shift(timedelta(minutes=2))
        page.clock.fast_forward("02:00")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        expect(page.get_by_text("You were signed out after 30 minutes without activity.")).to_be_visible()
        assert "/accounts/login/?next=/claims/" in page.url
