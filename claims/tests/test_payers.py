from __future__ import annotations

from datetime import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from claims.models import Claim
from claims.tests.factories import ClaimFactory, PayerFactory

pytestmark = pytest.mark.django_db


def test_it_lists_the_practices_payers_with_claim_counts(owner_client, practice, other_practice):
    aetna = PayerFactory(
        practice=practice, name="Aetna", payer_id="60054", phone="+18005550111", timely_filing_days=120
    )
    ClaimFactory.create_batch(2, practice=practice, payer=aetna)
    ClaimFactory(practice=practice, payer=aetna, status=Claim.Status.PAID)
    PayerFactory(practice=other_practice, name="Bravo Only Payer")

    response = owner_client.get("/claims/payers/")

    assert response.status_code == 200
    body = response.content.decode()
    assert "Aetna" in body and "60054" in body and "(800) 555-0111" in body and "120 days" in body
    assert f'href="/claims/?payer={aetna.pk}">2</a>' in body  # open claims, linked to the worklist
    assert '<td class="numeric">3</td>' in body
    assert "Bravo Only Payer" not in body


def test_it_says_which_payers_lines_are_open_24_hours(owner_client, practice):
    PayerFactory(practice=practice, name="Around The Clock", opens_at=time(0, 0), closes_at=time(0, 0))
    PayerFactory(practice=practice, name="Office Hours", opens_at=time(8, 0), closes_at=time(17, 0))

    body = owner_client.get("/claims/payers/").content.decode()

    assert "Open 24 hours" in body
    assert "8:00 AM – 5:00 PM" in body
    assert "12:00 AM – 12:00 AM" not in body


def test_it_says_calls_listen_to_menus_without_saved_steps(owner_client, practice):
    PayerFactory(practice=practice, name="No Steps", ivr_config={})
    PayerFactory(practice=practice, name="Empty Steps", ivr_config={"steps": []})
    PayerFactory(practice=practice, name="Mapped", ivr_config={"steps": [{"prompt": "For claims, press 2"}]})

    body = owner_client.get("/claims/payers/").content.decode()

    assert body.count("Menu navigated by listening") == 2
    assert "not mapped" not in body


def test_it_counts_claims_in_one_query_however_many_payers(owner_client, practice):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            owner_client.get("/claims/payers/")
        return len(queries)

    ClaimFactory(practice=practice)
    few = count_queries()
    for _ in range(5):
        ClaimFactory(practice=practice)

    assert count_queries() == few


def test_it_shows_staff_the_list_without_edit_controls(teammate_client, practice):
    payer = PayerFactory(practice=practice)

    response = teammate_client.get("/claims/payers/")

    assert response.status_code == 200
    assert payer.name.encode() in response.content
    assert b"Add payer" not in response.content
    assert f"/claims/payers/{payer.pk}/edit/".encode() not in response.content


def test_it_offers_admins_to_add_the_first_payer(owner_client):
    body = owner_client.get("/claims/payers/").content.decode()

    assert "No payers yet" in body
    assert 'href="/claims/payers/new/"' in body


def test_it_rejects_post(owner_client):
    assert owner_client.post("/claims/payers/").status_code == 405


def test_it_sends_anonymous_users_to_sign_in(client):
    response = client.get("/claims/payers/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
