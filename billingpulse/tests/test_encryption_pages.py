"""With ENCRYPT_SENSITIVE_FIELDS on, pages, the API and the admin show the text, and the worklist
still searches, filters and sorts (on columns that are not encrypted)."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.test import Client

from billing.tests.factories import PaymentFactory
from billingpulse.models import User
from claims.tests.factories import ClaimFactory
from claims.worklist import SORTS
from clinical.tests.factories import ClinicalNoteFactory
from telephony.tests.factories import CallFactory

DENIAL = "The payer says the patient's knee brace was not medically necessary."
NEXT = "Send the orthopedic consult from October."


@pytest.fixture(autouse=True)
def _encrypted(settings):
    settings.ENCRYPT_SENSITIVE_FIELDS, settings.ENCRYPTION_KEYS = True, [Fernet.generate_key().decode()]


@pytest.fixture
def claim(practice):
    return ClaimFactory(
        practice=practice,
        claim_number="CLM-777",
        status="denied",
        denial_code="CO-50",
        denial_reason=DENIAL,
        next_steps=NEXT,
        last_call_outcome="Rep Lee confirmed the denial.",
    )


@pytest.fixture
def superuser_client(db) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("ops@billingpulse.example", "an-operator-password"))
    return client


def _stored(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_it_stores_ciphertext_and_shows_text_on_the_claim_page(owner_client, claim):
    assert _stored("claims_claim", "denial_reason", claim.pk).startswith("fe1:")

    page = owner_client.get(f"/claims/{claim.pk}/").content.decode()

    assert "medically necessary" in page and "orthopedic consult" in page and "Rep Lee" in page
    assert "fe1:" not in page


def test_it_still_searches_filters_and_sorts_the_worklist(owner_client, practice, claim):
    ClaimFactory(practice=practice, claim_number="CLM-888", denial_reason="Other reason.")

    searched = owner_client.get("/claims/?q=clm-777&status=all").content.decode()
    by_code = owner_client.get("/claims/?denial_code=CO-50&status=all").content.decode()

    assert "CLM-777" in searched and "CLM-888" not in searched
    assert "CLM-777" in by_code and "CLM-888" not in by_code
    for key in SORTS:
        for sort in (key, f"-{key}"):
            response = owner_client.get(f"/claims/?sort={sort}&status=all")
            assert response.status_code == 200, sort
            assert "CLM-777" in response.content.decode()


def test_it_shows_text_in_the_api(api, practice, claim):
    call = CallFactory(practice=practice, claim=claim, transcript="Rep: the brace was denied.", summary="Denied.")

    claim_json = api.get(f"/api/v1/claims/{claim.pk}").json()
    call_json = api.get(f"/api/v1/calls/{call.pk}").json()
    change = {"denial_reason": "Brace: no prior authorization."}
    patched = api.patch(f"/api/v1/claims/{claim.pk}", change, format="json")

    assert (claim_json["denial_reason"], claim_json["last_call_outcome"]) == (DENIAL, "Rep Lee confirmed the denial.")
    assert (call_json["transcript"], call_json["summary"]) == ("Rep: the brace was denied.", "Denied.")
    assert patched.json()["denial_reason"] == "Brace: no prior authorization."
    assert _stored("claims_claim", "denial_reason", claim.pk).startswith("fe1:")


def test_it_saves_edits_encrypted(owner_client, claim):
    from claims.models import Claim

    form = owner_client.get(f"/claims/{claim.pk}/edit/").context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None and not isinstance(value, list)}
    data.update(next_steps="Call the patient about the brace.", total_charge=str(claim.total_charge))
    data["diagnosis_codes"] = ", ".join(claim.diagnosis_codes)

    response = owner_client.post(f"/claims/{claim.pk}/edit/", data)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Claim.objects.get(pk=claim.pk).next_steps == "Call the patient about the brace."
    assert _stored("claims_claim", "next_steps", claim.pk).startswith("fe1:")


def test_it_shows_text_in_the_admin_and_its_searches_work(superuser_client, practice, claim):
    note = ClinicalNoteFactory(practice=practice, plan="Brace at night for six weeks.")
    PaymentFactory(practice=practice)

    assert (
        DENIAL.replace("'", "&#x27;")
        in superuser_client.get(f"/admin/claims/claim/{claim.pk}/change/").content.decode()
    )
    assert "Brace at night" in superuser_client.get(f"/admin/clinical/clinicalnote/{note.pk}/change/").content.decode()
    for changelist in ("claims/claim", "clinical/clinicalnote", "billing/payment", "billing/journaltransaction"):
        assert superuser_client.get(f"/admin/{changelist}/?q=brace").status_code == 200, changelist
