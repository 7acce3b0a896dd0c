from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from billingpulse.tests.factories import PatientFactory
from claims.api.policies import InsurancePolicySerializer
from claims.models import Claim, InsurancePolicy
from claims.tests.factories import ClaimFactory, InsurancePolicyFactory, PayerFactory


@pytest.fixture
def patient(practice):
    return PatientFactory(practice=practice)


@pytest.fixture
def payer(practice):
    return PayerFactory(practice=practice)


def _body(patient, payer, **overrides) -> dict:
    return {"patient": patient.pk, "payer": payer.pk, "member_id": "W123456789", **overrides}


@pytest.mark.django_db
def test_it_lists_my_practices_policies_paginated(api, practice, other_practice):
    InsurancePolicyFactory.create_batch(3, practice=practice)
    InsurancePolicyFactory(practice=other_practice, member_id="OUTSIDER-1")

    body = api.get("/api/v1/policies?page_size=2").json()

    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"]
    assert "OUTSIDER-1" not in str(body)


@pytest.mark.django_db
def test_it_filters_by_patient_and_payer(api, practice, patient, payer):
    mine = InsurancePolicyFactory(practice=practice, patient=patient, payer=payer)
    InsurancePolicyFactory(practice=practice, patient=patient)
    InsurancePolicyFactory(practice=practice, payer=payer)

    by_patient = api.get(f"/api/v1/policies?patient={patient.pk}").json()["results"]
    by_both = api.get(f"/api/v1/policies?patient={patient.pk}&payer={payer.pk}").json()["results"]

    assert len(by_patient) == 2
    assert [p["id"] for p in by_both] == [mine.pk]


@pytest.mark.django_db
def test_it_finds_nothing_for_another_practices_patient(api, other_practice):
    policy = InsurancePolicyFactory(practice=other_practice)

    body = api.get(f"/api/v1/policies?patient={policy.patient_id}").json()

    assert body["count"] == 0


@pytest.mark.django_db
def test_it_answers_400_to_a_patient_filter_that_is_not_an_id(api):
    response = api.get("/api/v1/policies?patient=ann")

    assert response.status_code == 400
    assert "patient" in response.json()


@pytest.mark.django_db
def test_it_creates_a_policy_in_my_practice(api, practice, other_practice, patient, payer):
    body = _body(patient, payer, priority="secondary", practice=other_practice.pk)

    response = api.post("/api/v1/policies", body, format="json")

    assert response.status_code == 201
    assert response.json()["patient"] == patient.pk
    assert response.json()["payer"] == payer.pk
    policy = InsurancePolicy.objects.get(pk=response.json()["id"])
    assert policy.practice == practice
    assert policy.priority == "secondary"


@pytest.mark.django_db
def test_it_lets_a_teammate_add_and_change_policies(teammate_api, patient, payer):
    created = teammate_api.post("/api/v1/policies", _body(patient, payer), format="json")
    changed = teammate_api.patch(f"/api/v1/policies/{created.json()['id']}", {"group_number": "G-1"}, format="json")

    assert created.status_code == 201
    assert changed.status_code == 200
    assert changed.json()["group_number"] == "G-1"


@pytest.mark.django_db
def test_it_answers_401_to_anonymous_calls(practice):
    policy = InsurancePolicyFactory(practice=practice)

    assert APIClient().get("/api/v1/policies").status_code == 401
    assert APIClient().get(f"/api/v1/policies/{policy.pk}").status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["patient", "payer"])
def test_it_refuses_to_link_another_practices_row(api, other_practice, patient, payer, field):
    theirs = {"patient": PatientFactory(practice=other_practice), "payer": PayerFactory(practice=other_practice)}
    body = {**_body(patient, payer), field: theirs[field].pk}

    response = api.post("/api/v1/policies", body, format="json")

    assert response.status_code == 400
    assert response.json() == {field: [f'Invalid pk "{theirs[field].pk}" - object does not exist.']}
    assert not InsurancePolicy.objects.exists()


@pytest.mark.django_db
def test_it_refuses_to_move_a_policy_to_another_practices_payer(api, practice, other_practice):
    policy = InsurancePolicyFactory(practice=practice)
    theirs = PayerFactory(practice=other_practice)

    response = api.patch(f"/api/v1/policies/{policy.pk}", {"payer": theirs.pk}, format="json")

    assert response.status_code == 400
    assert "payer" in response.json()
    policy.refresh_from_db()
    assert policy.payer.practice == practice


@pytest.mark.django_db
def test_it_hides_another_practices_policy(api, other_practice, patient, payer):
    policy = InsurancePolicyFactory(practice=other_practice, member_id="OUTSIDER-1")

    assert api.get(f"/api/v1/policies/{policy.pk}").status_code == 404
    assert api.patch(f"/api/v1/policies/{policy.pk}", {"member_id": "X"}, format="json").status_code == 404
    assert api.put(f"/api/v1/policies/{policy.pk}", _body(patient, payer), format="json").status_code == 404
    assert api.delete(f"/api/v1/policies/{policy.pk}").status_code == 404
    policy.refresh_from_db()
    assert policy.member_id == "OUTSIDER-1"


@pytest.mark.django_db
def test_it_answers_404_for_an_unknown_policy_and_405_for_a_wrong_method(api, practice):
    policy = InsurancePolicyFactory(practice=practice)

    assert api.get("/api/v1/policies/999999").status_code == 404
    assert api.post(f"/api/v1/policies/{policy.pk}", {}, format="json").status_code == 405


@pytest.mark.django_db
def test_it_answers_field_errors_for_a_bad_policy(api):
    response = api.post("/api/v1/policies", {"priority": "fourth", "effective_from": "soon"}, format="json")

    assert response.status_code == 400
    assert set(response.json()) >= {"patient", "payer", "member_id", "priority", "effective_from"}


@pytest.mark.django_db
def test_it_rejects_coverage_that_ends_before_it_starts(api, practice, patient, payer):
    response = api.post(
        "/api/v1/policies",
        _body(patient, payer, effective_from="2026-06-01", effective_to="2026-05-31"),
        format="json",
    )
    policy = InsurancePolicyFactory(practice=practice, effective_from="2026-06-01")
    patched = api.patch(f"/api/v1/policies/{policy.pk}", {"effective_to": "2026-01-01"}, format="json")

    assert response.status_code == 400
    assert "effective_to" in response.json()
    assert patched.status_code == 400
    assert "effective_to" in patched.json()


@pytest.mark.django_db
def test_it_rejects_the_same_member_twice_with_one_payer(api, practice, patient, payer):
    InsurancePolicyFactory(practice=practice, patient=patient, payer=payer, member_id="W123456789")

    response = api.post("/api/v1/policies", _body(patient, payer), format="json")

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["This patient already has a policy with this payer and member ID."]}


@pytest.mark.django_db
def test_it_deletes_a_policy_and_its_claims_keep_their_data(api, practice):
    policy = InsurancePolicyFactory(practice=practice)
    claim = ClaimFactory(practice=practice, patient=policy.patient, payer=policy.payer, policy=policy)

    assert api.delete(f"/api/v1/policies/{policy.pk}").status_code == 204
    assert Claim.objects.get(pk=claim.pk).policy is None


@pytest.mark.django_db
def test_a_policy_added_after_the_check_is_the_checks_400(api, practice, patient, payer, monkeypatch):
    # Two requests at once: ours checks, theirs inserts, ours inserts.
    check = InsurancePolicySerializer.validate

    def check_then_lose_the_race(serializer, attrs):
        attrs = check(serializer, attrs)
        InsurancePolicyFactory(practice=practice, patient=patient, payer=payer, member_id=attrs["member_id"])
        return attrs

    monkeypatch.setattr(InsurancePolicySerializer, "validate", check_then_lose_the_race)

    response = api.post("/api/v1/policies", _body(patient, payer), format="json")

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["This patient already has a policy with this payer and member ID."]}
    assert InsurancePolicy.objects.count() == 1
