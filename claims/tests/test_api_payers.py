from __future__ import annotations

from unittest import mock

import pytest
from rest_framework.test import APIClient

from claims.api.payers import PayerSerializer
from claims.models import Payer
from claims.tests.factories import ClaimFactory, InsurancePolicyFactory, PayerFactory

IVR = {"steps": [{"prompt": "For claims, press 2", "options": {"1": "eligibility", "2": "claims"}}, {"prompt": "NPI?"}]}


def _body(**overrides) -> dict:
    return {"name": "Aetna", "payer_id": "60054", "phone": "+18005550100", **overrides}


@pytest.mark.django_db
def test_it_lists_my_practices_payers_paginated(api, practice, other_practice):
    PayerFactory.create_batch(3, practice=practice)
    PayerFactory(practice=other_practice, name="Outsider Mutual")

    body = api.get("/api/v1/payers?page_size=2").json()

    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"]
    assert "Outsider Mutual" not in str(body)


@pytest.mark.django_db
def test_it_ignores_a_forged_practice_in_the_query(api, practice, other_practice):
    PayerFactory(practice=other_practice, name="Outsider Mutual")

    body = api.get(f"/api/v1/payers?practice={other_practice.pk}").json()

    assert body["count"] == 0


@pytest.mark.django_db
def test_it_searches_name_and_payer_id(api, practice):
    PayerFactory(practice=practice, name="Aetna", payer_id="60054")
    PayerFactory(practice=practice, name="Cigna", payer_id="62308")

    by_name = api.get("/api/v1/payers?search=aetn").json()["results"]
    by_id = api.get("/api/v1/payers?search=6230").json()["results"]

    assert [p["name"] for p in by_name] == ["Aetna"]
    assert [p["name"] for p in by_id] == ["Cigna"]


@pytest.mark.django_db
def test_it_lets_a_teammate_read_payers(teammate_api, practice):
    payer = PayerFactory(practice=practice, name="Aetna")

    assert teammate_api.get("/api/v1/payers").json()["count"] == 1
    assert teammate_api.get(f"/api/v1/payers/{payer.pk}").json()["name"] == "Aetna"


@pytest.mark.django_db
def test_it_leaves_changing_payers_to_admins(teammate_api, practice):
    payer = PayerFactory(practice=practice, name="Aetna")

    assert teammate_api.post("/api/v1/payers", _body(), format="json").status_code == 403
    assert teammate_api.patch(f"/api/v1/payers/{payer.pk}", {"name": "X"}, format="json").status_code == 403
    assert teammate_api.delete(f"/api/v1/payers/{payer.pk}").status_code == 403
    payer.refresh_from_db()
    assert payer.name == "Aetna"


@pytest.mark.django_db
def test_it_answers_401_to_anonymous_calls(practice):
    payer = PayerFactory(practice=practice)

    assert APIClient().get("/api/v1/payers").status_code == 401
    assert APIClient().get(f"/api/v1/payers/{payer.pk}").status_code == 401


@pytest.mark.django_db
def test_it_creates_a_payer_in_my_practice_whatever_the_body_says(api, practice, other_practice):
    body = _body(practice=other_practice.pk, ivr_config=IVR, max_calls_per_window=5, call_window_minutes=60)

    response = api.post("/api/v1/payers", body, format="json")

    assert response.status_code == 201
    payer = Payer.objects.get(pk=response.json()["id"])
    assert payer.practice == practice
    assert payer.ivr_config == IVR
    assert (payer.max_calls_per_window, payer.call_window_minutes) == (5, 60)
    assert response.json()["opens_at"] == "08:00:00"
    assert "practice" not in response.json()


@pytest.mark.django_db
def test_it_updates_a_payer(api, practice):
    payer = PayerFactory(practice=practice, name="Aetna")

    response = api.patch(f"/api/v1/payers/{payer.pk}", {"name": "Aetna Better Health"}, format="json")

    assert response.status_code == 200
    payer.refresh_from_db()
    assert payer.name == "Aetna Better Health"


@pytest.mark.django_db
def test_it_hides_another_practices_payer(api, other_practice):
    payer = PayerFactory(practice=other_practice, name="Outsider Mutual")

    assert api.get(f"/api/v1/payers/{payer.pk}").status_code == 404
    assert api.patch(f"/api/v1/payers/{payer.pk}", {"name": "X"}, format="json").status_code == 404
    assert api.put(f"/api/v1/payers/{payer.pk}", _body(), format="json").status_code == 404
    assert api.delete(f"/api/v1/payers/{payer.pk}").status_code == 404
    payer.refresh_from_db()
    assert payer.name == "Outsider Mutual"


@pytest.mark.django_db
def test_it_answers_404_for_an_unknown_payer_and_405_for_a_wrong_method(api, practice):
    payer = PayerFactory(practice=practice)

    assert api.get("/api/v1/payers/999999").status_code == 404
    assert api.post(f"/api/v1/payers/{payer.pk}", _body(), format="json").status_code == 405


@pytest.mark.django_db
def test_it_rejects_a_payer_id_my_practice_already_has(api, practice):
    PayerFactory(practice=practice, payer_id="60054")

    response = api.post("/api/v1/payers", _body(payer_id="60054"), format="json")

    assert response.status_code == 400
    assert response.json()["payer_id"] == ["Another payer in this practice has this payer ID."]


@pytest.mark.django_db
def test_it_upper_cases_payer_ids_so_case_cannot_make_a_second_payer(api, practice):
    PayerFactory(practice=practice, payer_id="SX123")

    response = api.post("/api/v1/payers", _body(payer_id=" sx123 "), format="json")

    assert response.status_code == 400
    assert response.json()["payer_id"] == ["Another payer in this practice has this payer ID."]
    created = api.post("/api/v1/payers", _body(payer_id="ab7"), format="json")
    assert created.status_code == 201
    assert created.json()["payer_id"] == "AB7"


@pytest.mark.django_db
def test_it_allows_a_payer_id_another_practice_has(api, other_practice):
    PayerFactory(practice=other_practice, payer_id="60054")

    assert api.post("/api/v1/payers", _body(payer_id="60054"), format="json").status_code == 201


@pytest.mark.django_db
def test_it_keeps_a_payers_own_payer_id_on_update(api, practice):
    payer = PayerFactory(practice=practice, payer_id="60054")

    response = api.put(f"/api/v1/payers/{payer.pk}", _body(payer_id="60054", name="Renamed"), format="json")

    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("phone", ["800-555-0100", "18005550100", "+0123", "call us"])
def test_it_rejects_a_phone_not_in_e164(api, phone):
    response = api.post("/api/v1/payers", _body(phone=phone), format="json")

    assert response.status_code == 400
    assert "phone" in response.json()


@pytest.mark.django_db
def test_it_accepts_a_payer_without_a_phone(api):
    assert api.post("/api/v1/payers", _body(phone=""), format="json").status_code == 201


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("ivr_config", "message"),
    [
        ({"menu": []}, "The menu: needs a 'steps'."),
        ({"steps": "press 2"}, "Steps: should be a list."),
        ({"steps": [{"prompt": ""}]}, "Step 1 prompt: cannot be empty."),
        ({"steps": [{"prompt": "Hi", "options": {"12345": "x"}}]}, "Step 1 options: '12345' does not match"),
        ({"steps": [{"prompt": "Hi", "wait_seconds": 9999}]}, "is out of range"),
        ([1, 2], "should be a object"),
        ("press 2", "should be a object"),
        (
            {"steps": [{"prompt": "", "options": {"abcd": 5}, "extra": 1}, "not a step"], "foo": 1},
            "has fields it should not have",
        ),
    ],
)
def test_it_answers_field_errors_for_a_bad_ivr_config(api, ivr_config, message):
    response = api.post("/api/v1/payers", _body(ivr_config=ivr_config), format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"ivr_config"}
    assert any(message in problem for problem in response.json()["ivr_config"])
    assert not Payer.objects.exists()


@pytest.mark.django_db
def test_it_rejects_a_null_ivr_config(api):
    response = api.post("/api/v1/payers", _body(ivr_config=None), format="json")

    assert response.status_code == 400
    assert "ivr_config" in response.json()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("limits", "field"),
    [
        ({"max_calls_per_window": 5}, "call_window_minutes"),
        ({"call_window_minutes": 60}, "max_calls_per_window"),
        ({"max_calls_per_window": 0, "call_window_minutes": 60}, "max_calls_per_window"),
        ({"max_calls_per_window": 5, "call_window_minutes": 0}, "call_window_minutes"),
    ],
)
def test_it_wants_the_call_limit_and_its_window_together(api, limits, field):
    response = api.post("/api/v1/payers", _body(**limits), format="json")

    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.django_db
def test_it_checks_the_call_limit_against_the_saved_window_on_partial_update(api, practice):
    payer = PayerFactory(practice=practice, max_calls_per_window=5, call_window_minutes=60)

    cleared = api.patch(f"/api/v1/payers/{payer.pk}", {"call_window_minutes": None}, format="json")
    changed = api.patch(f"/api/v1/payers/{payer.pk}", {"call_window_minutes": 30}, format="json")
    both_cleared = api.patch(
        f"/api/v1/payers/{payer.pk}", {"max_calls_per_window": None, "call_window_minutes": None}, format="json"
    )

    assert cleared.status_code == 400
    assert "call_window_minutes" in cleared.json()
    assert changed.status_code == 200
    assert both_cleared.status_code == 200


@pytest.mark.django_db
def test_it_deletes_an_unused_payer(api, practice):
    payer = PayerFactory(practice=practice)

    assert api.delete(f"/api/v1/payers/{payer.pk}").status_code == 204
    assert not Payer.objects.filter(pk=payer.pk).exists()


@pytest.mark.django_db
def test_it_refuses_to_delete_a_payer_with_claims_and_says_why(api, practice):
    payer = PayerFactory(practice=practice, name="Aetna")
    ClaimFactory.create_batch(2, practice=practice, payer=payer)
    InsurancePolicyFactory(practice=practice, payer=payer)

    response = api.delete(f"/api/v1/payers/{payer.pk}")

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Aetna cannot be deleted: 2 claims and 1 insurance policy use it. Move or delete those first."
    }
    assert Payer.objects.filter(pk=payer.pk).exists()


@pytest.mark.django_db
def test_it_answers_400_when_a_claim_arrives_between_the_check_and_the_delete(api, practice):
    payer = PayerFactory(practice=practice, name="Aetna")
    ClaimFactory(practice=practice, payer=payer)

    # The first check sees nothing in the way; the database's PROTECT then refuses.
    with mock.patch("claims.api.payers._in_use", side_effect=["", "Aetna cannot be deleted: 1 claim uses it."]):
        response = api.delete(f"/api/v1/payers/{payer.pk}")

    assert response.status_code == 400
    assert response.json() == {"detail": "Aetna cannot be deleted: 1 claim uses it."}
    assert Payer.objects.filter(pk=payer.pk).exists()


@pytest.mark.django_db
def test_a_payer_id_taken_after_the_check_is_the_checks_400(api, practice, monkeypatch):
    # Two requests at once: ours checks, theirs inserts, ours inserts.
    check = PayerSerializer.validate_payer_id

    def check_then_lose_the_race(serializer, value):
        value = check(serializer, value)
        PayerFactory(practice=practice, payer_id=value)
        return value

    monkeypatch.setattr(PayerSerializer, "validate_payer_id", check_then_lose_the_race)

    response = api.post("/api/v1/payers", _body(), format="json")

    assert response.status_code == 400
    assert response.json() == {"payer_id": ["Another payer in this practice has this payer ID."]}
    assert Payer.objects.filter(payer_id="60054").count() == 1
