"""Dates, numbers and text stay within bounds at every door: models, forms, the API."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.apps import apps
from django.db import models

from billingpulse.validators import LATEST_DATE, add_days, validate_date_in_range
from claims.models import Claim, Payer
from claims.tests.factories import ClaimFactory, InsurancePolicyFactory, PayerFactory

OUR_APPS = {"billingpulse", "claims", "billing", "clinical", "documents", "telephony", "ai"}
OUT_OF_RANGE = "Enter a date between 01/01/1900 and 12/31/2199."


def test_it_bounds_every_date_a_person_can_enter():
    unbounded = [
        f"{model.__name__}.{field.name}"
        for model in apps.get_models()
        if model._meta.app_label in OUR_APPS
        for field in model._meta.get_fields()
        if type(field) is models.DateField and field.editable and validate_date_in_range not in field.validators
    ]

    assert unbounded == []


def test_it_bounds_every_free_text_a_person_can_enter():
    # Text written by people through a form or the API; call transcripts and machine text are
    # bounded by the webhook's body limit instead.
    unbounded = [
        f"{model.__name__}.{field.name}"
        for model in apps.get_models()
        if model._meta.app_label in OUR_APPS
        for field in model._meta.get_fields()
        if isinstance(field, models.TextField) and field.editable and not field.max_length
    ]

    assert set(unbounded) <= {
        "Call.last_error",
        "Call.transcript",
        "Call.summary",
        "ClaimEvent.message",
        "ClaimImport.failure_message",
    }


def test_it_holds_date_arithmetic_at_the_last_date_instead_of_overflowing():
    assert add_days(date(9999, 12, 1), 3_000_000) == date.max
    assert add_days(date(2026, 1, 1), 30) == date(2026, 1, 31)
    assert add_days(date(1, 1, 2), -5) == date.min


@pytest.mark.django_db
def test_it_keeps_a_claims_deadline_a_date_whatever_a_stored_payer_says(practice):
    # A payer saved before the bound existed must not make every later claim for it fail.
    payer = PayerFactory(practice=practice)
    Payer.objects.filter(pk=payer.pk).update(timely_filing_days=3_000_000)

    claim = ClaimFactory(practice=practice, payer=Payer.objects.get(pk=payer.pk), service_date_from=LATEST_DATE)

    assert claim.timely_filing_deadline == date.max


@pytest.mark.django_db
@pytest.mark.parametrize("service_date", ["9999-12-31", "0001-01-01", "1899-12-31", "2200-01-01"])
def test_it_refuses_a_claim_dated_out_of_range_through_the_api(api, practice, service_date):
    policy = InsurancePolicyFactory(practice=practice)
    body = {
        "claim_number": "CLM-1",
        "patient": policy.patient_id,
        "payer": policy.payer_id,
        "service_date_from": service_date,
        "total_charge": "10.00",
    }

    response = api.post("/api/v1/claims", body, format="json")

    assert response.status_code == 400
    assert response.json() == {"service_date_from": [OUT_OF_RANGE]}
    assert not Claim.objects.exists()


@pytest.mark.django_db
def test_it_refuses_a_filing_limit_that_would_put_deadlines_past_any_date(api, practice):
    body = {"name": "Aetna", "payer_id": "60054", "timely_filing_days": 3_000_000}

    response = api.post("/api/v1/payers", body, format="json")

    assert response.status_code == 400
    assert response.json() == {"timely_filing_days": ["Ensure this value is less than or equal to 3650."]}


@pytest.mark.django_db
def test_it_refuses_a_far_date_on_the_claim_edit_page(owner_client, practice):
    claim = ClaimFactory(practice=practice)
    data = {
        "claim_number": claim.claim_number,
        "patient": claim.patient_id,
        "payer": claim.payer_id,
        "claim_type": claim.claim_type,
        "claim_form": claim.claim_form,
        "service_date_from": "9999-12-31",
        "diagnosis_codes": "",
        "total_charge": "10.00",
        "paid_amount": "0",
        "adjustment_amount": "0",
    }

    response = owner_client.post(f"/claims/{claim.pk}/edit/", data)

    assert response.status_code == 200
    assert OUT_OF_RANGE.encode() in response.content
    claim.refresh_from_db()
    assert claim.service_date_from != date(9999, 12, 31)


@pytest.mark.django_db
def test_it_refuses_a_follow_up_past_year_9999_through_the_api(api, practice):
    claim = ClaimFactory(practice=practice)

    response = api.post(
        "/api/v1/scheduled-calls", {"claim_id": claim.pk, "call_after": "9999-12-31T23:59:59-12:00"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"call_after": [OUT_OF_RANGE]}


@pytest.mark.django_db
def test_it_refuses_a_follow_up_date_out_of_range_on_the_claim_page(owner_client, practice):
    claim = ClaimFactory(practice=practice)

    response = owner_client.post(
        f"/calls/claims/{claim.pk}/follow-ups/", {"call_date": "9999-12-31", "call_time": "23:59"}, follow=True
    )

    assert OUT_OF_RANGE.encode() in response.content
    assert not claim.scheduled_calls.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/v1/payers", {"name": "Aetna", "payer_id": "60054", "ivr_notes": "x" * 2001}, "ivr_notes"),
        ("/api/v1/knowledge/denial-codes", [{"code": "16", "description": "x" * 2001}], "description"),
        ("/api/v1/knowledge/payer-policies", [{"payer": "Aetna", "text": "x" * 20_001}], "text"),
    ],
)
def test_it_refuses_free_text_past_its_limit_with_a_message(api, url, body, field):
    response = api.post(url, body, format="json")

    assert response.status_code == 400
    errors = str(response.json())
    assert field in errors
    assert re.search(r"(no more than|at most) [0-9]+ characters", errors)


@pytest.mark.django_db
def test_it_refuses_a_megabyte_of_last_call_outcome_on_a_claim(api, practice):
    claim = ClaimFactory(practice=practice)

    response = api.patch(f"/api/v1/claims/{claim.pk}", {"last_call_outcome": "x" * 1_000_000}, format="json")

    assert response.status_code == 400
    assert response.json() == {"last_call_outcome": ["Ensure this field has no more than 2000 characters."]}
