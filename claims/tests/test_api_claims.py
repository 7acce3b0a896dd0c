from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from billingpulse.tests.factories import PatientFactory, ProviderFactory
from claims.api.claim_serializers import ClaimSerializer
from claims.models import Claim, ClaimEvent, ClaimLine
from claims.tests.factories import (
    ClaimEventFactory,
    ClaimFactory,
    ClaimLineFactory,
    InsurancePolicyFactory,
    LedgerClaimFactory,
    PayerFactory,
)


@pytest.fixture
def policy(practice):
    return InsurancePolicyFactory(practice=practice)


def _body(policy, **overrides) -> dict:
    """A complete new claim for the policy's patient and payer."""
    return {
        "claim_number": "CLM-9001",
        "patient": policy.patient_id,
        "payer": policy.payer_id,
        "policy": policy.pk,
        "service_date_from": "2026-09-14",
        "diagnosis_codes": ["E11.9", "I10"],
        "total_charge": "250.00",
        "lines": [
            {"procedure_code": "99213", "charge": "125.00", "modifiers": ["25"], "diagnosis_pointers": "AB"},
            {"procedure_code": "J1100", "charge": "125", "units": "2"},
        ],
        **overrides,
    }


def _numbers(response) -> list[str]:
    return [claim["claim_number"] for claim in response.json()["results"]]


# Reading


@pytest.mark.django_db
def test_it_lists_claims_with_patient_payer_and_lines(api, practice):
    patient = PatientFactory(practice=practice, first_name="Ann", last_name="Lee", date_of_birth=date(1980, 2, 3))
    payer = PayerFactory(practice=practice, name="Aetna", payer_id="60054")
    claim = ClaimFactory(practice=practice, patient=patient, payer=payer, total_charge=Decimal("250"))
    ClaimLineFactory(claim=claim, line_number=1, charge=Decimal("250"))

    [row] = api.get("/api/v1/claims").json()["results"]

    assert row["patient"] == patient.pk
    assert row["patient_summary"] == {"id": patient.pk, "name": "Ann Lee", "date_of_birth": "1980-02-03"}
    assert row["payer_summary"] == {"id": payer.pk, "name": "Aetna", "payer_id": "60054"}
    assert row["total_charge"] == "250.00"
    assert row["paid_amount"] == "0.00"
    assert row["outstanding_balance"] == "250.00"
    assert row["allowed_amount"] is None
    assert row["status"] == "submitted"
    assert row["timely_filing_deadline"] == "2026-12-13"
    assert row["lines"] == [
        {
            "line_number": 1,
            "service_date": None,
            "procedure_code": "99213",
            "modifiers": [],
            "units": "1.00",
            "charge": "250.00",
            "diagnosis_pointers": "",
            "place_of_service": "",
            "revenue_code": "",
        }
    ]


@pytest.mark.django_db
def test_it_lists_only_my_practices_claims_paginated(api, practice, other_practice):
    ClaimFactory.create_batch(3, practice=practice)
    ClaimFactory(practice=other_practice, claim_number="OUTSIDER-1")

    body = api.get("/api/v1/claims?page_size=2").json()
    forged = api.get(f"/api/v1/claims?practice={other_practice.pk}").json()

    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"]
    assert "OUTSIDER-1" not in str(body)
    assert forged["count"] == 3


@pytest.mark.django_db
def test_it_lists_claims_in_the_same_number_of_queries_however_many(api, practice):
    providers = ProviderFactory.create_batch(2, practice=practice)

    def make_claims(count: int) -> None:
        for n in range(count):
            policy = InsurancePolicyFactory(practice=practice)
            claim = ClaimFactory(
                practice=practice,
                patient=policy.patient,
                payer=policy.payer,
                policy=policy,
                provider=providers[n % 2],
            )
            ClaimLineFactory.create_batch(2, claim=claim)

    def queries_to_list() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = api.get("/api/v1/claims?page_size=100")
        assert response.status_code == 200
        return len(queries)

    make_claims(2)
    with_two = queries_to_list()
    make_claims(23)
    with_twenty_five = queries_to_list()

    assert api.get("/api/v1/claims?page_size=100").json()["count"] == 25
    assert with_twenty_five == with_two


@pytest.mark.django_db
def test_it_lets_a_teammate_read_and_work_claims(teammate_api, practice, policy):
    claim = ClaimFactory(practice=practice)

    assert teammate_api.get(f"/api/v1/claims/{claim.pk}").status_code == 200
    assert teammate_api.post("/api/v1/claims", _body(policy), format="json").status_code == 201
    assert teammate_api.patch(f"/api/v1/claims/{claim.pk}", {"denial_reason": "x"}, format="json").status_code == 200
    moved = teammate_api.post(f"/api/v1/claims/{claim.pk}/status", {"status": "in_process"}, format="json")
    assert moved.status_code == 200


@pytest.mark.django_db
def test_it_answers_401_to_anonymous_calls(practice):
    claim = ClaimFactory(practice=practice)

    assert APIClient().get("/api/v1/claims").status_code == 401
    assert APIClient().get(f"/api/v1/claims/{claim.pk}").status_code == 401
    assert APIClient().get(f"/api/v1/claims/{claim.pk}/events").status_code == 401


@pytest.mark.django_db
def test_it_hides_another_practices_claim(api, other_practice, policy):
    claim = ClaimFactory(practice=other_practice, claim_number="OUTSIDER-1")
    ClaimEventFactory(claim=claim)

    assert api.get(f"/api/v1/claims/{claim.pk}").status_code == 404
    assert api.patch(f"/api/v1/claims/{claim.pk}", {"claim_number": "X"}, format="json").status_code == 404
    assert api.put(f"/api/v1/claims/{claim.pk}", _body(policy), format="json").status_code == 404
    assert api.post(f"/api/v1/claims/{claim.pk}/status", {"status": "paid"}, format="json").status_code == 404
    assert api.get(f"/api/v1/claims/{claim.pk}/events").status_code == 404
    claim.refresh_from_db()
    assert (claim.claim_number, claim.status) == ("OUTSIDER-1", "submitted")


@pytest.mark.django_db
def test_it_answers_404_for_an_unknown_claim_and_405_for_delete(api, practice):
    claim = ClaimFactory(practice=practice)

    assert api.get("/api/v1/claims/999999").status_code == 404
    # A claim ends closed or written off, keeping its timeline; it is never deleted.
    assert api.delete(f"/api/v1/claims/{claim.pk}").status_code == 405
    assert api.get(f"/api/v1/claims/{claim.pk}/status").status_code == 405
    assert Claim.objects.filter(pk=claim.pk).exists()


# Creating


@pytest.mark.django_db
def test_it_creates_a_claim_with_its_lines_in_my_practice(api, owner, practice, other_practice, policy):
    body = _body(policy, practice=other_practice.pk, status="paid", diagnosis_codes=["e11.9"])

    response = api.post("/api/v1/claims", body, format="json")

    assert response.status_code == 201
    claim = Claim.objects.get(pk=response.json()["id"])
    assert claim.practice == practice
    assert claim.status == "submitted"
    assert claim.diagnosis_codes == ["E11.9"]
    assert claim.timely_filing_deadline == date(2026, 12, 13)
    assert [(line.line_number, line.procedure_code, line.units) for line in claim.lines.all()] == [
        (1, "99213", Decimal("1.00")),
        (2, "J1100", Decimal("2.00")),
    ]
    assert response.json()["lines"][1]["charge"] == "125.00"
    event = claim.events.get()
    assert (event.kind, event.actor) == (ClaimEvent.Kind.CREATED, owner)


@pytest.mark.django_db
def test_it_creates_a_claim_with_a_denial_code_as_denied(api, policy):
    response = api.post("/api/v1/claims", _body(policy, denial_code="co-16", lines=[]), format="json")

    assert response.status_code == 201
    assert response.json()["status"] == "denied"
    assert response.json()["denial_code"] == "CO-16"
    assert response.json()["lines"] == []


@pytest.mark.django_db
def test_it_needs_the_essentials_of_a_claim(api):
    response = api.post("/api/v1/claims", {}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"claim_number", "patient", "payer", "service_date_from", "total_charge"}


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["patient", "provider", "payer", "policy"])
def test_it_refuses_to_link_another_practices_row(api, other_practice, policy, field):
    theirs = InsurancePolicyFactory(practice=other_practice)
    their_ids = {
        "patient": theirs.patient_id,
        "provider": ProviderFactory(practice=other_practice).pk,
        "payer": theirs.payer_id,
        "policy": theirs.pk,
    }

    response = api.post("/api/v1/claims", {**_body(policy), field: their_ids[field]}, format="json")

    assert response.status_code == 400
    assert response.json()[field] == [f'Invalid pk "{their_ids[field]}" - object does not exist.']
    assert not Claim.objects.exists()


@pytest.mark.django_db
def test_it_refuses_a_policy_of_another_patient_or_payer(api, practice, policy):
    other_patient = InsurancePolicyFactory(practice=practice, payer=policy.payer)

    response = api.post("/api/v1/claims", {**_body(policy), "policy": other_patient.pk}, format="json")

    assert response.status_code == 400
    assert response.json() == {"policy": ["This policy is not the patient's policy with this payer."]}


@pytest.mark.django_db
def test_it_rejects_a_claim_number_my_practice_already_has(api, practice, other_practice, policy):
    ClaimFactory(practice=practice, claim_number="CLM-9001")
    ClaimFactory(practice=other_practice, claim_number="CLM-9002")

    taken = api.post("/api/v1/claims", _body(policy, claim_number="CLM-9001"), format="json")
    free = api.post("/api/v1/claims", _body(policy, claim_number="CLM-9002"), format="json")

    assert taken.status_code == 400
    assert taken.json() == {"claim_number": ["Another claim in this practice has this claim number."]}
    assert free.status_code == 201


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"diagnosis_codes": ["E11.9", "11.9"]}, "diagnosis_codes"),
        ({"diagnosis_codes": "E11.9"}, "diagnosis_codes"),
        ({"denial_code": "denied"}, "denial_code"),
        ({"service_date_to": "2026-09-13"}, "service_date_to"),
        ({"total_charge": "-1.00"}, "total_charge"),
        ({"total_charge": "12.345"}, "total_charge"),
        ({"charge_reason": "x" * 201}, "charge_reason"),
        ({"claim_type": "vet"}, "claim_type"),
        ({"lines": [{"procedure_code": "9921", "charge": "10"}]}, "lines"),
        ({"lines": [{"procedure_code": "99213"}]}, "lines"),
        ({"lines": [{"procedure_code": "99213", "charge": "10", "modifiers": ["ABC"]}]}, "lines"),
        ({"lines": [{"procedure_code": "99213", "charge": "10", "place_of_service": "office"}]}, "lines"),
        ({"lines": "99213"}, "lines"),
    ],
)
def test_it_answers_field_errors_for_a_bad_claim(api, policy, overrides, field):
    response = api.post("/api/v1/claims", _body(policy, **overrides), format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not Claim.objects.exists()
    assert not ClaimLine.objects.exists()


@pytest.mark.django_db
def test_it_names_the_bad_diagnosis_code_and_line(api, policy):
    bad_lines = [{"procedure_code": "99213", "charge": "1"}, {"procedure_code": "ABCDE", "charge": "1"}]

    codes = api.post("/api/v1/claims", _body(policy, diagnosis_codes=["E11.9", "11.9"]), format="json")
    lines = api.post("/api/v1/claims", _body(policy, lines=bad_lines), format="json")

    assert codes.json() == {"diagnosis_codes": {"1": ["An ICD-10 code looks like E11.9 or Z00.00."]}}
    assert lines.json() == {
        "lines": {"1": {"procedure_code": ["A CPT or HCPCS code has five characters, like 99213 or J1100."]}}
    }


# Updating


@pytest.mark.django_db
def test_it_updates_a_claim_and_notes_what_changed(api, owner, practice):
    claim = ClaimFactory(practice=practice, status=Claim.Status.DENIED)

    response = api.patch(
        f"/api/v1/claims/{claim.pk}",
        {"denial_reason": "Missing modifier", "next_follow_up_date": "2026-10-01", "status": "paid"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["next_follow_up_date"] == "2026-10-01"
    claim.refresh_from_db()
    assert claim.status == "denied"
    event = claim.events.get()
    assert (event.kind, event.message, event.actor) == ("updated", "Changed denial reason, next follow up date.", owner)


@pytest.mark.django_db
def test_it_creates_a_claim_with_its_charge_posted_to_the_ledger(api, owner, policy):
    response = api.post("/api/v1/claims", _body(policy, total_charge="250.00"), format="json")

    assert response.status_code == 201
    body = response.json()
    assert (body["total_charge"], body["paid_amount"], body["balance"]) == ("250.00", "0.00", "250.00")
    assert body["patient_responsibility"] == "0.00"
    claim = Claim.objects.get(pk=body["id"])
    charge = claim.ledger.get()
    assert (charge.kind, charge.source, charge.amount, charge.created_by) == ("charge", "manual", Decimal("250"), owner)
    assert charge.idempotency_key == f"claim:{claim.pk}:charge"
    assert {(e.account, e.amount) for e in charge.entries.all()} == {
        ("primary_ar", Decimal("250.00")),
        ("charges", Decimal("-250.00")),
    }


@pytest.mark.django_db
def test_it_cannot_write_paid_or_adjusted_amounts(api, practice):
    claim = LedgerClaimFactory(practice=practice, total_charge=Decimal("250.00"))

    response = api.patch(
        f"/api/v1/claims/{claim.pk}",
        {"paid_amount": "250.00", "adjustment_amount": "10.00", "balance": "0", "patient_responsibility": "5"},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["paid_amount"], body["adjustment_amount"], body["balance"]) == ("0.00", "0.00", "250.00")
    claim.refresh_from_db()
    assert (claim.paid_amount, claim.adjustment_amount, claim.balance) == (0, 0, Decimal("250.00"))
    assert claim.ledger.count() == 1
    assert not claim.events.exists()


@pytest.mark.django_db
def test_it_posts_a_changed_charge_as_a_correction_with_the_reason(api, owner, practice):
    claim = LedgerClaimFactory(practice=practice, total_charge=Decimal("250.00"))

    response = api.patch(
        f"/api/v1/claims/{claim.pk}", {"total_charge": "200.00", "charge_reason": "Fee schedule"}, format="json"
    )

    assert response.status_code == 200
    assert (response.json()["total_charge"], response.json()["balance"]) == ("200.00", "200.00")
    correction = claim.ledger.order_by("pk").last()
    assert (correction.kind, correction.amount, correction.created_by) == ("charge", Decimal("50.00"), owner)
    assert correction.memo == "Charge corrected from $250.00 to $200.00: Fee schedule"
    assert {(e.account, e.amount) for e in correction.entries.all()} == {
        ("primary_ar", Decimal("-50.00")),
        ("charges", Decimal("50.00")),
    }
    assert claim.events.get().message == "Changed total charge."


@pytest.mark.django_db
def test_it_replaces_all_lines_on_update(api, owner, practice):
    claim = ClaimFactory(practice=practice)
    ClaimLineFactory(claim=claim, line_number=1, procedure_code="99213")
    ClaimLineFactory(claim=claim, line_number=2, procedure_code="99214")

    response = api.patch(
        f"/api/v1/claims/{claim.pk}", {"lines": [{"procedure_code": "j1100", "charge": "50"}]}, format="json"
    )

    assert response.status_code == 200
    assert [(line["line_number"], line["procedure_code"]) for line in response.json()["lines"]] == [(1, "J1100")]
    assert list(claim.lines.values_list("procedure_code", flat=True)) == ["J1100"]
    assert claim.events.get().message == "Changed the service lines."


@pytest.mark.django_db
def test_it_keeps_the_lines_when_an_update_leaves_them_out(api, practice):
    claim = ClaimFactory(practice=practice)
    ClaimLineFactory(claim=claim, line_number=1)

    response = api.patch(f"/api/v1/claims/{claim.pk}", {"denial_reason": "Missing modifier"}, format="json")

    assert response.status_code == 200
    assert len(response.json()["lines"]) == 1


@pytest.mark.django_db
def test_it_notes_nothing_when_a_client_sends_the_claim_back_unchanged(api, practice, policy):
    created = api.post("/api/v1/claims", _body(policy), format="json").json()
    claim = Claim.objects.get(pk=created["id"])

    response = api.put(f"/api/v1/claims/{claim.pk}", _body(policy), format="json")

    assert response.status_code == 200
    assert list(claim.events.values_list("kind", flat=True)) == ["created"]
    assert claim.lines.count() == 2


@pytest.mark.django_db
def test_it_leaves_the_claim_untouched_when_an_update_is_invalid(api, practice):
    claim = ClaimFactory(practice=practice, denial_reason="Old")
    ClaimLineFactory(claim=claim, line_number=1, procedure_code="99213")

    response = api.patch(
        f"/api/v1/claims/{claim.pk}",
        {"denial_reason": "New", "lines": [{"procedure_code": "99214", "charge": "1"}, {"procedure_code": "x"}]},
        format="json",
    )

    assert response.status_code == 400
    claim.refresh_from_db()
    assert claim.denial_reason == "Old"
    assert list(claim.lines.values_list("procedure_code", flat=True)) == ["99213"]
    assert not claim.events.exists()


@pytest.mark.django_db
def test_it_checks_dates_and_policy_against_the_saved_claim_on_partial_update(api, practice, policy):
    claim = ClaimFactory(practice=practice, service_date_from=date(2026, 9, 14))
    other = InsurancePolicyFactory(practice=practice)

    dates = api.patch(f"/api/v1/claims/{claim.pk}", {"service_date_to": "2026-09-01"}, format="json")
    wrong_policy = api.patch(f"/api/v1/claims/{claim.pk}", {"policy": other.pk}, format="json")
    right_policy = api.patch(
        f"/api/v1/claims/{claim.pk}",
        {"policy": other.pk, "patient": other.patient_id, "payer": other.payer_id},
        format="json",
    )

    assert dates.status_code == 400
    assert "service_date_to" in dates.json()
    assert wrong_policy.status_code == 400
    assert "policy" in wrong_policy.json()
    assert right_policy.status_code == 200
    assert right_policy.json()["payer_summary"]["id"] == other.payer_id


@pytest.mark.django_db
def test_it_lets_a_claim_keep_its_own_number_and_refuses_a_taken_one(api, practice):
    claim = ClaimFactory(practice=practice, claim_number="CLM-1")
    ClaimFactory(practice=practice, claim_number="CLM-2")

    same = api.patch(f"/api/v1/claims/{claim.pk}", {"claim_number": "CLM-1"}, format="json")
    taken = api.patch(f"/api/v1/claims/{claim.pk}", {"claim_number": "CLM-2"}, format="json")

    assert same.status_code == 200
    assert taken.status_code == 400
    assert "claim_number" in taken.json()


@pytest.mark.django_db
def test_it_refuses_to_move_a_claim_to_another_practices_payer(api, practice, other_practice):
    claim = ClaimFactory(practice=practice)
    theirs = PayerFactory(practice=other_practice)

    response = api.patch(f"/api/v1/claims/{claim.pk}", {"payer": theirs.pk}, format="json")

    assert response.status_code == 400
    assert "payer" in response.json()
    claim.refresh_from_db()
    assert claim.payer.practice == practice


# Status and timeline


@pytest.mark.django_db
def test_it_changes_the_status_and_records_why(api, owner, practice):
    claim = ClaimFactory(practice=practice, status=Claim.Status.SUBMITTED)

    response = api.post(
        f"/api/v1/claims/{claim.pk}/status", {"status": "denied", "reason": "  CO-16 on the EOB "}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["status"] == "denied"
    assert response.json()["status_changed_at"]
    event = claim.events.get()
    assert (event.from_status, event.to_status, event.message, event.actor) == (
        "submitted",
        "denied",
        "CO-16 on the EOB",
        owner,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "body", "message"),
    [
        ("paid", {"status": "denied"}, "A paid claim cannot become denied."),
        ("submitted", {"status": "submitted"}, "The claim is already submitted."),
        ("submitted", {"status": "lost"}, '"lost" is not a valid choice.'),
        ("submitted", {}, "This field is required."),
    ],
)
def test_it_answers_400_to_a_status_change_it_cannot_make(api, practice, start, body, message):
    claim = ClaimFactory(practice=practice, status=start)

    response = api.post(f"/api/v1/claims/{claim.pk}/status", body, format="json")

    assert response.status_code == 400
    assert response.json() == {"status": [message]}
    claim.refresh_from_db()
    assert claim.status == start
    assert not claim.events.exists()


@pytest.mark.django_db
def test_it_shows_the_timeline_newest_first_paginated(api, practice, owner):
    claim = ClaimFactory(practice=practice)
    with time_machine.travel(datetime(2026, 9, 20, 12, tzinfo=UTC), tick=False):
        ClaimEventFactory(claim=claim, message="First call to the payer", actor=owner)
    with time_machine.travel(datetime(2026, 9, 21, 12, tzinfo=UTC), tick=False):
        ClaimEventFactory(claim=claim, message="Second call to the payer")
    ClaimEventFactory(claim=ClaimFactory(practice=practice), message="Another claim's note")

    first = api.get(f"/api/v1/claims/{claim.pk}/events?page_size=1").json()
    second = api.get(first["next"]).json()

    assert first["count"] == 2
    assert first["results"][0]["message"] == "Second call to the payer"
    assert first["results"][0]["actor_name"] is None
    assert second["results"][0] == {
        "id": second["results"][0]["id"],
        "kind": "note",
        "from_status": "",
        "to_status": "",
        "message": "First call to the payer",
        "actor": owner.pk,
        "actor_name": "Alice Admin",
        "source": "user",
        "created_at": "2026-09-20T12:00:00Z",
    }


# Filters and ordering


@pytest.mark.django_db
def test_it_filters_by_one_status_or_several(api, practice):
    for number, status in [("A", "denied"), ("B", "rejected"), ("C", "paid")]:
        ClaimFactory(practice=practice, claim_number=number, status=status)

    one = api.get("/api/v1/claims?status=denied")
    several = api.get("/api/v1/claims?status=denied,rejected&ordering=claim_number")
    unknown = api.get("/api/v1/claims?status=denied,lost")

    assert _numbers(one) == ["A"]
    assert _numbers(several) == ["A", "B"]
    assert unknown.status_code == 400
    assert "lost" in unknown.json()["status"][0]


@pytest.mark.django_db
def test_it_filters_by_payer_patient_and_denial_code(api, practice):
    claim = ClaimFactory(practice=practice, claim_number="MINE", denial_code="CO-16")
    ClaimFactory(practice=practice, patient=claim.patient, denial_code="CO-16")
    ClaimFactory(practice=practice, payer=claim.payer, denial_code="PR-1")

    assert len(_numbers(api.get(f"/api/v1/claims?payer={claim.payer_id}"))) == 2
    assert len(_numbers(api.get(f"/api/v1/claims?patient={claim.patient_id}"))) == 2
    assert len(_numbers(api.get("/api/v1/claims?denial_code=co-16"))) == 2
    both = f"/api/v1/claims?payer={claim.payer_id}&patient={claim.patient_id}&denial_code=CO-16"
    assert _numbers(api.get(both)) == ["MINE"]


@pytest.mark.django_db
@pytest.mark.parametrize("param", ["payer", "patient"])
def test_it_answers_400_to_an_id_filter_that_is_not_a_number(api, param):
    response = api.get(f"/api/v1/claims?{param}=aetna")

    assert response.status_code == 400
    assert response.json() == {param: ["A valid integer is required."]}


@pytest.mark.django_db
@pytest.mark.parametrize("param", ["payer", "patient"])
def test_it_answers_400_to_an_id_filter_beyond_any_id(api, param):
    response = api.get(f"/api/v1/claims?{param}=99999999999999999999")

    assert response.status_code == 400
    assert response.json() == {param: ["Ensure this value is less than or equal to 9223372036854775807."]}


@pytest.mark.django_db
def test_it_answers_field_errors_for_a_line_missing_its_fields_in_a_patch(api, practice):
    claim = ClaimFactory(practice=practice)
    line = ClaimLineFactory(claim=claim)

    response = api.patch(f"/api/v1/claims/{claim.pk}", {"lines": [{}, {"procedure_code": "99213"}]}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "lines": [
            {"procedure_code": ["This field is required."], "charge": ["This field is required."]},
            {"charge": ["This field is required."]},
        ]
    }
    assert list(claim.lines.all()) == [line]


@pytest.mark.django_db
def test_it_answers_404_to_a_claim_id_beyond_any_id(api):
    assert api.get("/api/v1/claims/99999999999999999999").status_code == 404
    assert api.patch("/api/v1/claims/99999999999999999999", {}, format="json").status_code == 404


@pytest.mark.django_db
def test_it_answers_400_to_a_payer_id_beyond_any_id_in_the_body(api, practice):
    claim = ClaimFactory(practice=practice)

    response = api.patch(f"/api/v1/claims/{claim.pk}", {"payer": 10**20}, format="json")

    assert response.status_code == 400
    assert response.json() == {"payer": [f'Invalid pk "{10**20}" - object does not exist.']}


@pytest.mark.django_db
def test_it_searches_claim_numbers_and_patient_names(api, practice):
    ann = PatientFactory(practice=practice, first_name="Ann", last_name="Lee")
    anna = PatientFactory(practice=practice, first_name="Anna", last_name="Ortiz")
    ClaimFactory(practice=practice, patient=ann, claim_number="CLM-100")
    ClaimFactory(practice=practice, patient=anna, claim_number="CLM-200")
    bo = PatientFactory(practice=practice, first_name="Bo", last_name="Chen")
    ClaimFactory(practice=practice, patient=bo, claim_number="XYZ-300")

    assert sorted(_numbers(api.get("/api/v1/claims?q=ann"))) == ["CLM-100", "CLM-200"]
    assert _numbers(api.get("/api/v1/claims?q=ann+lee")) == ["CLM-100"]
    assert _numbers(api.get("/api/v1/claims?q=xyz")) == ["XYZ-300"]
    assert _numbers(api.get("/api/v1/claims?q=clm-2")) == ["CLM-200"]


@pytest.mark.django_db
def test_it_finds_claims_whose_follow_up_is_due_or_overdue_in_the_practices_time_zone(api, practice):
    ClaimFactory(practice=practice, claim_number="YESTERDAY", next_follow_up_date=date(2026, 9, 30))
    ClaimFactory(practice=practice, claim_number="TODAY", next_follow_up_date=date(2026, 10, 1))
    ClaimFactory(practice=practice, claim_number="TOMORROW", next_follow_up_date=date(2026, 10, 2))
    ClaimFactory(practice=practice, claim_number="NONE")
    ClaimFactory(practice=practice, claim_number="PAID", next_follow_up_date=date(2026, 9, 1), status="paid")

    # 03:00 UTC on October 2nd is still October 1st in Chicago, the practice's time zone.
    with time_machine.travel(datetime(2026, 10, 2, 3, tzinfo=UTC)):
        due = api.get("/api/v1/claims?follow_up=due&ordering=next_follow_up_date")
        overdue = api.get("/api/v1/claims?follow_up=overdue")
        bad = api.get("/api/v1/claims?follow_up=soon")

    assert _numbers(due) == ["YESTERDAY", "TODAY"]
    assert _numbers(overdue) == ["YESTERDAY"]
    assert bad.status_code == 400
    assert "follow_up" in bad.json()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("claim_number", ["A", "B", "C"]),
        ("-claim_number", ["C", "B", "A"]),
        ("service_date_from", ["B", "C", "A"]),
        ("-total_charge", ["C", "A", "B"]),
        ("status", ["A", "C", "B"]),
        ("next_follow_up_date", ["C", "A", "B"]),
        ("-next_follow_up_date", ["A", "C", "B"]),
        ("timely_filing_deadline", ["B", "C", "A"]),
        ("-timely_filing_deadline,claim_number", ["A", "C", "B"]),
    ],
)
def test_it_orders_by_whitelisted_fields_with_empty_dates_last(api, practice, ordering, expected):
    rows = [
        ("A", date(2026, 9, 3), "300", "denied", date(2026, 10, 5)),
        ("B", date(2026, 9, 1), "100", "submitted", None),
        ("C", date(2026, 9, 2), "900", "paid", date(2026, 10, 1)),
    ]
    for number, served, charge, status, follow_up in rows:
        ClaimFactory(
            practice=practice,
            claim_number=number,
            service_date_from=served,
            total_charge=Decimal(charge),
            status=status,
            next_follow_up_date=follow_up,
        )

    assert _numbers(api.get(f"/api/v1/claims?ordering={ordering}")) == expected


@pytest.mark.django_db
@pytest.mark.parametrize("ordering", ["patient__last_name", "practice", "-", "claim_number,secret"])
def test_it_answers_400_to_an_ordering_off_the_whitelist(api, ordering):
    response = api.get(f"/api/v1/claims?ordering={ordering}")

    assert response.status_code == 400
    assert "ordering" in response.json()


@pytest.mark.django_db
def test_it_orders_by_service_date_newest_first_by_default(api, practice):
    ClaimFactory(practice=practice, claim_number="OLD", service_date_from=date(2026, 1, 1))
    ClaimFactory(practice=practice, claim_number="NEW", service_date_from=date(2026, 9, 1))

    assert _numbers(api.get("/api/v1/claims")) == ["NEW", "OLD"]


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["denied", "rejected", "written_off", "closed"])
def test_it_requires_a_reason_to_deny_reject_write_off_or_close(api, practice, status):
    claim = ClaimFactory(practice=practice, status=Claim.Status.SUBMITTED)

    response = api.post(f"/api/v1/claims/{claim.pk}/status", {"status": status, "reason": "  "}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["reason"]
    assert "the reason goes on the timeline" in response.json()["reason"][0]
    claim.refresh_from_db()
    assert claim.status == Claim.Status.SUBMITTED
    assert not claim.events.exists()


# A claim number taken between the serializer's check and the insert (two requests at once).


def _taken_after_the_check(monkeypatch, practice, policy) -> None:
    check = ClaimSerializer.validate_claim_number

    def check_then_lose_the_race(serializer, value):
        value = check(serializer, value)
        ClaimFactory(practice=practice, patient=policy.patient, payer=policy.payer, claim_number=value)
        return value

    monkeypatch.setattr(ClaimSerializer, "validate_claim_number", check_then_lose_the_race)


@pytest.mark.django_db
def test_a_claim_number_taken_after_the_check_is_the_checks_400(api, practice, policy, monkeypatch):
    _taken_after_the_check(monkeypatch, practice, policy)

    response = api.post("/api/v1/claims", _body(policy), format="json")

    assert response.status_code == 400
    assert response.json() == {"claim_number": ["Another claim in this practice has this claim number."]}
    assert Claim.objects.filter(claim_number="CLM-9001").count() == 1
    assert not ClaimEvent.objects.filter(kind=ClaimEvent.Kind.CREATED).exists()


@pytest.mark.django_db
def test_a_claim_number_taken_after_the_check_is_the_checks_400_on_update_too(api, practice, policy, monkeypatch):
    claim = ClaimFactory(practice=practice, patient=policy.patient, payer=policy.payer, claim_number="CLM-1")
    _taken_after_the_check(monkeypatch, practice, policy)

    response = api.patch(f"/api/v1/claims/{claim.pk}", {"claim_number": "CLM-2"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"claim_number": ["Another claim in this practice has this claim number."]}
    claim.refresh_from_db()
    assert claim.claim_number == "CLM-1"
