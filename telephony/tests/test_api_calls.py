from __future__ import annotations

from unittest import mock

import pytest
from rest_framework.test import APIClient

from claims.tests.factories import ClaimFactory, PayerFactory
from telephony.models import Call
from telephony.tests.factories import CallEventFactory, CallFactory

DELAY = "telephony.tasks.place_call.delay"


@pytest.fixture
def claim(practice):
    return ClaimFactory(practice=practice, payer=PayerFactory(practice=practice, name="Aetna"))


# Queueing calls


@pytest.mark.django_db
def test_it_queues_calls_and_hands_their_ids_to_a_worker(api, owner, claim, django_capture_on_commit_callbacks):
    with mock.patch(DELAY) as delay, django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/calls", {"claim_ids": [claim.pk]}, format="json")

    call = Call.objects.get()
    assert response.status_code == 202
    assert response.json()["skipped"] == []
    [queued] = response.json()["queued"]
    assert queued["id"] == call.pk
    assert (queued["claim"], queued["claim_number"], queued["payer_name"]) == (claim.pk, claim.claim_number, "Aetna")
    assert (queued["status"], queued["attempt"]) == ("queued", 1)
    assert call.started_by == owner
    delay.assert_called_once_with(call.pk)


@pytest.mark.django_db
def test_it_lets_a_teammate_queue_calls(teammate_api, teammate, claim):
    with mock.patch(DELAY):
        response = teammate_api.post("/api/v1/calls", {"claim_ids": [claim.pk]}, format="json")

    assert response.status_code == 202
    assert Call.objects.get().started_by == teammate


@pytest.mark.django_db
def test_it_says_why_claims_were_skipped_without_revealing_other_practices(api, practice, other_practice, claim):
    theirs = ClaimFactory(practice=other_practice)
    busy = ClaimFactory(practice=practice, payer=claim.payer)
    CallFactory(practice=practice, claim=busy, status=Call.Status.IN_PROGRESS)
    no_phone = ClaimFactory(practice=practice, payer=PayerFactory(practice=practice, phone=""))
    ids = [theirs.pk, claim.pk, busy.pk, 999999, no_phone.pk, claim.pk]

    with mock.patch(DELAY):
        body = api.post("/api/v1/calls", {"claim_ids": ids}, format="json").json()

    assert [call["claim"] for call in body["queued"]] == [claim.pk]
    assert body["skipped"] == [
        {"claim_id": theirs.pk, "reason": "No such claim."},
        {"claim_id": busy.pk, "reason": "A call about this claim is already queued or in progress."},
        {"claim_id": 999999, "reason": "No such claim."},
        {"claim_id": no_phone.pk, "reason": "Add the payer's claims phone number first."},
    ]
    assert not Call.objects.filter(claim=theirs).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        {},
        {"claim_ids": []},
        {"claim_ids": "12"},
        {"claim_ids": ["12"]},
        {"claim_ids": [1.5]},
        {"claim_ids": [True]},
        {"claim_ids": [0]},
        {"claim_ids": [None]},
        {"claim_ids": [10**20]},
        {"claim_ids": list(range(1, 502))},
    ],
)
def test_it_rejects_a_bad_list_of_claim_ids(api, body):
    response = api.post("/api/v1/calls", body, format="json")

    assert response.status_code == 400
    assert "claim_ids" in response.json()
    assert not Call.objects.exists()


@pytest.mark.django_db
def test_it_takes_up_to_500_claims_at_once(api, claim):
    with mock.patch(DELAY):
        response = api.post("/api/v1/calls", {"claim_ids": [claim.pk, *range(10**6, 10**6 + 499)]}, format="json")

    assert response.status_code == 202
    assert len(response.json()["skipped"]) == 499


# Reading calls


@pytest.mark.django_db
def test_it_lists_my_practices_calls_only(api, practice, other_practice, claim):
    mine = CallFactory(practice=practice, claim=claim)
    CallFactory(practice=other_practice)

    body = api.get("/api/v1/calls").json()

    assert [row["id"] for row in body["results"]] == [mine.pk]
    assert "transcript" not in body["results"][0]


@pytest.mark.django_db
def test_it_filters_calls_by_status_and_claim(api, practice, claim):
    queued = CallFactory(practice=practice, claim=claim, status=Call.Status.QUEUED, provider_call_id=None)
    ended = CallFactory(practice=practice, status=Call.Status.ENDED)
    failed = CallFactory(practice=practice, claim=claim, status=Call.Status.FAILED)

    def ids(query):
        return sorted(row["id"] for row in api.get(f"/api/v1/calls?{query}").json()["results"])

    assert ids("status=queued") == [queued.pk]
    assert ids("status=queued,ended") == sorted([queued.pk, ended.pk])
    assert ids(f"claim_id={claim.pk}") == sorted([queued.pk, failed.pk])
    assert api.get("/api/v1/calls?status=lost").status_code == 400
    assert api.get("/api/v1/calls?claim_id=abc").status_code == 400


@pytest.mark.django_db
def test_it_shows_a_call_with_its_transcript_summary_outcome_and_events(teammate_api, practice, claim):
    call = CallFactory(
        practice=practice,
        claim=claim,
        transcript="AI: Calling about a claim.\nUser: It was paid.",
        summary="Paid on Nov 3.",
        outcome={"status": "paid", "reference_number": "R-1"},
        failure_category="",
    )
    event = CallEventFactory(call=call, kind="end-of-call-report", dedupe_key="eocr:1")

    body = teammate_api.get(f"/api/v1/calls/{call.pk}").json()

    assert body["transcript"] == "AI: Calling about a claim.\nUser: It was paid."
    assert (body["summary"], body["outcome"]) == ("Paid on Nov 3.", {"status": "paid", "reference_number": "R-1"})
    assert body["events"] == [{"id": event.pk, "kind": "end-of-call-report", "received_at": mock.ANY}]


@pytest.mark.django_db
def test_it_hides_another_practices_call_and_unknown_ids(api, other_practice):
    theirs = CallFactory(practice=other_practice)

    assert api.get(f"/api/v1/calls/{theirs.pk}").status_code == 404
    assert api.get("/api/v1/calls/999999").status_code == 404


@pytest.mark.django_db
def test_it_never_edits_or_deletes_a_call(api, practice):
    call = CallFactory(practice=practice)

    assert api.patch(f"/api/v1/calls/{call.pk}", {"status": "ended"}, format="json").status_code == 405
    assert api.delete(f"/api/v1/calls/{call.pk}").status_code == 405


@pytest.mark.django_db
def test_it_answers_401_to_anonymous_calls(practice, claim):
    call = CallFactory(practice=practice)

    assert APIClient().get("/api/v1/calls").status_code == 401
    assert APIClient().get(f"/api/v1/calls/{call.pk}").status_code == 401
    assert APIClient().post("/api/v1/calls", {"claim_ids": [claim.pk]}, format="json").status_code == 401
    assert Call.objects.count() == 1
