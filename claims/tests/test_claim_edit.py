from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billing.models import LedgerEntry
from billingpulse.tests.factories import ProviderFactory
from claims.models import ClaimEvent
from claims.tests.factories import ClaimFactory, LedgerClaimFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider(practice):
    return ProviderFactory(practice=practice)


@pytest.fixture
def claim(practice, provider):
    return ClaimFactory(practice=practice, provider=provider, total_charge=Decimal("250.00"))


def _data(claim, **changes) -> dict:
    data = {
        "provider": claim.provider_id or "",
        "claim_type": claim.claim_type,
        "claim_form": claim.claim_form,
        "service_date_from": claim.service_date_from.isoformat(),
        "service_date_to": "",
        "diagnosis_codes": ", ".join(claim.diagnosis_codes),
        "total_charge": str(claim.total_charge),
        "allowed_amount": "",
        "denial_code": claim.denial_code,
        "denial_reason": claim.denial_reason,
        "next_follow_up_date": "",
        "call_reference_number": claim.call_reference_number,
    }
    return {**data, **changes}


def _url(claim) -> str:
    return f"/claims/{claim.pk}/edit/"


def test_it_shows_the_form_with_codes_as_text(owner_client, practice):
    claim = ClaimFactory(practice=practice, diagnosis_codes=["E11.9", "I10"])

    response = owner_client.get(_url(claim))

    assert response.status_code == 200
    assert b'value="E11.9, I10"' in response.content


def test_it_saves_changes_and_notes_them_on_the_timeline(owner_client, owner, claim):
    response = owner_client.post(
        _url(claim),
        _data(
            claim,
            diagnosis_codes="e11.9; m54.5  E11.9",
            allowed_amount="180.00",
            denial_code="co16",
            next_follow_up_date="2026-12-01",
        ),
    )

    assert response.status_code == 302
    assert response["Location"] == f"/claims/{claim.pk}/"
    claim.refresh_from_db()
    assert claim.diagnosis_codes == ["E11.9", "M54.5"]
    assert claim.allowed_amount == Decimal("180.00")
    assert claim.denial_code == "CO-16"
    assert claim.next_follow_up_date == date(2026, 12, 1)
    event = ClaimEvent.objects.get(claim=claim)
    assert event.kind == "updated" and event.actor == owner
    assert "ICD-10 codes" in event.message and "denial code" in event.message


def test_it_posts_a_changed_charge_to_the_ledger_as_a_correction(owner_client, owner, practice, provider):
    claim = LedgerClaimFactory(practice=practice, provider=provider, total_charge=Decimal("250.00"))

    response = owner_client.post(_url(claim), _data(claim, total_charge="275.50", charge_reason="Missed a unit"))

    assert response.status_code == 302
    claim.refresh_from_db()
    assert (claim.total_charge, claim.balance, claim.paid_amount) == (Decimal("275.50"), Decimal("275.50"), 0)
    correction = claim.ledger.order_by("pk").last()
    assert (correction.kind, correction.source, correction.created_by) == ("charge", "manual", owner)
    assert correction.memo == "Charge corrected from $250.00 to $275.50: Missed a unit"
    assert {(e.account, e.amount) for e in correction.entries.all()} == {
        ("primary_ar", Decimal("25.50")),
        ("charges", Decimal("-25.50")),
    }
    charges = sum(e.amount for e in LedgerEntry.objects.filter(claim=claim, account="charges"))
    assert -charges == claim.total_charge
    assert ClaimEvent.objects.get(claim=claim).message == "Changed total charge."


def test_it_posts_a_lowered_charge_and_a_resubmit_posts_nothing_more(owner_client, practice, provider):
    claim = LedgerClaimFactory(practice=practice, provider=provider, total_charge=Decimal("250.00"))
    data = _data(claim, total_charge="200")

    owner_client.post(_url(claim), data)
    owner_client.post(_url(claim), data)

    claim.refresh_from_db()
    assert (claim.total_charge, claim.balance) == (Decimal("200.00"), Decimal("200.00"))
    assert claim.ledger.count() == 2
    assert claim.ledger.order_by("pk").last().memo == "Charge corrected from $250.00 to $200.00"


def test_it_never_saves_money_columns_from_the_form(owner_client, practice, provider):
    claim = LedgerClaimFactory(practice=practice, provider=provider, total_charge=Decimal("250.00"), paid_amount="100")

    owner_client.post(_url(claim), _data(claim, paid_amount="0", balance="0", denial_reason="Late"))

    claim.refresh_from_db()
    assert (claim.paid_amount, claim.balance, claim.denial_reason) == (Decimal("100.00"), Decimal("150.00"), "Late")


def test_it_records_nothing_when_nothing_changed(owner_client, claim):
    owner_client.post(_url(claim), _data(claim, diagnosis_codes="e11.9"))

    assert not ClaimEvent.objects.exists()


def test_it_lets_staff_edit_claims(teammate_client, claim):
    teammate_client.post(_url(claim), _data(claim, call_reference_number="REF-1"))

    claim.refresh_from_db()
    assert claim.call_reference_number == "REF-1"


def test_it_rejects_codes_that_are_not_icd10(owner_client, claim):
    response = owner_client.post(_url(claim), _data(claim, diagnosis_codes="E11.9, 99213, E1.19"))

    assert response.status_code == 200
    assert b"99213, E1.19 are not ICD-10" in response.content
    claim.refresh_from_db()
    assert claim.diagnosis_codes == ["E11.9"]


def test_it_rejects_negative_amounts(owner_client, claim):
    response = owner_client.post(_url(claim), _data(claim, total_charge="-5.00", allowed_amount="-1"))

    assert response.content.count(b"Amounts cannot be negative.") == 2
    claim.refresh_from_db()
    assert claim.total_charge == Decimal("250.00")


def test_it_rejects_a_last_date_of_service_before_the_first(owner_client, claim):
    response = owner_client.post(
        _url(claim), _data(claim, service_date_from="2026-09-14", service_date_to="2026-09-13")
    )

    assert b"cannot be before the first" in response.content


def test_it_rejects_another_practices_provider(owner_client, claim, other_practice, provider):
    foreign = ProviderFactory(practice=other_practice)

    response = owner_client.post(_url(claim), _data(claim, provider=foreign.pk))

    assert b"Select a valid choice" in response.content
    claim.refresh_from_db()
    assert claim.provider == provider


def test_it_offers_only_the_practices_active_providers_and_the_current_one(owner_client, claim, practice, provider):
    provider.is_active = False
    provider.save()
    active = ProviderFactory(practice=practice, last_name="Active")
    retired = ProviderFactory(practice=practice, last_name="Retired", is_active=False)

    body = owner_client.get(_url(claim)).content.decode()

    assert f'value="{provider.pk}"' in body
    assert f'value="{active.pk}"' in body
    assert f'value="{retired.pk}"' not in body


def test_it_rejects_a_denial_code_it_cannot_read(owner_client, claim):
    response = owner_client.post(_url(claim), _data(claim, denial_code="nope"))

    assert b"like CO-16" in response.content


def test_it_hides_another_practices_claim(owner_client, other_practice):
    claim = ClaimFactory(practice=other_practice)

    assert owner_client.get(_url(claim)).status_code == 404
    assert owner_client.post(_url(claim), _data(claim, call_reference_number="X")).status_code == 404


def test_it_answers_404_for_an_unknown_claim(owner_client):
    assert owner_client.get("/claims/999999/edit/").status_code == 404


def test_it_rejects_other_methods(owner_client, claim):
    assert owner_client.delete(_url(claim)).status_code == 405


def test_it_sends_anonymous_users_to_sign_in(client, claim):
    response = client.get(_url(claim))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
