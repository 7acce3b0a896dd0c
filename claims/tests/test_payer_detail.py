from __future__ import annotations

from datetime import time
from decimal import Decimal

import pytest

from claims.models import Claim
from claims.tests.factories import ClaimFactory, PayerFactory

pytestmark = pytest.mark.django_db

MENU = {
    "steps": [
        {"prompt": "For claims, press 2", "options": {"1": "eligibility", "2": "claims"}},
        {"prompt": "Say your NPI", "say": "Provider NPI", "wait_seconds": 3},
    ]
}


@pytest.fixture
def payer(practice):
    return PayerFactory(
        practice=practice,
        name="Aetna",
        payer_id="60054",
        open_weekdays="01234",
        ivr_config=MENU,
        ivr_notes="Ask for a reference number.",
        max_calls_per_window=6,
        call_window_minutes=60,
    )


def test_it_shows_the_payers_settings_and_menu(owner_client, payer):
    body = owner_client.get(f"/claims/payers/{payer.pk}/").content.decode()

    for text in [
        "Aetna",
        "60054",
        "Mon–Fri, 8:00 AM – 5:00 PM",
        "Central (Chicago)",
        "6 calls every 60 minutes",
        "“For claims, press 2”",
        "<kbd>2</kbd> claims",
        "Say “Provider NPI”",
        "Wait 3 seconds",
        "Ask for a reference number.",
    ]:
        assert text in body, text


def test_it_says_a_line_open_around_the_clock_is_open_24_hours(owner_client, payer):
    payer.opens_at = payer.closes_at = time(0, 0)
    payer.save()

    body = owner_client.get(f"/claims/payers/{payer.pk}/").content.decode()

    assert "Mon–Fri, open 24 hours" in body
    assert "12:00 AM – 12:00 AM" not in body


def test_it_counts_open_claims_by_status(owner_client, payer, practice):
    ClaimFactory.create_batch(
        2, practice=practice, payer=payer, status=Claim.Status.DENIED, total_charge=Decimal("100")
    )
    ClaimFactory(practice=practice, payer=payer, status=Claim.Status.SUBMITTED, total_charge=Decimal("40"))
    ClaimFactory(practice=practice, payer=payer, status=Claim.Status.PAID)
    ClaimFactory(practice=practice, status=Claim.Status.DENIED)  # another payer

    body = owner_client.get(f"/claims/payers/{payer.pk}/").content.decode()

    assert body.index(">Submitted<") < body.index(">Denied<")
    assert '<td class="numeric">2</td><td class="numeric">$200.00</td>' in body
    assert '<td class="numeric">1</td><td class="numeric">$40.00</td>' in body
    assert "Paid<" not in body
    assert "<strong>3</strong>" in body and "<strong>$240.00</strong>" in body


def test_it_says_calls_listen_to_a_menu_without_saved_steps(owner_client, practice):
    payer = PayerFactory(practice=practice)

    body = owner_client.get(f"/claims/payers/{payer.pk}/").content.decode()

    # The agent is told to listen and choose (telephony.prompts.ivr_instructions): the menu is still navigated.
    assert "No menu steps saved. Calls still get through the menu by listening to it" in body
    assert "not mapped" not in body
    assert "Add the steps" in body and "more reliably" in body


def test_it_offers_staff_no_link_to_add_menu_steps(teammate_client, practice):
    payer = PayerFactory(practice=practice)

    body = teammate_client.get(f"/claims/payers/{payer.pk}/").content.decode()

    assert "Calls still get through the menu by listening to it" in body
    assert "Add the steps" not in body


def test_it_shows_staff_the_payer_without_edit_link(teammate_client, payer):
    response = teammate_client.get(f"/claims/payers/{payer.pk}/")

    assert response.status_code == 200
    assert b"Edit payer" not in response.content


def test_it_hides_another_practices_payer(owner_client, other_practice):
    payer = PayerFactory(practice=other_practice)

    assert owner_client.get(f"/claims/payers/{payer.pk}/").status_code == 404


def test_it_answers_404_for_an_unknown_payer(owner_client):
    assert owner_client.get("/claims/payers/999999/").status_code == 404


def test_it_rejects_post(owner_client, payer):
    assert owner_client.post(f"/claims/payers/{payer.pk}/").status_code == 405


def test_it_sends_anonymous_users_to_sign_in(client, payer):
    response = client.get(f"/claims/payers/{payer.pk}/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
