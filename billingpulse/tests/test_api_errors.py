"""The API's shared error handling: hostile JSON, rows still in use, values out of range."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError

from billingpulse.lib.rest import exception_handler
from billingpulse.models import Patient
from billingpulse.tests.factories import PatientFactory, ProviderFactory
from claims.tests.factories import ClaimFactory

pytestmark = pytest.mark.django_db


def _post_raw(api, url: str, body: str):
    return api.generic("POST", url, body.encode("utf-8", "surrogatepass"), content_type="application/json")


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ("[" * 1_000 + "]" * 1_000, "The JSON is nested more than 32 levels deep."),
        ("[" * 100_000, "The JSON is nested more than 32 levels deep."),
        ('{"first_name": NaN}', "NaN is not a JSON number."),
        ('{"first_name": Infinity}', "Infinity is not a JSON number."),
        ('{"first_name": 1e999}', "The number 1e999 is too large."),
        ('{"first_name": "ab\\ud800cd"}', "The JSON holds text with an invalid character (a lone surrogate)."),
        ('{"first_name": ', "This is not valid JSON: Expecting value at line 1, column 16."),
    ],
    ids=["1,000 levels", "100,000 levels", "NaN", "Infinity", "beyond a float", "lone surrogate", "truncated"],
)
def test_it_answers_400_with_the_reason_for_json_it_cannot_use(api, body, detail):
    response = _post_raw(api, "/api/v1/patients", body)

    assert response.status_code == 400
    assert response.json() == {"detail": detail}
    assert not Patient.objects.exists()


def test_it_refuses_a_lone_surrogate_in_the_knowledge_base_bulk_api(api):
    entries = [{"code": "CO-16", "description": "ab\ud800cd"}]

    response = _post_raw(api, "/api/v1/knowledge/denial-codes", json.dumps(entries))

    assert response.status_code == 400


def test_it_accepts_json_nested_as_deep_as_real_documents(api):
    response = api.post(
        "/api/v1/patients",
        {"first_name": "Ann", "last_name": "Lee", "date_of_birth": "1980-03-14", "sex": "F"},
        format="json",
    )

    assert response.status_code == 201


def test_it_answers_409_naming_what_still_uses_a_patient(api, owner):
    patient = PatientFactory(practice=owner.practice)
    ClaimFactory.create_batch(2, practice=owner.practice, patient=patient)

    response = api.delete(f"/api/v1/patients/{patient.pk}")

    assert response.status_code == 409
    assert response.json() == {"detail": "It is still used by 2 claims. Remove or reassign those first."}
    assert Patient.objects.filter(pk=patient.pk).exists()


def test_it_answers_409_naming_what_still_uses_a_provider(api, owner):
    provider = ProviderFactory(practice=owner.practice)
    ClaimFactory(practice=owner.practice, provider=provider)

    response = api.delete(f"/api/v1/providers/{provider.pk}")

    assert response.status_code == 409
    assert response.json() == {"detail": "It is still used by 1 claim. Remove or reassign those first."}


@pytest.mark.parametrize(
    ("error", "body"),
    [
        (DjangoValidationError("Not now."), {"non_field_errors": ["Not now."]}),
        (DjangoValidationError({"email": "Taken."}), {"email": ["Taken."]}),
        (
            DjangoValidationError({NON_FIELD_ERRORS: ["Both."], "npi": ["Bad."]}),
            {"non_field_errors": ["Both."], "npi": ["Bad."]},
        ),
    ],
)
def test_it_answers_a_services_validation_error_as_field_errors(error, body):
    response = exception_handler(error, {})

    assert response.status_code == 400
    assert response.data == body
