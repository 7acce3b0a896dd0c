"""Diagnosis codes on claims are checked against the ICD-10-CM code set where it is loaded
(model, claim form, API, import), and by their shape alone where it is not."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billingpulse.tests.factories import ProviderFactory
from billingpulse.tests.icd10 import load_codes
from claims.importing import engine
from claims.models import Claim, ClaimImportError, validate_icd10_list
from claims.tests.factories import ClaimFactory, InsurancePolicyFactory, PayerFactory
from claims.tests.test_import_engine import csv_file, run

pytestmark = pytest.mark.django_db

E11_HEADER = "E11 is a category, not a billable code; pick a billable code such as E11.9."
UNKNOWN = "E11.99 is not an ICD-10-CM code (checked against the FY2026 code set). Check it for a typo."


@pytest.fixture
def icd10(db):
    load_codes()


# --- the model's validator


def test_it_accepts_billable_codes_including_u_codes(icd10):
    validate_icd10_list(["E11.9", "U07.1", "I10"])


def test_it_refuses_headers_and_unknown_codes_with_the_billers_message(icd10):
    with pytest.raises(ValidationError) as error:
        validate_icd10_list(["E11.9", "E11", "E11.99"])

    assert error.value.messages == [E11_HEADER, UNKNOWN]


def test_it_checks_the_shape_alone_without_a_code_set(db, django_assert_num_queries):
    with django_assert_num_queries(1):  # finds no code set, so asks nothing more
        validate_icd10_list(["E11.99", "U07.1"])
    with pytest.raises(ValidationError, match="An ICD-10 code looks like E11.9"):
        validate_icd10_list(["11.9"])


# --- the claim form


def _form_data(claim, codes: str) -> dict:
    return {
        "provider": claim.provider_id or "",
        "claim_type": claim.claim_type,
        "claim_form": claim.claim_form,
        "service_date_from": claim.service_date_from.isoformat(),
        "diagnosis_codes": codes,
        "total_charge": str(claim.total_charge),
        "denial_code": claim.denial_code,
        "denial_reason": claim.denial_reason,
        "call_reference_number": claim.call_reference_number,
    }


@pytest.fixture
def claim(practice):
    return ClaimFactory(practice=practice, provider=ProviderFactory(practice=practice), total_charge=Decimal("250"))


def test_it_shows_the_form_why_a_code_is_not_billable(owner_client, claim, icd10):
    response = owner_client.post(f"/claims/{claim.pk}/edit/", _form_data(claim, "E11.9, E11"))

    assert response.status_code == 200
    assert E11_HEADER in response.content.decode()
    claim.refresh_from_db()
    assert claim.diagnosis_codes == ["E11.9"]


def test_it_saves_codes_typed_without_the_dot(owner_client, claim, icd10):
    owner_client.post(f"/claims/{claim.pk}/edit/", _form_data(claim, "e119, u071"))

    claim.refresh_from_db()
    assert claim.diagnosis_codes == ["E11.9", "U07.1"]


def test_it_saves_any_code_of_the_right_shape_without_a_code_set(owner_client, claim):
    owner_client.post(f"/claims/{claim.pk}/edit/", _form_data(claim, "E11.99, U07.1"))

    claim.refresh_from_db()
    assert claim.diagnosis_codes == ["E11.99", "U07.1"]


# --- the API


def _claim_body(policy, codes: list[str]) -> dict:
    return {
        "claim_number": "CLM-ICD",
        "patient": policy.patient_id,
        "payer": policy.payer_id,
        "service_date_from": "2026-09-14",
        "diagnosis_codes": codes,
        "total_charge": "100.00",
    }


def test_it_answers_the_api_with_the_position_of_each_refused_code(api, practice, icd10):
    policy = InsurancePolicyFactory(practice=practice)

    response = api.post("/api/v1/claims", _claim_body(policy, ["E11.9", "E11", "E11.99"]), format="json")

    assert response.status_code == 400
    assert response.json() == {"diagnosis_codes": {"1": [E11_HEADER], "2": [UNKNOWN]}}
    assert not Claim.objects.exists()


def test_it_creates_a_claim_with_billable_codes_through_the_api(api, practice, icd10):
    policy = InsurancePolicyFactory(practice=practice)

    response = api.post("/api/v1/claims", _claim_body(policy, ["e119", "U07.1"]), format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["diagnosis_codes"] == ["E11.9", "U07.1"]


# --- the import


@pytest.fixture
def aetna(practice):
    return PayerFactory(practice=practice, name="Aetna", payer_id="60054")


ROWS = (
    "A-1,Maria Lopez,03/14/1980,09/01/2026,100,,,60054,W1,99213,E119\n"
    "A-2,Maria Lopez,03/14/1980,09/02/2026,100,,,60054,W1,99213,E11\n"
    "A-3,Maria Lopez,03/14/1980,09/03/2026,100,,,60054,W1,99213,E11.99 I10\n"
    "A-4,Maria Lopez,03/14/1980,09/04/2026,100,,,60054,W1,99213,U07.1\n"
)


def test_it_rejects_import_rows_whose_codes_the_code_set_refuses(practice, owner, aetna, icd10):
    result = run(practice, owner, csv_file(ROWS))

    assert (result.imported_count, result.rejected_count) == (2, 2)
    assert sorted(Claim.objects.values_list("claim_number", flat=True)) == ["A-1", "A-4"]
    errors = {e.row_number: (e.column, e.value, e.message) for e in ClaimImportError.objects.all()}
    assert errors == {3: ("ICD10", "E11", E11_HEADER), 4: ("ICD10", "E11.99, I10", UNKNOWN)}


def test_it_looks_up_the_codes_once_per_batch(practice, owner, aetna, icd10, monkeypatch):
    monkeypatch.setattr(engine, "BATCH_SIZE", 2)

    with CaptureQueriesContext(connection) as queries:
        result = run(practice, owner, csv_file(ROWS))

    lookups = [q["sql"] for q in queries.captured_queries if 'FROM "billingpulse_diagnosiscode"' in q["sql"]]
    code_sets = [q["sql"] for q in queries.captured_queries if 'FROM "billingpulse_diagnosiscodeset"' in q["sql"]]
    assert (result.imported_count, result.rejected_count) == (2, 2)
    assert len(lookups) == 2  # two batches
    assert len(code_sets) == 1  # once per run


def test_it_imports_codes_of_the_right_shape_without_a_code_set(practice, owner, aetna):
    result = run(practice, owner, csv_file(ROWS))

    assert (result.imported_count, result.rejected_count) == (4, 0)
    assert Claim.objects.get(claim_number="A-3").diagnosis_codes == ["E11.99", "I10"]
