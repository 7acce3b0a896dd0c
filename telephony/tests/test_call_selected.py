from __future__ import annotations

import json
from unittest import mock

import pytest

from claims.models import Claim
from claims.tests.factories import ClaimFactory, PayerFactory
from telephony import services
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


# Every claim matching the worklist's filters ("Select all N matching claims")


@pytest.fixture
def denied(practice):
    """Three denied claims of the practice, and a submitted one the status filter leaves out."""
    payer = PayerFactory(practice=practice, phone="+18005550142")
    ClaimFactory(practice=practice, payer=payer, claim_number="SUB-1", status=Claim.Status.SUBMITTED)
    return [
        ClaimFactory(practice=practice, payer=payer, claim_number=f"DEN-{n}", status=Claim.Status.DENIED)
        for n in range(1, 4)
    ]


def _select_all(filters: str, count, **extra) -> dict:
    return {"select_all": "1", "filters": filters, "confirmed_count": count, "next": "/claims/?" + filters, **extra}


def test_it_calls_every_claim_matching_the_filters(owner_client, owner, denied, place_call):
    # The page's own checkboxes come along with the form; the filters decide which claims are called.
    data = _select_all("status=denied&sort=-amount&page=2", 3, claim_ids=[denied[0].pk])

    response = owner_client.post(URL, data)

    assert response.status_code == 302
    assert response.url == "/claims/?status=denied&sort=-amount&page=2"
    calls = Call.objects.all()
    assert {call.claim for call in calls} == set(denied)
    assert {call.started_by for call in calls} == {owner}
    assert "3 calls queued." in owner_client.get(response.url).content.decode()


def test_it_queues_nothing_when_the_matching_claims_changed(owner_client, practice, denied):
    ClaimFactory(practice=practice, payer=denied[0].payer, status=Claim.Status.DENIED)

    response = owner_client.post(URL, _select_all("status=denied", 3), follow=True)

    assert not Call.objects.exists()
    assert (
        "The matching claims changed since you selected them: 4 match now. Check the list and select again."
        in response.content.decode()
    )


def test_it_never_counts_or_calls_another_practices_claims(owner_client, denied, other_practice):
    payer = PayerFactory(practice=other_practice, phone="+18005550100")
    ClaimFactory.create_batch(2, practice=other_practice, payer=payer, status=Claim.Status.DENIED)

    # Counting their claims too would make 5.
    refused = owner_client.post(URL, _select_all("status=denied", 5), follow=True)
    assert "3 match now" in refused.content.decode()
    assert not Call.objects.exists()

    owner_client.post(URL, _select_all("status=denied", 3))
    assert {call.claim for call in Call.objects.all()} == set(denied)


@pytest.mark.parametrize(
    "filters, error",
    [
        ("status=denied&denial_code=hello", "Denial code: Write a denial code like CO-16."),
        ("status=nonsense", "Status: Select a valid choice."),
        ("age=forever", "Balance age: Select a valid choice."),
    ],
)
def test_it_calls_nobody_when_the_filters_are_not_valid(owner_client, denied, filters, error):
    response = owner_client.post(URL, _select_all(filters, 3), follow=True)

    body = response.content.decode()
    assert "The claims could not be selected because of a filter" in body
    assert error in body
    assert not Call.objects.exists()


def test_it_treats_another_practices_payer_as_an_invalid_filter(owner_client, denied, other_practice):
    theirs = PayerFactory(practice=other_practice)

    response = owner_client.post(URL, _select_all(f"payer={theirs.pk}", 3), follow=True)

    assert "Payer: Select a valid choice." in response.content.decode()
    assert not Call.objects.exists()


@pytest.mark.parametrize("count", ["", "three", "-3", "99999999999999999999999"])
def test_it_asks_to_select_again_without_a_confirmed_count(owner_client, denied, count):
    response = owner_client.post(URL, _select_all("status=denied", count), follow=True)

    assert "Select the claims again" in response.content.decode()
    assert not Call.objects.exists()


def test_it_refuses_more_calls_than_one_click_may_queue(owner_client, denied, monkeypatch):
    monkeypatch.setattr(services, "MAX_CALLS_PER_CLICK", 2)

    response = owner_client.post(URL, _select_all("status=denied", 3), follow=True)

    assert (
        "3 claims match, and one click queues at most 2 calls. Narrow the filters (a payer or a status) "
        "and call them in parts." in response.content.decode()
    )
    assert not Call.objects.exists()


def test_it_queues_the_calls_in_chunks(owner_client, denied, monkeypatch):
    monkeypatch.setattr(services, "ENQUEUE_CHUNK", 2)
    chunks = []
    enqueue = services.enqueue_calls

    def spy(practice, claim_ids, user, **kwargs):
        chunks.append(list(claim_ids))
        return enqueue(practice, claim_ids, user, **kwargs)

    monkeypatch.setattr(services, "enqueue_calls", spy)

    owner_client.post(URL, _select_all("status=denied", 3))

    assert [len(chunk) for chunk in chunks] == [2, 1]
    assert sorted(id for chunk in chunks for id in chunk) == sorted(claim.pk for claim in denied)
    assert Call.objects.count() == 3


def test_it_sums_up_the_claims_it_skipped(owner_client, practice, denied):
    CallFactory(practice=practice, claim=denied[0], status=Call.Status.IN_PROGRESS)
    CallFactory(practice=practice, claim=denied[1], status=Call.Status.QUEUED)

    response = owner_client.post(URL, _select_all("status=denied", 3), follow=True)

    assert (
        "1 call queued; 2 skipped: a call about this claim is already queued or in progress (2 claims)."
        in response.content.decode()
    )


def test_it_answers_htmx_select_all_with_the_messages_and_an_event(owner_client, denied):
    response = owner_client.post(URL, _select_all("status=denied", 3), headers=HTMX)

    assert response["HX-Retarget"] == "#messages"
    assert json.loads(response["HX-Trigger"]) == {"calls-queued": {"queued": 3}}
    assert "3 calls queued." in response.content.decode()


def test_it_answers_a_changed_selection_over_htmx_without_calling(owner_client, denied):
    response = owner_client.post(URL, _select_all("status=denied", 1234), headers=HTMX)

    assert json.loads(response["HX-Trigger"]) == {"calls-queued": {"queued": 0}}
    assert "3 match now" in response.content.decode()
    assert not Call.objects.exists()


def test_the_worklist_offers_to_select_every_matching_claim(owner_client, denied):
    body = owner_client.get("/claims/?status=denied&sort=-amount").content.decode()

    # Sent only in "all matching" mode (app.js enables them), with the filters the rows came from.
    assert '<input type="hidden" name="select_all" value="1" disabled' in body
    assert '<input type="hidden" name="filters" value="status=denied&amp;sort=-amount" disabled' in body
    assert '<input type="hidden" name="confirmed_count" value="" disabled' in body
    assert "data-select-matching-toggle" in body
