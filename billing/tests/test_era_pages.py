"""The remittance pages: upload → preview → post, list and detail, the unmatched queue."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from billing.era import forms as era_forms
from billing.era.demo import ClaimPaid, build_835
from billing.era.posting import post_remittance, preview
from billing.models import Remittance, RemittanceClaim
from billing.tests.test_era_posting import D, make_claim
from billingpulse.tests.factories import UserFactory
from claims.models import Claim

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def paid(number="CLM-1", amount="80.00", **kwargs) -> ClaimPaid:
    return ClaimPaid(number, D("100.00"), D(amount), adjustments=[("CO", "45", D("100.00") - D(amount))], **kwargs)


@pytest.fixture
def remittance(practice):
    make_claim(practice, "CLM-1", "100.00")
    return preview(practice, build_835([paid(), paid("NOPE-9", "50.00")], trace="T1"), file_name="t1.835")


@pytest.fixture
def outsider(other_practice):
    return UserFactory(practice=other_practice)


def upload(client, data: bytes, name="payer.835"):
    return client.post("/billing/remittances/upload/", {"file": SimpleUploadedFile(name, data)})


# ---------------------------------------------------------------------------- upload


def test_it_uploads_and_redirects_to_the_preview(practice, teammate):
    make_claim(practice, "CLM-1", "100.00")
    response = upload(login(teammate), build_835([paid()], trace="T1"))
    remittance = Remittance.objects.get()
    assert response.status_code == 302 and response.url == f"/billing/remittances/{remittance.pk}/"
    assert (remittance.uploaded_by, remittance.file_name, remittance.status) == (teammate, "payer.835", "preview")

    page = login(teammate).get(response.url)
    body = page.content.decode()
    assert page.status_code == 200
    assert "Balancing rules" in body and "BPR02 = Σ CLP04 − Σ PLB" in body and "Pass" in body
    assert "Post $80.00" in body


def test_it_refuses_an_unbalanced_file_naming_the_claim(practice, owner):
    response = upload(login(owner), build_835([ClaimPaid("CLM-4", D("100.00"), D("80.00"))], trace="T1"))
    assert response.status_code == 400
    assert "does not balance" in response.content.decode() and "Claim CLM-4" in response.content.decode()
    assert not Remittance.objects.exists()


@pytest.mark.parametrize("data", [b"", b"hello", b"ISA*00*" + b"x" * 200], ids=["empty", "text", "damaged"])
def test_it_refuses_a_file_that_is_not_an_835(practice, owner, data):
    response = upload(login(owner), data)
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()
    assert not Remittance.objects.exists()


def test_it_refuses_a_file_over_the_size_limit(practice, owner, monkeypatch):
    monkeypatch.setattr(era_forms, "MAX_UPLOAD_BYTES", 100)
    response = upload(login(owner), b"ISA" + b"*" * 200)
    assert response.status_code == 400
    assert "an 835 can be at most" in response.content.decode()


def test_it_refuses_a_second_upload_of_a_posted_remittance(practice, owner, remittance):
    post_remittance(remittance, actor=owner, hold_unmatched=True)
    response = upload(login(owner), bytes(remittance.content) + b"\n")
    assert response.status_code == 400
    assert f"remittance #{remittance.pk}" in response.content.decode()


def test_the_upload_page_opens(owner):
    response = login(owner).get("/billing/remittances/upload/")
    assert response.status_code == 200 and 'type="file"' in response.content.decode()


# ---------------------------------------------------------------------------- post


def test_it_asks_to_hold_the_unmatched_before_posting(practice, teammate, remittance):
    client = login(teammate)
    response = client.post(f"/billing/remittances/{remittance.pk}/post/", {"confirm": "on"})
    assert response.status_code == 400
    assert "cannot be posted to a claim yet" in response.content.decode()
    remittance.refresh_from_db()
    assert remittance.status == Remittance.Status.PREVIEW

    response = client.post(f"/billing/remittances/{remittance.pk}/post/", {"confirm": "on", "hold_unmatched": "on"})
    assert response.status_code == 302
    remittance.refresh_from_db()
    assert (remittance.status, remittance.posted_by) == ("posted", teammate)
    assert Claim.objects.get(claim_number="CLM-1").paid_amount == D("80.00")

    page = client.get(f"/billing/remittances/{remittance.pk}/").content.decode()
    assert "Bob Biller" in page and "back to zero" in page


def test_it_requires_the_confirmation(practice, owner, remittance):
    response = login(owner).post(f"/billing/remittances/{remittance.pk}/post/", {"hold_unmatched": "on"})
    assert response.status_code == 400
    remittance.refresh_from_db()
    assert remittance.status == Remittance.Status.PREVIEW


def test_posting_answers_only_post(owner, remittance):
    assert login(owner).get(f"/billing/remittances/{remittance.pk}/post/").status_code == 405


# ---------------------------------------------------------------------------- list and queue


def test_it_lists_the_practices_remittances(owner, remittance, outsider, other_practice):
    preview(other_practice, build_835([paid()], trace="THEIRS-1"))
    body = login(owner).get("/billing/remittances/").content.decode()
    assert "T1" in body and "THEIRS-1" not in body
    assert "Waiting to post" in body


def test_it_matches_a_held_payment_from_the_queue_and_posts_it(practice, teammate, remittance):
    post_remittance(remittance, actor=teammate, hold_unmatched=True)
    claim = make_claim(practice, "CLM-9", "100.00", first="NINE")
    client = login(teammate)
    queue = client.get("/billing/remittances/queue/").content.decode()
    row = RemittanceClaim.objects.get(claim_number="NOPE-9")
    assert "NOPE-9" in queue and f"/billing/remittances/queue/{row.pk}/match/" in queue

    assert client.get(f"/billing/remittances/queue/{row.pk}/match/").status_code == 200
    response = client.post(f"/billing/remittances/queue/{row.pk}/match/", {"claim_number": "NO-SUCH"})
    assert response.status_code == 400 and "No claim numbered NO-SUCH" in response.content.decode()

    response = client.post(f"/billing/remittances/queue/{row.pk}/match/", {"claim_number": "clm-9"})
    assert response.status_code == 302 and response.url == "/billing/remittances/queue/"
    claim.refresh_from_db()
    assert claim.paid_amount == D("50.00")
    assert "Nothing is waiting" in client.get("/billing/remittances/queue/").content.decode()


def test_it_chooses_a_claim_for_an_unmatched_payment_in_the_preview(practice, owner, remittance):
    make_claim(practice, "CLM-9", "100.00", first="NINE")
    row = RemittanceClaim.objects.get(claim_number="NOPE-9")
    response = login(owner).post(f"/billing/remittances/queue/{row.pk}/match/", {"claim_number": "CLM-9"})
    assert response.status_code == 302
    post_remittance(remittance, actor=owner)  # nothing left to hold
    assert Claim.objects.get(claim_number="CLM-9").paid_amount == D("50.00")


def test_it_never_matches_another_practices_claim_from_the_queue(practice, owner, remittance, other_practice):
    post_remittance(remittance, actor=owner, hold_unmatched=True)
    make_claim(other_practice, "THEIRS-9", "100.00")
    row = RemittanceClaim.objects.get(claim_number="NOPE-9")
    response = login(owner).post(f"/billing/remittances/queue/{row.pk}/match/", {"claim_number": "THEIRS-9"})
    assert response.status_code == 400
    assert Claim.objects.get(claim_number="THEIRS-9").paid_amount == 0


# ---------------------------------------------------------------------------- access


@pytest.mark.parametrize(
    "path",
    ["/billing/remittances/{pk}/", "/billing/remittances/queue/{row}/match/"],
)
def test_another_practices_remittance_is_not_found(outsider, remittance, path):
    row = remittance.claim_payments.first()
    assert login(outsider).get(path.format(pk=remittance.pk, row=row.pk)).status_code == 404


def test_another_practice_cannot_post_it(outsider, remittance):
    response = login(outsider).post(f"/billing/remittances/{remittance.pk}/post/", {"confirm": "on"})
    assert response.status_code == 404
    remittance.refresh_from_db()
    assert remittance.status == Remittance.Status.PREVIEW


def test_an_unknown_id_is_not_found(owner):
    assert login(owner).get("/billing/remittances/999999/").status_code == 404


@pytest.mark.parametrize(
    "path", ["/billing/remittances/", "/billing/remittances/upload/", "/billing/remittances/queue/"]
)
def test_anonymous_visitors_are_sent_to_sign_in(db, path):
    response = Client().get(path)
    assert response.status_code == 302 and "login" in response.url
