from __future__ import annotations

import json

import pytest

from claims.models import Claim, ClaimEvent
from claims.tests.factories import ClaimFactory

HX = {"HTTP_HX_REQUEST": "true"}
pytestmark = pytest.mark.django_db


@pytest.fixture
def claim(practice):
    return ClaimFactory(practice=practice, status=Claim.Status.SUBMITTED)


def _url(claim) -> str:
    return f"/claims/{claim.pk}/status/"


def test_it_changes_the_status_and_records_why(owner_client, owner, claim):
    response = owner_client.post(_url(claim), {"status": "denied", "reason": "CO-16 on the 835"})

    assert response.status_code == 302
    assert response["Location"] == f"/claims/{claim.pk}/"
    claim.refresh_from_db()
    assert claim.status == Claim.Status.DENIED
    event = ClaimEvent.objects.get(claim=claim)
    assert (event.kind, event.from_status, event.to_status) == ("status_changed", "submitted", "denied")
    assert event.message == "CO-16 on the 835"
    assert event.actor == owner


def test_it_lets_staff_change_a_status(teammate_client, claim):
    teammate_client.post(_url(claim), {"status": "in_process", "reason": ""})

    claim.refresh_from_db()
    assert claim.status == Claim.Status.IN_PROCESS


def test_it_returns_the_form_header_timeline_and_message_for_htmx(owner_client, claim):
    response = owner_client.post(_url(claim), {"status": "denied", "reason": "Rep confirmed the denial"}, **HX)

    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<form id="status-form"')
    assert "<html" not in body
    assert '<header id="claim-header" class="claim-header" hx-swap-oob="true">' in body
    assert 'id="timeline-events"' in body
    assert "Submitted → Denied" in body and "Rep confirmed the denial" in body
    assert 'id="messages" class="messages" aria-live="polite" hx-swap-oob="true"' in body
    assert "is now denied" in body
    assert json.loads(response["HX-Trigger"]) == {"claim-updated": {"id": claim.pk}}


def test_it_requires_a_reason_to_deny_write_off_or_close(owner_client, claim):
    for status in ("denied", "written_off", "closed", "rejected"):
        response = owner_client.post(_url(claim), {"status": status, "reason": "  "}, **HX)

        assert response.status_code == 200
        assert b"the reason goes on the timeline" in response.content
    claim.refresh_from_db()
    assert claim.status == Claim.Status.SUBMITTED
    assert not ClaimEvent.objects.exists()


def test_it_refuses_a_move_the_status_machine_forbids(owner_client, practice):
    claim = ClaimFactory(practice=practice, status=Claim.Status.PAID)

    response = owner_client.post(_url(claim), {"status": "submitted", "reason": "Resend"}, **HX)

    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="status-form"' in body
    assert "A paid claim cannot become submitted." in body
    claim.refresh_from_db()
    assert claim.status == Claim.Status.PAID


def test_it_refuses_an_unknown_status(owner_client, claim):
    response = owner_client.post(_url(claim), {"status": "approved"}, **HX)

    assert b"Select a valid choice" in response.content
    claim.refresh_from_db()
    assert claim.status == Claim.Status.SUBMITTED


def test_it_shows_the_page_with_the_error_without_htmx(owner_client, practice):
    claim = ClaimFactory(practice=practice, status=Claim.Status.PAID)

    response = owner_client.post(_url(claim), {"status": "submitted", "reason": "Resend"})

    assert response.status_code == 400
    assert b"<html" in response.content
    assert b"A paid claim cannot become submitted." in response.content


def test_it_offers_the_moves_from_the_current_status_after_a_refusal(owner_client, claim):
    # Someone else marked the claim paid after this page was loaded.
    Claim.objects.filter(pk=claim.pk).update(status=Claim.Status.PAID)

    response = owner_client.post(_url(claim), {"status": "in_process", "reason": ""}, **HX)

    body = response.content.decode()
    assert "A paid claim cannot become in process." in body
    assert 'value="reprocessing"' in body
    assert 'value="in_process"' not in body


def test_it_hides_another_practices_claim(owner_client, other_practice):
    claim = ClaimFactory(practice=other_practice)

    response = owner_client.post(_url(claim), {"status": "denied", "reason": "x"})

    assert response.status_code == 404
    claim.refresh_from_db()
    assert claim.status == Claim.Status.SUBMITTED


def test_it_answers_404_for_an_unknown_claim(owner_client):
    assert owner_client.post("/claims/999999/status/", {"status": "denied", "reason": "x"}).status_code == 404


def test_it_rejects_get(owner_client, claim):
    assert owner_client.get(_url(claim)).status_code == 405


def test_it_sends_anonymous_users_to_sign_in(client, claim):
    response = client.post(_url(claim), {"status": "denied", "reason": "x"})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_keeps_the_reason_rule_in_the_service(owner, claim):
    from django.core.exceptions import ValidationError

    from claims import services

    with pytest.raises(ValidationError) as raised:
        services.change_status(claim, Claim.Status.WRITTEN_OFF, actor=owner, reason=" ")

    assert "reason" in raised.value.message_dict
    claim.refresh_from_db()
    assert claim.status == Claim.Status.SUBMITTED
    assert not ClaimEvent.objects.exists()
