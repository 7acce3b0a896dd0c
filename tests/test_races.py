"""Identical requests at the same moment, on PostgreSQL: one creates, the others get the answer
the duplicate check gives (a field error, or the row already there), and none gets a 500.

Each request runs in its own thread with its own client and database connection. Where a
create path checks for a duplicate before inserting, the check is held until all eight
requests have passed it, so every one of them reaches the insert and the database's unique
constraint decides: the race the check cannot see, made certain instead of likely.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from ai.models import DenialCode
from billingpulse.forms import ProviderForm
from billingpulse.models import Patient, Provider, User
from billingpulse.tests.concurrency import WAIT, at_once
from billingpulse.tests.factories import PatientFactory, UserFactory
from claims.api.claim_serializers import ClaimSerializer
from claims.api.payers import PayerSerializer
from claims.api.policies import InsurancePolicySerializer
from claims.forms import PayerForm
from claims.models import Claim, InsurancePolicy, Payer
from claims.tests.factories import ClaimFactory, InsurancePolicyFactory, PayerFactory
from telephony.models import Call, ScheduledCall

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="Concurrent writers need PostgreSQL."),
    pytest.mark.django_db(transaction=True),
]

N = 8


@pytest.fixture(autouse=True)
def _no_background_work():
    # Index updates and call placing are other tests' business; here they would only add noise.
    with mock.patch("ai.tasks.sync_index.delay"), mock.patch("telephony.tasks.place_call.delay"):
        yield


def _hold_after_check(monkeypatch, owner, name: str, parties: int = N) -> None:
    """Hold each request after its first call of ``owner.name`` (the duplicate check) until all have made it."""
    original = getattr(owner, name)
    checked = threading.Barrier(parties)
    seen = threading.local()

    def check_then_wait(*args, **kwargs):
        result = original(*args, **kwargs)
        if not getattr(seen, "waited", False):
            seen.waited = True
            checked.wait(timeout=WAIT)
        return result

    monkeypatch.setattr(owner, name, check_then_wait)


def _api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def _page(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _post_json(user, url: str, body) -> list[Callable]:
    clients = [_api(user) for _ in range(N)]
    return [lambda client=client: client.post(url, body, format="json") for client in clients]


def _post_form(user, url: str, data: dict) -> list[Callable]:
    clients = [_page(user) for _ in range(N)]
    return [lambda client=client: client.post(url, data) for client in clients]


def _one_created_the_rest_refused(responses, created: int, field: str, message: str) -> None:
    assert sorted(Counter(response.status_code for response in responses).items()) == [(created, 1), (400, N - 1)]
    for response in responses:
        if response.status_code == 400:
            assert response.json() == {field: [message]}


# The API


def test_eight_requests_for_one_claim_number_create_one_claim(monkeypatch, owner, practice):
    policy = InsurancePolicyFactory(practice=practice)
    _hold_after_check(monkeypatch, ClaimSerializer, "validate_claim_number")
    body = {
        "claim_number": "CLM-RACE",
        "patient": policy.patient_id,
        "payer": policy.payer_id,
        "service_date_from": "2026-09-14",
        "total_charge": "250.00",
        "lines": [{"procedure_code": "99213", "charge": "250.00"}],
    }

    responses = at_once(_post_json(owner, "/api/v1/claims", body))

    _one_created_the_rest_refused(
        responses, 201, "claim_number", "Another claim in this practice has this claim number."
    )
    assert Claim.objects.filter(practice=practice, claim_number="CLM-RACE").count() == 1


def test_eight_requests_replacing_one_claims_lines_each_apply_whole(owner, practice):
    claim = ClaimFactory(practice=practice)
    clients = [_api(owner) for _ in range(N)]
    bodies = [{"lines": [{"procedure_code": "99213", "charge": f"{n + 1}.00"}] * (n % 3 + 1)} for n in range(N)]

    responses = at_once(
        [
            lambda client=client, body=body: client.patch(f"/api/v1/claims/{claim.pk}", body, format="json")
            for client, body in zip(clients, bodies, strict=True)
        ]
    )

    assert [response.status_code for response in responses] == [200] * N
    lines = list(claim.lines.order_by("line_number").values_list("line_number", "charge"))
    # One request's lines, whole and numbered from 1: never two requests' lines mixed.
    assert [number for number, _ in lines] == list(range(1, len(lines) + 1))
    assert len({charge for _, charge in lines}) == 1


def test_eight_requests_for_one_account_number_create_one_patient(monkeypatch, owner, practice):
    from billingpulse.api import PatientSerializer

    _hold_after_check(monkeypatch, PatientSerializer, "validate_account_number")
    body = {"first_name": "Ann", "last_name": "Lee", "date_of_birth": "1980-02-03", "account_number": "A-RACE"}

    responses = at_once(_post_json(owner, "/api/v1/patients", body))

    _one_created_the_rest_refused(
        responses, 201, "account_number", "Another patient in this practice has this account number."
    )
    assert Patient.objects.filter(practice=practice, account_number="A-RACE").count() == 1


def test_eight_requests_for_one_payer_id_create_one_payer(monkeypatch, owner, practice):
    _hold_after_check(monkeypatch, PayerSerializer, "validate_payer_id")

    responses = at_once(_post_json(owner, "/api/v1/payers", {"name": "Aetna", "payer_id": "60054"}))

    _one_created_the_rest_refused(responses, 201, "payer_id", "Another payer in this practice has this payer ID.")
    assert Payer.objects.filter(practice=practice, payer_id="60054").count() == 1


def test_eight_requests_for_one_policy_create_one(monkeypatch, owner, practice):
    patient, payer = PatientFactory(practice=practice), PayerFactory(practice=practice)
    _hold_after_check(monkeypatch, InsurancePolicySerializer, "validate")
    body = {"patient": patient.pk, "payer": payer.pk, "member_id": "W-RACE"}

    responses = at_once(_post_json(owner, "/api/v1/policies", body))

    _one_created_the_rest_refused(
        responses, 201, "non_field_errors", "This patient already has a policy with this payer and member ID."
    )
    assert InsurancePolicy.objects.filter(patient=patient).count() == 1


def test_eight_uploads_of_one_denial_code_leave_one_entry_with_their_words(monkeypatch, owner, practice):
    from ai import services

    # Uploads add or update by code, so each one succeeds: the first adds the entry, the rest update it.
    _hold_after_check(monkeypatch, services, "_existing")

    responses = at_once(
        _post_json(owner, "/api/v1/knowledge/denial-codes", [{"code": "A1", "description": "Our words."}])
    )

    assert [response.status_code for response in responses] == [201] * N
    [entry] = DenialCode.objects.filter(practice=practice, code="A1")
    assert {response.json()[0]["id"] for response in responses} == {entry.pk}
    assert entry.description == "Our words."


def test_eight_requests_for_one_follow_up_schedule_it_once(owner, practice):
    claim = ClaimFactory(practice=practice)
    body = {"claim_id": claim.pk, "call_after": "2030-01-15T10:00:00Z", "reason": "Reprocessing takes a week"}

    responses = at_once(_post_json(owner, "/api/v1/scheduled-calls", body))

    assert [response.status_code for response in responses] == [201] * N
    scheduled = ScheduledCall.objects.get(claim=claim)
    assert {response.json()["id"] for response in responses} == {scheduled.pk}
    assert scheduled.status == ScheduledCall.Status.PENDING
    assert claim.events.count() == 1


def test_eight_requests_to_call_about_one_claim_queue_one_call(owner, practice):
    claim = ClaimFactory(practice=practice)

    responses = at_once(_post_json(owner, "/api/v1/calls", {"claim_ids": [claim.pk]}))

    assert [response.status_code for response in responses] == [202] * N
    answers = [response.json() for response in responses]
    assert sum(len(answer["queued"]) for answer in answers) == 1
    skipped = [answer["skipped"] for answer in answers if not answer["queued"]]
    assert skipped == [
        [{"claim_id": claim.pk, "reason": "A call about this claim is already queued or in progress."}]
    ] * (N - 1)
    assert Call.objects.filter(claim=claim).count() == 1


# The pages


def _one_saved_the_rest_shown_the_error(responses, field: str, message: str) -> None:
    assert sorted(Counter(response.status_code for response in responses).items()) == [(200, N - 1), (302, 1)]
    for response in responses:
        if response.status_code == 200:
            assert response.context["form"].errors == {field: [message]}


def test_eight_admins_adding_one_payer_id_add_one_payer(monkeypatch, owner, practice):
    _hold_after_check(monkeypatch, PayerForm, "clean_payer_id")
    data = {
        "name": "Aetna",
        "payer_id": "60054",
        "phone": "(800) 555-0111",
        "time_zone": "America/New_York",
        "opens_at": "08:00",
        "closes_at": "17:00",
        "open_weekdays": ["0", "1", "2", "3", "4"],
        "timely_filing_days": "120",
    }

    responses = at_once(_post_form(owner, "/claims/payers/new/", data))

    _one_saved_the_rest_shown_the_error(responses, "payer_id", "Another payer in this practice has this payer ID.")
    assert Payer.objects.filter(practice=practice, payer_id="60054").count() == 1


def test_eight_admins_adding_one_npi_add_one_provider(monkeypatch, owner, practice):
    _hold_after_check(monkeypatch, ProviderForm, "clean_npi")
    data = {"first_name": "Ada", "last_name": "Lovelace", "npi": "1345678902", "is_active": "on"}

    responses = at_once(_post_form(owner, "/settings/providers/new/", data))

    _one_saved_the_rest_shown_the_error(responses, "npi", "Another provider in this practice has this NPI.")
    assert Provider.objects.filter(practice=practice, npi="1345678902").count() == 1


def test_eight_admins_adding_one_denial_code_add_one_entry(monkeypatch, owner, practice):
    import ai.forms

    _hold_after_check(monkeypatch, ai.forms, "code_in_use")

    responses = at_once(_post_form(owner, "/knowledge/denial-codes/new/", {"code": "A1", "description": "Ours."}))

    _one_saved_the_rest_shown_the_error(
        responses, "code", "This reason code is already in the knowledge base; edit that entry."
    )
    assert DenialCode.objects.filter(practice=practice, code="A1").count() == 1


@pytest.mark.parametrize(
    ("url", "data"), [("/settings/team/{}/role/", {"role": "staff"}), ("/settings/team/{}/active/", {"active": "0"})]
)
def test_two_admins_demoting_each_other_at_once_leave_one_admin(practice, url, data):
    # Several rounds, so the two requests overlap in more than one order.
    for _ in range(5):
        User.objects.filter(practice=practice).update(role=User.Role.STAFF, is_active=False)
        first, second = (UserFactory(practice=practice, role=User.Role.ADMIN) for _ in range(2))
        clients = [_page(first), _page(second)]

        requests = [
            lambda client=clients[0], other=second: client.post(url.format(other.pk), data, HTTP_HX_REQUEST="true"),
            lambda client=clients[1], other=first: client.post(url.format(other.pk), data, HTTP_HX_REQUEST="true"),
        ]

        responses = at_once(requests)

        assert User.objects.filter(practice=practice, role=User.Role.ADMIN, is_active=True).count() == 1
        # The other is refused: by the rule if the two overlapped; if it came after, as no longer
        # an admin (403) or, deactivated, no longer signed in (sent to the sign-in page).
        refused = [r for r in responses if b"A practice needs at least one active admin" in r.content]
        later = [r for r in responses if r.status_code == 403 or r.get("Location", "").startswith("/accounts/login/")]
        assert sorted(r.status_code for r in responses) in ([200, 200], [200, 302], [200, 403])
        assert len(refused) + len(later) == 1
