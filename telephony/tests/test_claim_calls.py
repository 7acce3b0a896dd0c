"""The "Calls" card of a claim page: its calls, its follow-up calls, and scheduling one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from claims.tests.factories import ClaimFactory, PayerFactory
from telephony.models import Call, ScheduledCall
from telephony.tests.factories import CallFactory, ScheduledCallFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
NOW = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def claim(practice):
    practice.time_zone = "America/Chicago"
    practice.save()
    return ClaimFactory(practice=practice, claim_number="RB-24017", payer=PayerFactory(practice=practice, name="Aetna"))


def _add_url(claim) -> str:
    return f"/calls/claims/{claim.pk}/follow-ups/"


def _card_url(claim) -> str:
    return f"/calls/claims/{claim.pk}/"


def test_the_claim_page_shows_its_calls_and_follow_ups(owner_client, claim):
    call = CallFactory(
        practice=claim.practice,
        claim=claim,
        status=Call.Status.ENDED,
        started_at=NOW,
        duration_seconds=600,
        summary="Renee at Aetna said the claim is in process; call back in 14 days.",
    )
    ScheduledCallFactory(
        practice=claim.practice, claim=claim, call_after=datetime(2026, 12, 4, 15, tzinfo=UTC), reason="In process"
    )

    body = owner_client.get(f"/claims/{claim.pk}/").content.decode()

    assert 'id="claim-calls"' in body
    assert f'href="/calls/{call.pk}/"' in body
    assert "Renee at Aetna said the claim is in process" in body
    assert "Fri Dec 4, 2026, 9:00 AM CST" in body
    assert "In process" in body
    assert "Call payer now" in body
    assert 'hx-trigger="calls-queued from:body"' in body  # nothing under way: no polling


def test_the_card_polls_while_a_call_about_the_claim_is_active(owner_client, claim):
    CallFactory(practice=claim.practice, claim=claim, status=Call.Status.QUEUED)

    body = owner_client.get(f"/claims/{claim.pk}/").content.decode()

    assert 'hx-trigger="calls-queued from:body, every 3s"' in body
    assert "Waiting to be placed." in body


def test_its_partial_keeps_polling_while_a_call_is_active(owner_client, claim):
    CallFactory(practice=claim.practice, claim=claim, status=Call.Status.IN_PROGRESS)

    response = owner_client.get(_card_url(claim), headers=HTMX)

    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="claim-calls"')
    assert "<html" not in body
    assert "On the line now." in body


def test_its_partial_stops_polling_when_no_call_is_active(owner_client, claim):
    CallFactory(practice=claim.practice, claim=claim, status=Call.Status.ENDED)

    response = owner_client.get(_card_url(claim), headers=HTMX)

    assert response.status_code == 286
    assert 'id="claim-calls"' in response.content.decode()


def test_the_card_without_htmx_is_the_claim_page(owner_client, claim):
    response = owner_client.get(_card_url(claim))

    assert response.status_code == 302
    assert response.url == f"/claims/{claim.pk}/"


def test_the_card_hides_another_practices_claim(outsider_client, claim):
    assert outsider_client.get(_card_url(claim), headers=HTMX).status_code == 404


# Scheduling a follow-up call


def test_it_schedules_a_follow_up_in_the_practice_time_zone(owner_client, owner, claim):
    response = owner_client.post(
        _add_url(claim), {"call_date": "2026-11-27", "call_time": "09:30", "reason": "Recheck"}
    )

    assert response.status_code == 302 and response.url == f"/claims/{claim.pk}/"
    scheduled = ScheduledCall.objects.get(claim=claim)
    assert scheduled.call_after == datetime(2026, 11, 27, 15, 30, tzinfo=UTC)  # 9:30 in Chicago
    assert scheduled.reason == "Recheck"
    assert scheduled.created_by == owner
    assert scheduled.status == ScheduledCall.Status.PENDING
    page = owner_client.get(response.url).content.decode()
    assert "Follow-up call scheduled for Nov 27, 2026, 9:30 AM CST." in page


def test_it_answers_htmx_with_the_card_the_timeline_and_the_message(owner_client, claim):
    response = owner_client.post(_add_url(claim), {"call_date": "2026-11-27", "call_time": "09:30"}, headers=HTMX)

    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="claim-calls"')
    assert "<html" not in body
    assert "Fri Nov 27, 2026, 9:30 AM CST" in body
    assert 'id="timeline-events" class="timeline" aria-label="Timeline, newest first" hx-swap-oob="true"' in body
    assert "Follow-up call scheduled for" in body


def test_it_refuses_a_time_in_the_past(owner_client, claim):
    response = owner_client.post(_add_url(claim), {"call_date": "2026-11-19", "call_time": "09:00"}, headers=HTMX)

    body = response.content.decode()
    assert "Pick a time in the future." in body
    assert 'value="2026-11-19"' in body
    assert not ScheduledCall.objects.exists()


def test_it_says_why_without_htmx(owner_client, claim):
    response = owner_client.post(_add_url(claim), {"call_date": "", "call_time": "09:00"}, follow=True)

    assert "The follow-up call was not scheduled: This field is required." in response.content.decode()


def test_a_teammate_can_schedule(teammate_client, claim):
    teammate_client.post(_add_url(claim), {"call_date": "2026-11-27", "call_time": "09:30"})

    assert ScheduledCall.objects.filter(claim=claim).exists()


def test_scheduling_hides_another_practices_claim(outsider_client, claim):
    response = outsider_client.post(_add_url(claim), {"call_date": "2026-11-27", "call_time": "09:30"})

    assert response.status_code == 404
    assert not ScheduledCall.objects.exists()


def test_scheduling_answers_404_for_an_unknown_claim(owner_client, claim):
    assert owner_client.post(f"/calls/claims/{claim.pk + 1000}/follow-ups/", {}).status_code == 404


def test_scheduling_only_answers_post(owner_client, claim):
    assert owner_client.get(_add_url(claim)).status_code == 405


def test_scheduling_redirects_anonymous_visitors_to_sign_in(client, claim):
    response = client.post(_add_url(claim), {"call_date": "2026-11-27", "call_time": "09:30"})

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_the_card_does_not_reuse_the_claim_pages_field_ids(owner_client, claim):
    body = owner_client.get(f"/claims/{claim.pk}/").content.decode()

    assert body.count('id="id_reason"') == 1  # the status form's
    assert 'id="followup_reason"' in body
