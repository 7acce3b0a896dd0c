"""A biller selects every claim the worklist's filters match, beyond the page, and calls them all."""

from __future__ import annotations

from datetime import date, timedelta
from unittest import mock

import pytest
from playwright.sync_api import expect

from billingpulse.models import User
from billingpulse.tests.factories import PatientFactory, PracticeFactory, UserFactory
from claims.models import Claim
from claims.tests.factories import ClaimFactory, PayerFactory
from telephony.models import Call
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DENIED = 55  # more than the page's 50 rows


@pytest.fixture
def biller():
    practice = PracticeFactory(name="Riverbend Family Medicine", time_zone="America/Chicago")
    user = UserFactory(email="jordan@riverbend.example", practice=practice, role=User.Role.ADMIN)
    payer = PayerFactory(practice=practice, name="Aetna", phone="+18005550111")
    patients = [PatientFactory(practice=practice, last_name=f"Patient{n}") for n in range(5)]
    today = date.today()
    for n in range(DENIED + 5):
        ClaimFactory(
            practice=practice,
            patient=patients[n % 5],
            payer=payer,
            claim_number=f"RB{24000 + n}",
            service_date_from=today - timedelta(days=10 + n),
            status=Claim.Status.DENIED if n < DENIED else Claim.Status.SUBMITTED,
        )
    # Another practice's denied claims are neither counted nor called.
    other = PracticeFactory(name="Elsewhere Clinic")
    theirs = PayerFactory(practice=other, phone="+18005550122")
    ClaimFactory.create_batch(3, practice=other, payer=theirs, status=Claim.Status.DENIED)
    return user


@pytest.fixture(autouse=True)
def _calls_stay_queued():
    """No worker here: queued calls are not placed."""
    with mock.patch("telephony.tasks.place_call.delay"):
        yield


def _select_the_page(page):
    page.goto("/claims/?status=denied")
    expect(page.locator("#claim-table-summary")).to_contain_text(f"{DENIED} claims")
    page.get_by_label("Select all claims on this page").check()
    expect(page.locator("[data-selection-count]")).to_have_text("50 selected")


def test_it_calls_every_matching_claim_beyond_the_page(page, biller, screenshot, server_idle):
    sign_in(page, biller.email)
    _select_the_page(page)
    bar = page.locator("[data-select-matching]")
    expect(bar).to_contain_text("All 50 on this page are selected.")

    page.get_by_role("button", name=f"Select all {DENIED} matching claims").click()

    expect(bar).to_contain_text(f"All {DENIED} matching claims are selected.")
    expect(page.locator("[data-selection-count]")).to_have_text(f"{DENIED} selected")
    screenshot(page, "worklist-all-matching-selected")

    # Clearing goes back to nothing selected; choosing again restores the offer.
    bar.get_by_role("button", name="Clear selection").click()
    expect(page.get_by_label("Select all claims on this page")).not_to_be_checked()
    expect(bar).to_be_hidden()
    expect(page.get_by_role("button", name="Call selected")).to_be_visible()
    page.get_by_label("Select all claims on this page").check()
    page.get_by_role("button", name=f"Select all {DENIED} matching claims").click()

    dialogs = []

    def confirm(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    page.once("dialog", confirm)
    page.get_by_role("button", name=f"Call {DENIED} claims").click()

    expect(page.locator("#messages")).to_contain_text(f"{DENIED} calls queued.")
    assert dialogs and f"{DENIED} claims" in dialogs[0]
    with server_idle:
        calls = Call.objects.all()
        assert calls.count() == DENIED
        assert {call.claim.status for call in calls} == {Claim.Status.DENIED}
        assert {call.practice_id for call in calls} == {biller.practice_id}
    screenshot(page, "worklist-all-matching-called")


def test_it_calls_nobody_when_the_matching_claims_changed(page, biller, server_idle):
    sign_in(page, biller.email)
    _select_the_page(page)
    page.get_by_role("button", name=f"Select all {DENIED} matching claims").click()
    expect(page.get_by_role("button", name=f"Call {DENIED} claims")).to_be_visible()

    # Meanwhile a teammate's import adds a denied claim.
    with server_idle:
        practice_claim = Claim.objects.filter(practice=biller.practice).first()
        ClaimFactory(practice=biller.practice, payer=practice_claim.payer, status=Claim.Status.DENIED)

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=f"Call {DENIED} claims").click()

    expect(page.locator("#messages")).to_contain_text(
        f"The matching claims changed since you selected them: {DENIED + 1} match now. Check the list and select again."
    )
    with server_idle:
        assert not Call.objects.exists()


def test_it_offers_nothing_more_when_the_page_shows_every_match(page, biller):
    sign_in(page, biller.email)
    page.goto("/claims/?status=submitted")
    expect(page.locator("#claim-table-summary")).to_contain_text("5 claims")

    page.get_by_label("Select all claims on this page").check()

    expect(page.locator("[data-selection-count]")).to_have_text("5 selected")
    expect(page.locator("[data-select-matching]")).to_be_hidden()
    expect(page.get_by_role("button", name="Call selected")).to_be_visible()
