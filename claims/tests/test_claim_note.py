from __future__ import annotations

import json

import pytest

from claims.models import ClaimEvent
from claims.tests.factories import ClaimEventFactory, ClaimFactory

HX = {"HTTP_HX_REQUEST": "true"}
pytestmark = pytest.mark.django_db


@pytest.fixture
def claim(practice):
    return ClaimFactory(practice=practice)


def _url(claim) -> str:
    return f"/claims/{claim.pk}/notes/"


def test_it_adds_a_note_to_the_timeline(owner_client, owner, claim):
    response = owner_client.post(_url(claim), {"text": "  Called Aetna, ref 88213.  "})

    assert response.status_code == 302
    assert response["Location"] == f"/claims/{claim.pk}/"
    event = ClaimEvent.objects.get(claim=claim)
    assert (event.kind, event.message, event.actor) == ("note", "Called Aetna, ref 88213.", owner)


def test_it_lets_staff_add_notes(teammate_client, teammate, claim):
    teammate_client.post(_url(claim), {"text": "Resubmitted with the referral."})

    assert ClaimEvent.objects.get(claim=claim).actor == teammate


def test_it_returns_the_new_entry_and_an_empty_form_for_htmx(owner_client, claim):
    ClaimEventFactory(claim=claim, message="An older note")

    response = owner_client.post(_url(claim), {"text": "Called Aetna, ref 88213."}, **HX)

    assert response.status_code == 200
    body = response.content.decode()
    # The message is encrypted, so it is found in Python rather than by the database.
    event = next(e for e in ClaimEvent.objects.filter(claim=claim) if e.message == "Called Aetna, ref 88213.")
    assert body.lstrip().startswith(f'<li id="event-{event.pk}"')
    assert "An older note" not in body
    assert "<html" not in body
    assert 'id="note-form"' in body and 'hx-swap-oob="true"' in body
    assert json.loads(response["HX-Trigger"]) == {"claim-updated": {"id": claim.pk}}


def test_it_asks_for_text_in_place_for_htmx(owner_client, claim):
    response = owner_client.post(_url(claim), {"text": "   "}, **HX)

    assert response.status_code == 200
    assert response["HX-Retarget"] == "#note-form"
    assert response["HX-Reswap"] == "outerHTML"
    assert b"Write the note first." in response.content
    assert not ClaimEvent.objects.exists()


def test_it_shows_the_page_with_the_error_without_htmx(owner_client, claim):
    response = owner_client.post(_url(claim), {"text": ""})

    assert response.status_code == 400
    assert b"Write the note first." in response.content


def test_it_hides_another_practices_claim(owner_client, other_practice):
    claim = ClaimFactory(practice=other_practice)

    assert owner_client.post(_url(claim), {"text": "Snooping"}).status_code == 404
    assert not ClaimEvent.objects.exists()


def test_it_answers_404_for_an_unknown_claim(owner_client):
    assert owner_client.post("/claims/999999/notes/", {"text": "x"}).status_code == 404


def test_it_rejects_get(owner_client, claim):
    assert owner_client.get(_url(claim)).status_code == 405


def test_it_sends_anonymous_users_to_sign_in(client, claim):
    response = client.post(_url(claim), {"text": "x"})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
