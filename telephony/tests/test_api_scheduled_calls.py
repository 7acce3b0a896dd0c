from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from rest_framework.test import APIClient

from claims.tests.factories import ClaimFactory
from telephony.models import ScheduledCall
from telephony.tests.factories import ScheduledCallFactory

NOW = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def claim(practice):
    return ClaimFactory(practice=practice)


@pytest.mark.django_db
def test_it_schedules_a_follow_up_call(api, owner, claim):
    body = {"claim_id": claim.pk, "call_after": "2026-11-24T10:30:00-06:00", "reason": "Reprocessing takes a week"}

    response = api.post("/api/v1/scheduled-calls", body, format="json")

    scheduled = ScheduledCall.objects.get()
    assert response.status_code == 201
    assert response.json() == {
        "id": scheduled.pk,
        "claim_id": claim.pk,
        "claim_number": claim.claim_number,
        "call_after": "2026-11-24T16:30:00Z",
        "reason": "Reprocessing takes a week",
        "status": "pending",
        "source": "person",
        "created_by": owner.pk,
        "dispatched_at": None,
        "created_at": "2026-11-17T15:00:00Z",
    }
    assert scheduled.call_after == datetime(2026, 11, 24, 16, 30, tzinfo=UTC)


@pytest.mark.django_db
def test_it_replaces_the_claims_pending_follow_up(teammate_api, claim):
    earlier = ScheduledCallFactory(practice=claim.practice, claim=claim)

    response = teammate_api.post(
        "/api/v1/scheduled-calls", {"claim_id": claim.pk, "call_after": "2026-12-01T15:00:00Z"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["reason"] == ""
    assert ScheduledCall.objects.get(pk=earlier.pk).status == "canceled"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"call_after": "2026-12-01T15:00:00Z"}, "claim_id"),
        ({"claim_id": 999999, "call_after": "2026-12-01T15:00:00Z"}, "claim_id"),
        ({"claim_id": "CLAIM", "call_after": "2026-12-01T15:00:00Z"}, "claim_id"),
        ({"claim_id": "mine"}, "call_after"),
        ({"claim_id": "mine", "call_after": "2026-12-01T15:00:00"}, "call_after"),
        ({"claim_id": "mine", "call_after": "next Tuesday"}, "call_after"),
        ({"claim_id": "mine", "call_after": "2026-11-17T14:59:00Z"}, "call_after"),
        ({"claim_id": "mine", "call_after": "2026-12-01T15:00:00Z", "reason": "x" * 301}, "reason"),
    ],
)
def test_it_rejects_a_bad_follow_up(api, claim, body, field):
    if body.get("claim_id") == "mine":
        body["claim_id"] = claim.pk

    response = api.post("/api/v1/scheduled-calls", body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not ScheduledCall.objects.exists()


@pytest.mark.django_db
def test_it_refuses_another_practices_claim_as_if_it_did_not_exist(api, other_practice):
    theirs = ClaimFactory(practice=other_practice)
    body = {"claim_id": theirs.pk, "call_after": "2026-12-01T15:00:00Z"}

    response = api.post("/api/v1/scheduled-calls", body, format="json")
    unknown = api.post("/api/v1/scheduled-calls", {**body, "claim_id": 999999}, format="json")

    assert response.status_code == 400
    assert response.json()["claim_id"] == [m.replace("999999", str(theirs.pk)) for m in unknown.json()["claim_id"]]
    assert not ScheduledCall.objects.exists()


@pytest.mark.django_db
def test_it_lists_my_practices_follow_ups_by_claim(api, practice, other_practice, claim):
    mine = ScheduledCallFactory(practice=practice, claim=claim)
    other_claim = ScheduledCallFactory(practice=practice)
    ScheduledCallFactory(practice=other_practice)

    everything = api.get("/api/v1/scheduled-calls").json()["results"]
    for_claim = api.get(f"/api/v1/scheduled-calls?claim_id={claim.pk}").json()["results"]

    assert sorted(row["id"] for row in everything) == sorted([mine.pk, other_claim.pk])
    assert [row["id"] for row in for_claim] == [mine.pk]
    assert api.get("/api/v1/scheduled-calls?claim_id=x").status_code == 400


@pytest.mark.django_db
def test_it_cancels_a_follow_up(teammate_api, claim):
    scheduled = ScheduledCallFactory(practice=claim.practice, claim=claim)

    response = teammate_api.delete(f"/api/v1/scheduled-calls/{scheduled.pk}")

    assert response.status_code == 204
    assert ScheduledCall.objects.get(pk=scheduled.pk).status == "canceled"
    assert teammate_api.get(f"/api/v1/scheduled-calls/{scheduled.pk}").json()["status"] == "canceled"


@pytest.mark.django_db
def test_it_refuses_to_cancel_a_follow_up_already_dispatched(api, claim):
    scheduled = ScheduledCallFactory(practice=claim.practice, claim=claim, status=ScheduledCall.Status.DISPATCHED)

    response = api.delete(f"/api/v1/scheduled-calls/{scheduled.pk}")

    assert response.status_code == 400
    assert response.json() == {"detail": "This follow-up call is already in the call queue; cancel the call instead."}
    assert ScheduledCall.objects.get(pk=scheduled.pk).status == "dispatched"


@pytest.mark.django_db
def test_it_hides_another_practices_follow_up(api, other_practice):
    theirs = ScheduledCallFactory(practice=other_practice)

    assert api.get(f"/api/v1/scheduled-calls/{theirs.pk}").status_code == 404
    assert api.delete(f"/api/v1/scheduled-calls/{theirs.pk}").status_code == 404
    assert ScheduledCall.objects.get(pk=theirs.pk).status == "pending"


@pytest.mark.django_db
def test_it_answers_401_to_anonymous_calls(claim):
    scheduled = ScheduledCallFactory(practice=claim.practice, claim=claim)

    assert APIClient().get("/api/v1/scheduled-calls").status_code == 401
    assert APIClient().delete(f"/api/v1/scheduled-calls/{scheduled.pk}").status_code == 401
    body = {"claim_id": claim.pk, "call_after": "2026-12-01T15:00:00Z"}
    assert APIClient().post("/api/v1/scheduled-calls", body, format="json").status_code == 401
    assert ScheduledCall.objects.get().status == "pending"


@pytest.mark.django_db
def test_it_answers_the_same_follow_up_twice_with_the_pending_one(api, claim):
    body = {"claim_id": claim.pk, "call_after": "2026-11-24T10:30:00-06:00", "reason": "Reprocessing takes a week"}

    first = api.post("/api/v1/scheduled-calls", body, format="json")
    again = api.post("/api/v1/scheduled-calls", {**body, "reason": " Reprocessing takes a week "}, format="json")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert ScheduledCall.objects.get().status == "pending"
    assert claim.events.count() == 1  # one "Follow-up call scheduled" entry, not two
