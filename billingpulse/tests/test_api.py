from __future__ import annotations

import re
from datetime import date

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from billingpulse.api import PatientSerializer, ProviderSerializer
from billingpulse.models import Patient
from billingpulse.tests.factories import PatientFactory, ProviderFactory


@pytest.mark.django_db
def test_it_tells_me_who_i_am(api, owner):
    response = api.get("/api/v1/me")

    assert response.status_code == 200
    assert response.json() == {
        "id": owner.pk,
        "email": "alice@alpha.example",
        "full_name": "Alice Admin",
        "role": "admin",
        "practice": {
            "id": owner.practice.pk,
            "name": "Alpha Family Clinic",
            "npi": "",
            "tax_id": "",
            "time_zone": "America/Chicago",
        },
    }


@pytest.mark.django_db
def test_it_works_with_the_session_too(owner_client):
    assert owner_client.get("/api/v1/me").json()["email"] == "alice@alpha.example"


@pytest.mark.django_db
def test_it_answers_401_to_anonymous_calls(client):
    response = client.get("/api/v1/me")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.django_db
def test_it_answers_401_to_a_wrong_token(client):
    response = client.get("/api/v1/patients", HTTP_AUTHORIZATION="Token not-a-real-token")
    assert response.status_code == 401


@pytest.mark.django_db
def test_it_refuses_a_deactivated_users_token(owner):
    token = Token.objects.create(user=owner)
    owner.is_active = False
    owner.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    assert client.get("/api/v1/me").status_code == 401


@pytest.mark.django_db
def test_it_refuses_an_operator_without_a_practice(db):
    from billingpulse.models import User

    operator = User.objects.create_superuser("ops@billingpulse.example", "pw-operator-123")
    client = APIClient()
    client.force_authenticate(operator)

    assert client.get("/api/v1/patients").status_code == 403


@pytest.mark.django_db
def test_it_lists_patients_of_my_practice_paginated(api, practice, other_practice):
    PatientFactory.create_batch(3, practice=practice)
    PatientFactory(practice=other_practice, last_name="Outsiderson")

    body = api.get("/api/v1/patients?page_size=2").json()

    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"]
    assert "Outsiderson" not in str(body)


@pytest.mark.django_db
def test_it_creates_a_patient_in_my_practice_whatever_the_body_says(api, practice, other_practice):
    response = api.post(
        "/api/v1/patients",
        {"first_name": "Ann", "last_name": "Lee", "date_of_birth": "1980-02-03", "practice": other_practice.pk},
        format="json",
    )

    assert response.status_code == 201
    assert Patient.objects.get(pk=response.json()["id"]).practice == practice


@pytest.mark.django_db
def test_it_answers_field_errors_for_a_bad_patient(api):
    response = api.post("/api/v1/patients", {"first_name": "", "date_of_birth": "14/03/1980"}, format="json")

    assert response.status_code == 400
    errors = response.json()
    assert set(errors) >= {"first_name", "last_name", "date_of_birth"}
    assert not Patient.objects.exists()


@pytest.mark.django_db
def test_it_rejects_a_provider_with_a_bad_npi(api):
    response = api.post("/api/v1/providers", {"first_name": "A", "last_name": "B", "npi": "1234567890"}, format="json")

    assert response.status_code == 400
    assert "last digit does not match" in response.json()["npi"][0]


@pytest.mark.django_db
def test_it_rejects_a_duplicate_provider_npi(api, practice):
    ProviderFactory(practice=practice, npi="1234567893")

    response = api.post("/api/v1/providers", {"first_name": "A", "last_name": "B", "npi": "1234567893"}, format="json")

    assert response.status_code == 400
    assert "npi" in response.json()


@pytest.mark.django_db
def test_it_hides_another_practices_patient(api, other_practice):
    patient = PatientFactory(practice=other_practice)

    assert api.get(f"/api/v1/patients/{patient.pk}").status_code == 404
    assert api.patch(f"/api/v1/patients/{patient.pk}", {"first_name": "X"}, format="json").status_code == 404
    assert api.delete(f"/api/v1/patients/{patient.pk}").status_code == 404
    assert Patient.objects.filter(pk=patient.pk).exists()


@pytest.mark.django_db
def test_it_serves_the_openapi_schema_and_docs(owner_client):
    schema = owner_client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/me" in schema.content

    docs = owner_client.get("/api/docs/")
    assert docs.status_code == 200
    # Swagger UI comes from the installed sidecar package, never a CDN.
    assert b"/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs.content
    sources = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', docs.content.decode())
    assert sources and all(src.startswith("/static/") for src in sources)


@pytest.mark.django_db
def test_it_answers_405_to_other_methods_on_the_docs_page(owner_client):
    assert owner_client.options("/api/docs/").status_code == 405
    assert owner_client.post("/api/docs/").status_code == 405


@pytest.mark.django_db
def test_it_lets_staff_read_but_not_change_providers(teammate, practice):
    provider = ProviderFactory(practice=practice)
    client = APIClient()
    client.force_authenticate(teammate)

    assert client.get(f"/api/v1/providers/{provider.pk}").status_code == 200
    assert client.patch(f"/api/v1/providers/{provider.pk}", {"last_name": "X"}, format="json").status_code == 403
    new = {"first_name": "A", "last_name": "B", "npi": "1345678902"}
    assert client.post("/api/v1/providers", new).status_code == 403


@pytest.mark.django_db
def test_it_finds_patients_by_name_and_birth_date(api, practice, other_practice):
    PatientFactory(practice=practice, first_name="Maria", last_name="Lopez", date_of_birth=date(1980, 3, 14))
    PatientFactory(practice=practice, first_name="Maria", last_name="Lopez", date_of_birth=date(1955, 1, 2))
    PatientFactory(practice=other_practice, first_name="Maria", last_name="Lopez", date_of_birth=date(1980, 3, 14))

    body = api.get("/api/v1/patients?search=lopez&date_of_birth=1980-03-14").json()

    assert body["count"] == 1
    assert api.get("/api/v1/patients?date_of_birth=14/03/1980").status_code == 400


# A duplicate that gets in between the serializer's check and the insert (two requests at once).


def _taken_after_the_check(monkeypatch, serializer, check: str, make_duplicate) -> None:
    original = getattr(serializer, check)

    def check_then_lose_the_race(self, value):
        value = original(self, value)
        make_duplicate(value)
        return value

    monkeypatch.setattr(serializer, check, check_then_lose_the_race)


@pytest.mark.django_db
def test_an_account_number_taken_after_the_check_is_the_checks_400(api, practice, monkeypatch):
    _taken_after_the_check(
        monkeypatch,
        PatientSerializer,
        "validate_account_number",
        lambda value: PatientFactory(practice=practice, account_number=value),
    )

    response = api.post(
        "/api/v1/patients",
        {"first_name": "Ann", "last_name": "Lee", "date_of_birth": "1980-02-03", "account_number": "A-1"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"account_number": ["Another patient in this practice has this account number."]}
    assert Patient.objects.filter(account_number="A-1").count() == 1


@pytest.mark.django_db
def test_an_npi_taken_after_the_check_is_the_checks_400_on_update_too(api, practice, monkeypatch):
    provider = ProviderFactory(practice=practice, npi="1234567893")
    _taken_after_the_check(
        monkeypatch, ProviderSerializer, "validate_npi", lambda value: ProviderFactory(practice=practice, npi=value)
    )

    response = api.patch(f"/api/v1/providers/{provider.pk}", {"npi": "1345678902"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"npi": ["Another provider in this practice has this NPI."]}
    provider.refresh_from_db()
    assert provider.npi == "1234567893"
