"""Data the billing page tests share: patients with claims whose charges are posted."""

from __future__ import annotations

from decimal import Decimal

from billing import services
from billingpulse.tests.factories import PatientFactory
from claims.models import Claim
from claims.tests.factories import ClaimFactory, PayerFactory


def patient_with_claims(practice, *charges: str, payer=None, **patient_fields):
    """A patient of ``practice`` with one claim per charge, each charge posted through the ledger."""
    patient = PatientFactory(practice=practice, **patient_fields)
    payer = payer or PayerFactory(practice=practice, name="Aetna")
    claims = []
    for charge in charges:
        claim = ClaimFactory(practice=practice, patient=patient, payer=payer, total_charge=Decimal("0.00"))
        services.charge(claim, Decimal(charge), key=f"test-charge:{claim.pk}")
        claims.append(Claim.objects.get(pk=claim.pk))
    return patient, claims


def fresh(claim: Claim) -> Claim:
    return Claim.objects.get(pk=claim.pk)
