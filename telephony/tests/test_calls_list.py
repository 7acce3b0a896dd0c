from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billingpulse.tests.factories import PatientFactory
from claims.tests.factories import ClaimFactory, PayerFactory
from telephony.models import Call
from telephony.tests.factories import CallFactory

pytestmark = pytest.mark.django_db

URL = "/calls/"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def aetna(practice):
    return PayerFactory(practice=practice, name="Aetna")


@pytest.fixture
def ended_call(practice, aetna):
    patient = PatientFactory(practice=practice, first_name="Eleanor", last_name="Whitfield")
    claim = ClaimFactory(practice=practice, patient=patient, payer=aetna, claim_number="RB-24017")
    return CallFactory(
        practice=practice,
        claim=claim,
        status=Call.Status.ENDED,
        duration_seconds=872,
        summary="Renee at Aetna confirmed claim RB-24017 was paid $198.64. Call reference 2601477318.",
        outcome={"claim_status": "paid", "reference_number": "2601477318"},
    )


def _active_call(practice, **fields):
    claim = ClaimFactory(practice=practice, claim_number=fields.pop("claim_number", "ACT-1"))
    return CallFactory(practice=practice, claim=claim, status=fields.pop("status", Call.Status.IN_PROGRESS), **fields)


def test_it_lists_the_practices_calls(owner_client, ended_call):
    body = owner_client.get(URL).content.decode()

    for text in [
        "RB-24017",
        "Whitfield, Eleanor",
        "Aetna",
        "14:32",
        "Renee at Aetna confirmed",
        "Paid",
        "Ref 2601477318",
    ]:
        assert text in body
    assert f'href="/calls/{ended_call.pk}/"' in body
    assert f'href="/claims/{ended_call.claim_id}/"' in body
    assert 'aria-current="page"' in body  # the "Calls" navigation entry


def test_it_shows_teammates_the_calls(teammate_client, ended_call):
    assert b"RB-24017" in teammate_client.get(URL).content


def test_it_hides_other_practices_calls(outsider_client, ended_call):
    body = outsider_client.get(URL).content.decode()

    assert "RB-24017" not in body
    assert "Call payers about your claims" in body


def test_it_redirects_anonymous_visitors_to_sign_in(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_it_only_answers_get(owner_client):
    assert owner_client.post(URL).status_code == 405


def test_it_filters_by_status(owner_client, practice, ended_call):
    _active_call(practice, claim_number="LIVE-1")

    body = owner_client.get(URL, {"status": "in_progress"}).content.decode()

    assert "LIVE-1" in body and "RB-24017" not in body
    assert "Clear filters" in body


def test_it_filters_by_payer(owner_client, practice, ended_call):
    other = CallFactory(practice=practice, claim=ClaimFactory(practice=practice, claim_number="CIG-1"))

    body = owner_client.get(URL, {"payer": ended_call.payer_id}).content.decode()

    assert "RB-24017" in body and "CIG-1" not in body
    assert other.payer.name not in body.split('id="call-table"')[1]


def test_it_filters_to_active_calls(owner_client, practice, ended_call):
    _active_call(practice, claim_number="Q-1", status=Call.Status.QUEUED)

    body = owner_client.get(URL, {"active": "on"}).content.decode()

    assert "Q-1" in body and "RB-24017" not in body
    assert "Waiting to be placed" in body


def test_it_ignores_another_practices_payer_in_the_filter(owner_client, ended_call, other_practice):
    foreign = PayerFactory(practice=other_practice)

    body = owner_client.get(URL, {"payer": foreign.pk}).content.decode()

    assert "RB-24017" in body


def test_it_pages_the_calls(owner_client, practice, aetna):
    for n in range(51):
        CallFactory(practice=practice, claim=ClaimFactory(practice=practice, payer=aetna, claim_number=f"P-{n:03d}"))

    first = owner_client.get(URL, {"payer": aetna.pk}).content.decode()
    second = owner_client.get(URL, {"payer": aetna.pk, "page": 2}).content.decode()

    assert "Page 1 of 2" in first
    assert f"?payer={aetna.pk}&amp;page=2" in first
    assert "P-000" in second and "P-050" not in second  # newest first


def _calls_in_time_order(practice):
    """Calls whose creation order differs from when they were placed, plus two placed at the same moment."""
    now = timezone.now()

    def call(number, created, placed=None, status=Call.Status.ENDED):
        made = CallFactory(
            practice=practice,
            claim=ClaimFactory(practice=practice, claim_number=number),
            status=status,
            placed_at=placed,
            started_at=placed + timedelta(seconds=5) if placed else None,
        )
        Call.objects.filter(pk=made.pk).update(created_at=created)
        return made

    tied_first = call("TIE-1", now - timedelta(days=2), placed=now - timedelta(days=1))
    tied_second = call("TIE-2", now - timedelta(days=2), placed=now - timedelta(days=1))
    retried = call("RETRY", now - timedelta(hours=3), placed=now - timedelta(minutes=10))
    placed_early = call("EARLY", now - timedelta(hours=2), placed=now - timedelta(hours=2))
    queued = call("QUEUED", now - timedelta(minutes=5), status=Call.Status.QUEUED)
    return [queued, retried, placed_early, tied_second, tied_first]


def _row_order(body, calls):
    return sorted(calls, key=lambda call: body.index(f'id="call-{call.pk}"'))


def test_it_lists_the_calls_newest_first_by_when_they_were_placed(owner_client, practice):
    expected = _calls_in_time_order(practice)

    body = owner_client.get(URL).content.decode()

    assert _row_order(body, expected) == expected


def test_its_table_partial_keeps_the_calls_newest_first(owner_client, practice):
    expected = _calls_in_time_order(practice)

    body = owner_client.get(URL, headers=HTMX).content.decode()

    assert _row_order(body, expected) == expected


def test_it_polls_while_calls_are_active(owner_client, practice):
    _active_call(practice)

    body = owner_client.get(URL).content.decode()

    assert 'hx-trigger="every 3s"' in body
    assert "Updating live" in body


def test_it_does_not_poll_without_active_calls(owner_client, ended_call):
    assert 'hx-trigger="every 3s"' not in owner_client.get(URL).content.decode()


def test_its_table_partial_keeps_polling_while_calls_are_active(owner_client, practice):
    _active_call(practice)

    response = owner_client.get(URL, headers=HTMX)

    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="call-table"')
    assert "<html" not in body
    assert 'hx-trigger="every 3s"' in body


def test_its_table_partial_stops_polling_when_no_call_is_active(owner_client, ended_call):
    response = owner_client.get(URL, headers=HTMX)

    assert response.status_code == 286
    body = response.content.decode()
    assert 'id="call-table"' in body and "<html" not in body
    assert "RB-24017" in body
    assert 'hx-trigger="every 3s"' not in body


def test_another_practices_active_calls_do_not_keep_the_table_polling(owner_client, ended_call, other_practice):
    _active_call(other_practice)

    assert owner_client.get(URL, headers=HTMX).status_code == 286


def test_it_shows_how_a_failed_call_ended(owner_client, practice):
    CallFactory(
        practice=practice,
        claim=ClaimFactory(practice=practice, claim_number="NA-1", total_charge=Decimal("10")),
        status=Call.Status.ENDED,
        failure_category="no_answer",
        summary="",
    )

    body = owner_client.get(URL).content.decode()

    assert "No answer or busy" in body
    assert "call-status-warn" in body


def test_it_keeps_polling_for_the_report_of_a_call_that_just_ended(owner_client, ended_call):
    ended_call.summary, ended_call.status_changed_at = "", timezone.now() - timedelta(seconds=20)
    ended_call.save()

    response = owner_client.get(URL, headers=HTMX)

    assert response.status_code == 200
    assert "Waiting for the call report" in response.content.decode()


def test_it_stops_waiting_for_a_report_that_never_came(owner_client, ended_call):
    ended_call.status_changed_at = timezone.now() - timedelta(minutes=11)
    ended_call.save()

    assert owner_client.get(URL, headers=HTMX).status_code == 286


def test_it_says_never_for_a_finished_call_that_never_started(owner_client, practice):
    claim = ClaimFactory(practice=practice)
    call = CallFactory(claim=claim, practice=practice, status=Call.Status.FAILED, started_at=None, placed_at=None)

    body = owner_client.get(URL).content.decode()
    row = body[body.index(f'id="call-{call.pk}"') :].split("</tr>")[0]

    assert "Never" in row
    assert "Not yet" not in row
    assert "Queued" not in row
