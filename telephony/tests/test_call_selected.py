from __future__ import annotations

import json
from unittest import mock

import pytest

from claims.tests.factories import ClaimFactory, PayerFactory
from telephony.models import Call
from telephony.tests.factories import CallFactory

pytestmark = pytest.mark.django_db

URL = "/calls/start/"
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def place_call():
    with mock.patch("telephony.tasks.place_call.delay") as delay:
        yield delay


@pytest.fixture
def claims(practice):
    payer = PayerFactory(practice=practice, phone="+18005550142")
    return [ClaimFactory(practice=practice, payer=payer, claim_number=f"CLM-{n}") for n in range(1, 4)]


def _ids(claims) -> list[int]:
    return [claim.pk for claim in claims]


def test_it_queues_a_call_per_claim(owner_client, owner, claims, place_call, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(URL, {"claim_ids": _ids(claims), "next": "/claims/?status=denied"})

    assert response.status_code == 302
    assert response.url == "/claims/?status=denied"
    calls = Call.objects.filter(claim__in=claims)
    assert calls.count() == 3
    assert {call.started_by for call in calls} == {owner}
    assert sorted(c.args[0] for c in place_call.call_args_list) == sorted(calls.values_list("pk", flat=True))
    page = owner_client.get(response.url).content.decode()
    assert "3 calls queued." in page


def test_it_says_which_claims_it_skipped(owner_client, practice, claims):
    CallFactory(practice=practice, claim=claims[0], status=Call.Status.IN_PROGRESS)

    response = owner_client.post(URL, {"claim_ids": _ids(claims)}, follow=True)

    assert (
        "2 calls queued; 1 skipped: CLM-1 (a call about this claim is already queued or in progress)."
        in response.content.decode()
    )


def test_it_says_when_a_payer_has_no_phone_number(owner_client, practice):
    claim = ClaimFactory(practice=practice, payer=PayerFactory(practice=practice, phone=""), claim_number="NOPHONE-1")

    response = owner_client.post(URL, {"claim_ids": [claim.pk]}, follow=True)

    assert "No calls queued; 1 skipped: NOPHONE-1 (add the payer&#x27;s claims phone number first)." in (
        response.content.decode()
    )


def test_it_asks_for_a_selection(owner_client, claims):
    response = owner_client.post(URL, {}, follow=True)

    assert "Select the claims to call first." in response.content.decode()
    assert not Call.objects.exists()


def test_it_ignores_another_practices_claims(owner_client, claims, other_practice):
    foreign = ClaimFactory(practice=other_practice, payer=PayerFactory(practice=other_practice, phone="+18005550100"))

    response = owner_client.post(URL, {"claim_ids": [claims[0].pk, foreign.pk, "nonsense"]}, follow=True)

    assert "1 call queued; 1 claim was not found." in response.content.decode()
    assert not Call.objects.filter(claim=foreign).exists()


def test_it_lets_teammates_call(teammate_client, claims):
    teammate_client.post(URL, {"claim_ids": _ids(claims)})

    assert Call.objects.count() == 3


@pytest.mark.parametrize(
    "next_page",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "claims:detail",
        "x" * 5000,
        "\x00",
        "javascript:alert(1)",
    ],
)
def test_it_redirects_to_the_worklist_without_a_safe_next_page(owner_client, claims, next_page):
    response = owner_client.post(URL, {"claim_ids": _ids(claims), "next": next_page})

    assert response.status_code == 302
    assert response.url == "/claims/"


def test_it_ignores_claim_ids_too_large_for_any_claim(owner_client, claims):
    response = owner_client.post(URL, {"claim_ids": ["99999999999999999999", str(claims[0].pk)]})

    assert response.status_code == 302
    assert Call.objects.count() == 1


def test_it_answers_htmx_with_the_messages_and_an_event(owner_client, claims):
    response = owner_client.post(URL, {"claim_ids": _ids(claims)}, headers=HTMX)

    assert response.status_code == 200
    assert response["HX-Retarget"] == "#messages"
    assert response["HX-Reswap"] == "outerHTML"
    assert json.loads(response["HX-Trigger"]) == {"calls-queued": {"queued": 3}}
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="messages"')
    assert "<html" not in body
    assert "3 calls queued." in body


def test_it_only_answers_post(owner_client):
    assert owner_client.get(URL).status_code == 405


def test_it_redirects_anonymous_visitors_to_sign_in(client, claims):
    response = client.post(URL, {"claim_ids": _ids(claims)})

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")
    assert not Call.objects.exists()


# The worklist around it


def test_the_worklist_posts_the_selection_here(owner_client, claims):
    body = owner_client.get("/claims/").content.decode()

    assert f'action="{URL}"' in body and f'hx-post="{URL}"' in body
    assert f'name="claim_ids" value="{claims[0].pk}" form="claim-selection"' in body


def test_the_worklist_refreshes_itself_while_calls_are_under_way(owner_client, practice, claims):
    CallFactory(practice=practice, claim=claims[0], status=Call.Status.RINGING)

    body = owner_client.get("/claims/").content.decode()

    assert 'hx-trigger="calls-queued from:body, every 5s"' in body
    assert "1 call under way" in body


def test_the_worklist_only_refreshes_on_new_calls_when_none_are_under_way(owner_client, practice, claims):
    CallFactory(practice=practice, claim=claims[0], status=Call.Status.ENDED)

    body = owner_client.get("/claims/").content.decode()

    assert 'hx-trigger="calls-queued from:body"' in body
    assert "under way" not in body
