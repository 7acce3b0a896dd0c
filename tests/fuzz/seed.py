"""A practice with a few rows of every kind, so that fuzzed path ids and foreign keys can hit real rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from ai.tests.factories import PayerPolicyFactory
from billingpulse.models import Practice, User
from billingpulse.tests.factories import PatientFactory, PracticeFactory, ProviderFactory, UserFactory
from claims.models import Claim
from claims.tests.factories import (
    ClaimEventFactory,
    ClaimFactory,
    ClaimImportErrorFactory,
    ClaimImportFactory,
    ClaimLineFactory,
    InsurancePolicyFactory,
    PayerFactory,
)
from telephony.models import Call, ScheduledCall
from telephony.tests.factories import CallEventFactory, CallFactory, ScheduledCallFactory


@dataclass
class Seeded:
    practice: Practice
    admin: User
    staff: User
    other_practice: Practice
    other_ids: dict[str, int]


CSV_UPLOAD = (
    b"Claim #,Patient Last,Patient First,DOB,DOS,Payer,Payer ID,Charge,CPT,Status\n"
    b"CLM-UP-1,Lopez,Maria,1980-02-03,2026-09-01,Aetna,60054,125.00,99213,Denied\n"
    b"CLM-UP-2,Nguyen,Anh,1975-11-30,2026-09-02,Aetna,60054,250.00,99214,Submitted\n"
)


def seed_practice() -> Seeded:
    practice = PracticeFactory(name="Fuzz Family Clinic", npi="1234567893")
    admin = UserFactory(email="admin@fuzz.example", practice=practice, role=User.Role.ADMIN)
    staff = UserFactory(email="staff@fuzz.example", practice=practice, role=User.Role.STAFF)
    providers = ProviderFactory.create_batch(2, practice=practice)
    patients = PatientFactory.create_batch(3, practice=practice)
    payers = PayerFactory.create_batch(2, practice=practice)
    policies = [
        InsurancePolicyFactory(practice=practice, patient=patient, payer=payers[i % 2])
        for i, patient in enumerate(patients)
    ]
    statuses = [Claim.Status.SUBMITTED, Claim.Status.DENIED, Claim.Status.PAID, Claim.Status.DRAFT]
    claims = []
    for i, status in enumerate(statuses):
        claim = ClaimFactory(
            practice=practice,
            patient=patients[i % 3],
            payer=policies[i % 3].payer,
            policy=policies[i % 3],
            provider=providers[i % 2],
            status=status,
            denial_code="16" if status == Claim.Status.DENIED else "",
            next_follow_up_date=timezone.localdate() + timedelta(days=i - 1),
        )
        ClaimLineFactory(claim=claim, line_number=1)
        ClaimLineFactory(claim=claim, line_number=2, procedure_code="99214")
        ClaimEventFactory(claim=claim)
        claims.append(claim)
    CallFactory(practice=practice, claim=claims[0], status=Call.Status.ENDED, review_status=Call.ReviewStatus.PENDING)
    CallFactory(practice=practice, claim=claims[1], status=Call.Status.FAILED)
    live = CallFactory(practice=practice, claim=claims[2], status=Call.Status.IN_PROGRESS)
    CallEventFactory(call=live)
    ScheduledCallFactory(practice=practice, claim=claims[0])
    ScheduledCallFactory(practice=practice, claim=claims[1], status=ScheduledCall.Status.CANCELED)
    done = ClaimImportFactory(practice=practice, uploaded_by=admin)
    ClaimImportErrorFactory(claim_import=done)
    _import_waiting_for_mapping(practice, admin, payers[0])
    PayerPolicyFactory(practice=practice, payer=payers[0].name)
    _clinical(practice, admin, providers[0], patients)
    # Rows nothing refers to, so that deleting one can succeed.
    PatientFactory(practice=practice, last_name="Spare")
    PayerFactory(practice=practice, name="Spare Payer")
    ProviderFactory(practice=practice, last_name="Spare")

    other = PracticeFactory(name="Other Practice")
    other_claim = ClaimFactory(practice=other)
    other_ids = {
        "claim": other_claim.pk,
        "call": CallFactory(practice=other, claim=other_claim).pk,
        "payer": other_claim.payer_id,
        "patient": other_claim.patient_id,
    }
    return Seeded(practice=practice, admin=admin, staff=staff, other_practice=other, other_ids=other_ids)


def _clinical(practice, admin, provider, patients) -> None:
    """Notes in each state, by a provider who is the admin's own sign-in, and an appointment."""
    from billingpulse.tests.factories import PASSWORD
    from clinical import services
    from clinical.tests.factories import AppointmentFactory, ClinicalNoteFactory, NoteTemplateFactory

    provider.user, provider.can_cosign = admin, True
    provider.save(update_fields=["user", "can_cosign"])
    NoteTemplateFactory(practice=practice)
    appointment = AppointmentFactory(practice=practice, patient=patients[0], provider=provider)
    notes = [
        ClinicalNoteFactory(
            practice=practice, patient=patients[i], provider=provider, author=admin, appointment=appointment
        )
        for i in range(3)
    ]
    actor = services.Actor(admin)
    for signed in notes[1:]:
        services.sign(signed, actor=actor, password=PASSWORD, meaning="author")
    services.lock(notes[2], actor=actor)
    services.add_addendum(notes[2], actor=actor, password=PASSWORD, text="Addendum for the fuzz practice.")


def _import_waiting_for_mapping(practice, user, payer) -> None:
    from claims.importing import engine

    upload = SimpleUploadedFile("ar-export.csv", CSV_UPLOAD, content_type="text/csv")
    engine.inspect_upload(practice=practice, user=user, upload=upload, default_payer=payer)
