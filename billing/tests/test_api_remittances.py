"""/api/v1/remittances: upload (preview), retrieve, post, list; every bad file a 400; scoped to the practice."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from billing.era.demo import build_835
from billing.era.posting import preview
from billing.models import Remittance
from billing.tests.test_era_pages import paid
from billing.tests.test_era_posting import D, make_claim
from billingpulse.tests.factories import UserFactory
from claims.models import Claim

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def upload(client, data: bytes):
    return client.post("/api/v1/remittances", {"file": SimpleUploadedFile("payer.835", data)}, format="multipart")


def test_it_uploads_previews_and_posts(practice, owner):
    make_claim(practice, "CLM-1", "100.00")
    client = api(owner)
    response = upload(client, build_835([paid()], trace="T1"))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["trace_number"], body["payment_amount"]) == ("preview", "T1", "80.00")
    assert [c["status"] for c in body["claims"]] == ["matched"]
    assert all(rule["passed"] for rule in body["summary"]["preview"]["rules"])

    assert client.get(f"/api/v1/remittances/{body['id']}").json()["claims"][0]["claim_number_ours"] == "CLM-1"
    posted = client.post(f"/api/v1/remittances/{body['id']}/post", {}, format="json")
    assert posted.status_code == 200
    assert posted.json()["status"] == "posted" and posted.json()["posted_by"] == owner.email
    assert Claim.objects.get(claim_number="CLM-1").paid_amount == D("80.00")

    again = upload(client, build_835([paid()], trace="T1") + b"\n")
    assert again.status_code == 400 and f"remittance #{body['id']}" in again.json()["file"][0]


@pytest.mark.parametrize(
    "data", [b"", b"not an 835", build_835([paid()], trace="T1")[:300]], ids=["empty", "text", "truncated"]
)
def test_it_refuses_a_bad_file_with_the_reason(practice, owner, data):
    response = upload(api(owner), data)
    assert response.status_code == 400 and response.json()["file"]
    assert not Remittance.objects.exists()


def test_it_refuses_to_post_unmatched_claims_unless_held(practice, owner):
    remittance = preview(practice, build_835([paid("NOPE-1")], trace="T1"))
    client = api(owner)
    response = client.post(f"/api/v1/remittances/{remittance.pk}/post", {}, format="json")
    assert response.status_code == 400 and "cannot be posted to a claim yet" in response.json()["detail"]
    response = client.post(f"/api/v1/remittances/{remittance.pk}/post", {"hold_unmatched": True}, format="json")
    assert response.status_code == 200 and response.json()["summary"]["posted"]["claims_held"] == 1


def test_it_lists_only_the_callers_remittances(practice, owner, other_practice):
    preview(practice, build_835([paid()], trace="OURS"))
    preview(other_practice, build_835([paid()], trace="THEIRS"))
    traces = [r["trace_number"] for r in api(owner).get("/api/v1/remittances").json()["results"]]
    assert traces == ["OURS"]


def test_another_practices_remittance_is_not_found(practice, other_practice):
    theirs = preview(other_practice, build_835([paid()], trace="THEIRS"))
    outsider_in_a = UserFactory(practice=practice)
    client = api(outsider_in_a)
    assert client.get(f"/api/v1/remittances/{theirs.pk}").status_code == 404
    assert client.post(f"/api/v1/remittances/{theirs.pk}/post", {}, format="json").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Remittance.Status.PREVIEW


def test_anonymous_callers_are_refused(db):
    assert APIClient().get("/api/v1/remittances").status_code == 401
