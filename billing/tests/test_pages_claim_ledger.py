"""The "Ledger" card on the claim page: every transaction, the balance after each, expected payments."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing import services
from billing.tests.test_pages_support import patient_with_claims
from claims.tests.factories import ClaimFactory

pytestmark = pytest.mark.django_db


def _insurance_payment(practice, claim, amount, key):
    return services.record_payment(
        practice,
        key=key,
        source="primary",
        method="eft",
        amount=Decimal(amount),
        payment_date=date(2026, 11, 2),
        allocations=[services.Allocation(claim, Decimal(amount))],
        payer=claim.payer,
    )


def test_it_lists_every_transaction_with_the_balance_after_each(owner_client, practice):
    _, (claim,) = patient_with_claims(practice, "250.00")
    _insurance_payment(practice, claim, "180.00", "p1")
    services.adjust(claim, Decimal("30.00"), key="a1", reason="contractual")

    response = owner_client.get(f"/claims/{claim.pk}/")

    body = response.content.decode()
    assert 'id="claim-ledger"' in body
    assert [t.claim_balance_after for t in response.context["claim_ledger"]] == [
        Decimal("250.00"),
        Decimal("70.00"),
        Decimal("40.00"),
    ]
    for text in ["Charge", "Payment", "Adjustment", "$180.00", "$70.00", "$40.00"]:
        assert text in body, text
    assert f"/billing/patients/{claim.patient_id}/payments/new/?next=/claims/{claim.pk}/" in body
    assert f"/billing/patients/{claim.patient_id}/adjust/?claim={claim.pk}" in body


def test_it_flags_a_payment_that_differs_from_what_the_payer_said(owner_client, practice):
    _, (claim,) = patient_with_claims(practice, "250.00")
    services.expect_payment(claim, amount=Decimal("200.00"), reference="81277")
    _insurance_payment(practice, claim, "180.00", "p1")

    body = owner_client.get(f"/claims/{claim.pk}/").content.decode()

    assert 'Payer said $200.00 (check/EFT <span class="mono">81277</span>), posted $180.00.' in body


def test_it_shows_a_payment_still_expected(owner_client, practice):
    _, (claim,) = patient_with_claims(practice, "250.00")
    services.expect_payment(claim, amount=Decimal("312.40"), reference="81277")

    body = owner_client.get(f"/claims/{claim.pk}/").content.decode()

    assert "Expected: $312.40" in body and "Not posted yet." in body


def test_it_says_when_nothing_is_posted(owner_client, practice):
    claim = ClaimFactory(practice=practice)

    assert "Nothing posted to this claim yet." in owner_client.get(f"/claims/{claim.pk}/").content.decode()


def test_it_links_the_patient_to_their_account(owner_client, practice):
    patient, (claim,) = patient_with_claims(practice, "250.00")

    assert f'href="/billing/patients/{patient.pk}/"' in owner_client.get(f"/claims/{claim.pk}/").content.decode()


def test_it_reads_the_ledger_in_as_many_queries_however_long_it_is(
    owner_client, practice, django_assert_max_num_queries
):
    _, (claim,) = patient_with_claims(practice, "250.00")
    _insurance_payment(practice, claim, "10.00", "p1")
    owner_client.get(f"/claims/{claim.pk}/")  # warm up sessions and caches
    with CaptureQueriesContext(connection) as short:
        owner_client.get(f"/claims/{claim.pk}/")
    for n in range(2, 8):
        _insurance_payment(practice, claim, "10.00", f"p{n}")

    with django_assert_max_num_queries(len(short)):
        owner_client.get(f"/claims/{claim.pk}/")


def test_it_links_patient_names_from_the_worklist(owner_client, practice):
    patient, _ = patient_with_claims(practice, "250.00")

    assert f'href="/billing/patients/{patient.pk}/"' in owner_client.get("/claims/").content.decode()
