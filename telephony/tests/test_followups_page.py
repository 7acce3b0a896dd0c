from __future__ import annotations

from datetime import UTC, datetime

import pytest

from billingpulse.tests.factories import PatientFactory
from claims.models import ClaimEvent
from claims.tests.factories import ClaimFactory
from telephony.models import ScheduledCall
from telephony.tests.factories import CallFactory, ScheduledCallFactory

pytestmark = pytest.mark.django_db

URL = "/calls/follow-ups/"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def scheduled(practice, owner):
    practice.time_zone = "America/Chicago"
    practice.save()
    patient = PatientFactory(practice=practice, first_name="Eleanor", last_name="Whitfield")
    claim = ClaimFactory(practice=practice, patient=patient, claim_number="RB-24017")
    return ScheduledCallFactory(
        practice=practice,
        claim=claim,
        call_after=datetime(2030, 3, 4, 15, 0, tzinfo=UTC),
        reason="Reprocessing; call back in five days",
        created_by=owner,
    )


def _cancel_url(scheduled) -> str:
    return f"/calls/follow-ups/{scheduled.pk}/cancel/"


def test_it_lists_pending_follow_ups_in_the_practice_time_zone(owner_client, scheduled):
    body = owner_client.get(URL).content.decode()

    for text in [
        "RB-24017",
        "Whitfield, Eleanor",
        "Mon Mar 4, 2030",
        "9:00 AM CST",
        "Reprocessing; call back",
        "Alice Admin",
    ]:
        assert text in body
    assert _cancel_url(scheduled) in body


def test_it_lists_follow_ups_from_call_outcomes(owner_client, scheduled):
    scheduled.source, scheduled.created_by = ScheduledCall.Source.PIPELINE, None
    scheduled.save()

    assert b"Call outcome" in owner_client.get(URL).content


def test_it_lists_recently_dispatched_follow_ups_with_their_calls(owner_client, scheduled):
    scheduled.status, scheduled.dispatched_at = ScheduledCall.Status.DISPATCHED, datetime(2030, 3, 4, 15, 1, tzinfo=UTC)
    scheduled.save()
    call = CallFactory(practice=scheduled.practice, claim=scheduled.claim, scheduled_call=scheduled)

    body = owner_client.get(URL).content.decode()

    assert "No follow-up calls scheduled" in body
    assert "Recently sent to the queue" in body and "RB-24017" in body
    assert f'href="/calls/{call.pk}/"' in body


def test_it_leaves_out_canceled_follow_ups(owner_client, scheduled):
    scheduled.status = ScheduledCall.Status.CANCELED
    scheduled.save()

    assert b"RB-24017" not in owner_client.get(URL).content


def test_it_shows_teammates_the_follow_ups(teammate_client, scheduled):
    assert b"RB-24017" in teammate_client.get(URL).content


def test_it_hides_other_practices_follow_ups(outsider_client, scheduled):
    assert b"RB-24017" not in outsider_client.get(URL).content


def test_it_only_answers_get(owner_client):
    assert owner_client.post(URL).status_code == 405


def test_it_redirects_anonymous_visitors_to_sign_in(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


# Cancel


def test_it_cancels_a_follow_up(owner_client, owner, scheduled):
    response = owner_client.post(_cancel_url(scheduled), {"next": URL})

    assert response.status_code == 302 and response.url == URL
    scheduled.refresh_from_db()
    assert scheduled.status == ScheduledCall.Status.CANCELED
    assert ClaimEvent.objects.filter(claim=scheduled.claim, kind=ClaimEvent.Kind.CALL, actor=owner).exists()
    assert "Follow-up call about RB-24017 canceled." in owner_client.get(URL).content.decode()


def test_it_lets_a_teammate_cancel(teammate_client, scheduled):
    teammate_client.post(_cancel_url(scheduled))

    scheduled.refresh_from_db()
    assert scheduled.status == ScheduledCall.Status.CANCELED


def test_it_answers_htmx_with_the_lists_and_the_message(owner_client, scheduled):
    response = owner_client.post(_cancel_url(scheduled), headers=HTMX)

    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="followup-lists"')
    assert "<html" not in body
    assert "No follow-up calls scheduled" in body
    assert 'id="messages"' in body and 'hx-swap-oob="true"' in body
    assert "Follow-up call about RB-24017 canceled." in body


def test_it_answers_the_claim_page_with_its_calls_card(owner_client, scheduled):
    response = owner_client.post(_cancel_url(scheduled), headers={**HTMX, "HX-Target": "claim-calls"})

    body = response.content.decode()
    assert body.lstrip().startswith('<section id="claim-calls"')
    assert 'id="timeline-events"' in body  # the cancellation is on the claim's timeline
    assert "None scheduled." in body


def test_it_says_a_dispatched_follow_up_cannot_be_canceled(owner_client, scheduled):
    scheduled.status = ScheduledCall.Status.DISPATCHED
    scheduled.save()

    response = owner_client.post(_cancel_url(scheduled), follow=True)

    assert "already in the call queue" in response.content.decode()
    scheduled.refresh_from_db()
    assert scheduled.status == ScheduledCall.Status.DISPATCHED


def test_it_hides_another_practices_follow_up_from_cancel(outsider_client, scheduled):
    assert outsider_client.post(_cancel_url(scheduled)).status_code == 404
    scheduled.refresh_from_db()
    assert scheduled.status == ScheduledCall.Status.PENDING


def test_it_answers_404_for_an_unknown_follow_up(owner_client, scheduled):
    assert owner_client.post(f"/calls/follow-ups/{scheduled.pk + 1000}/cancel/").status_code == 404


def test_cancel_only_answers_post(owner_client, scheduled):
    assert owner_client.get(_cancel_url(scheduled)).status_code == 405


def test_cancel_redirects_anonymous_visitors_to_sign_in(client, scheduled):
    response = client.post(_cancel_url(scheduled))

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")
    scheduled.refresh_from_db()
    assert scheduled.status == ScheduledCall.Status.PENDING


def _intervals(**changes) -> dict:
    from telephony.pipeline import DEFAULT_CADENCE

    return {status: str(days) for status, days in DEFAULT_CADENCE.items()} | changes


def test_an_admin_sets_the_intervals_used_when_the_payer_names_no_date(owner_client, owner):
    response = owner_client.post("/calls/follow-ups/intervals/", _intervals(in_process="21", denied="10"))

    assert response.status_code == 302
    owner.practice.refresh_from_db()
    assert owner.practice.follow_up_cadence == {"in_process": 21, "denied": 10}
    body = owner_client.get("/calls/follow-ups/").content.decode()
    assert "Follow-up intervals saved" in body and 'name="in_process" value="21"' in body


def test_bad_intervals_get_field_errors_and_change_nothing(owner_client, owner):
    response = owner_client.post("/calls/follow-ups/intervals/", _intervals(in_process="0", denied="soon"))

    assert response.status_code == 400
    body = response.content.decode()
    assert "greater than or equal to 1" in body and "Enter a whole number" in body
    owner.practice.refresh_from_db()
    assert owner.practice.follow_up_cadence == {}


def test_staff_see_the_intervals_but_cannot_change_them(teammate_client, teammate):
    body = teammate_client.get("/calls/follow-ups/").content.decode()
    assert "A practice admin can change these." in body and "14 days" in body

    assert teammate_client.post("/calls/follow-ups/intervals/", _intervals(in_process="3")).status_code == 403
    teammate.practice.refresh_from_db()
    assert teammate.practice.follow_up_cadence == {}
