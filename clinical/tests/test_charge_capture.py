from __future__ import annotations

from decimal import Decimal

import pytest

from billing.verify import verify
from billingpulse.actor import Actor
from claims import services as claims
from claims.models import Claim, ClaimEvent
from claims.status import ClaimStatus
from claims.tests.factories import ClaimFactory, FeeScheduleEntryFactory, InsurancePolicyFactory
from clinical import services
from clinical.models import NoteEvent
from clinical.services import NoteActionError
from clinical.tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def insured(signed_note):
    return InsurancePolicyFactory(practice=signed_note.practice, patient=signed_note.patient)


def _signed(doctor, practice, patient, procedures, diagnoses=("J20.9",)):
    from billingpulse.tests.factories import PASSWORD
    from clinical.tests.factories import ClinicalNoteFactory

    note = ClinicalNoteFactory(
        practice=practice,
        patient=patient,
        provider=doctor.provider,
        procedures=procedures,
        diagnosis_codes=list(diagnoses),
    )
    services.sign(note, actor=Actor(doctor), password=PASSWORD, meaning="author")
    note.refresh_from_db()
    return note


def test_it_turns_a_signed_note_into_a_draft_claim_with_lines_from_the_fee_schedule(signed_note, insured, teammate):
    FeeScheduleEntryFactory(practice=signed_note.practice, code="99213", charge=Decimal("110.00"))

    claim = services.create_claim(signed_note, actor=Actor(teammate))

    assert claim.status == ClaimStatus.DRAFT and claim.claim_number == "BP000001"
    assert (claim.patient, claim.provider, claim.payer, claim.policy) == (
        signed_note.patient,
        signed_note.provider,
        insured.payer,
        insured,
    )
    assert claim.service_date_from == signed_note.note_date and claim.diagnosis_codes == ["J20.9"]
    line = claim.lines.get()
    assert (line.procedure_code, line.charge, line.diagnosis_pointers, line.place_of_service) == (
        "99213",
        Decimal("110.00"),
        "A",
        "11",
    )
    assert claim.total_charge == Decimal("0.00") and not claim.ledger.exists()  # posted when submitted
    signed_note.refresh_from_db()
    assert signed_note.claim == claim and claim.clinical_note == signed_note
    assert signed_note.events.filter(kind=NoteEvent.Kind.CLAIM_CREATED).exists()
    assert services.create_claim(signed_note, actor=Actor(teammate)) == claim  # once only
    assert all(check.intact for check in services.verify(signed_note))


def test_it_posts_the_draft_claims_charge_when_it_is_submitted(doctor, practice, teammate):
    patient = InsurancePolicyFactory(practice=practice).patient
    FeeScheduleEntryFactory(practice=practice, code="99213", charge=Decimal("110.00"))
    FeeScheduleEntryFactory(practice=practice, code="94640", modifier="59", charge=Decimal("45.00"))
    note = _signed(
        doctor,
        practice,
        patient,
        [
            {"code": "99213", "modifiers": ["25"], "units": 1, "pointers": "A"},
            {"code": "94640", "modifiers": ["59"], "units": 2, "pointers": "A"},
        ],
    )
    claim = services.create_claim(note, actor=Actor(teammate))

    claims.change_status(claim, ClaimStatus.SUBMITTED, actor=teammate)

    claim.refresh_from_db()
    assert claim.total_charge == Decimal("200.00") and claim.balance == Decimal("200.00")
    assert verify(practice) == []


def test_it_charges_zero_and_says_so_for_a_code_without_a_fee(signed_note, insured, teammate):
    claim = services.create_claim(signed_note, actor=Actor(teammate))
    assert claim.lines.get().charge == Decimal("0.00")
    assert "No fee on file for 99213" in claim.events.get(kind=ClaimEvent.Kind.CREATED).message


def test_it_marks_a_telehealth_visit_as_at_home(doctor, practice, teammate):
    appointment = AppointmentFactory(practice=practice, provider=doctor.provider, kind="telehealth")
    patient = InsurancePolicyFactory(practice=practice, patient=appointment.patient).patient
    note = _signed(doctor, practice, patient, [{"code": "99213", "modifiers": [], "units": 1, "pointers": "A"}])
    note.appointment = appointment  # the appointment link is not sealed content
    note.save(update_fields=["appointment"])

    claim = services.create_claim(note, actor=Actor(teammate))

    assert claim.lines.get().place_of_service == "10" and list(appointment.claims.all()) == [claim]


def test_it_skips_claim_numbers_already_taken(signed_note, insured, teammate):
    ClaimFactory(practice=signed_note.practice, claim_number="BP000001")
    assert services.create_claim(signed_note, actor=Actor(teammate)).claim_number == "BP000002"


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("draft", "sign it first"),
        ("uninsured", "has no insurance policy on file"),
        ("no_procedures", "no procedure codes to bill"),
    ],
)
def test_it_refuses_a_note_it_cannot_bill_and_records_the_attempt(note, doctor, teammate, setup, message):
    from billingpulse.tests.factories import PASSWORD

    if setup != "uninsured":
        InsurancePolicyFactory(practice=note.practice, patient=note.patient)
    if setup == "no_procedures":
        services.save_draft(note, {"procedures": []}, actor=Actor(doctor))
    if setup != "draft":
        services.sign(note, actor=Actor(doctor), password=PASSWORD, meaning="author")

    with pytest.raises(NoteActionError, match=message):
        services.create_claim(note, actor=Actor(teammate))

    assert not Claim.objects.exists()
    assert note.events.filter(kind=NoteEvent.Kind.REFUSED, actor=teammate).exists()


def test_it_prices_every_line_from_one_read_of_the_fee_schedule(doctor, practice, teammate):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    patient = InsurancePolicyFactory(practice=practice).patient
    procedures = [{"code": f"9921{n}", "modifiers": [], "units": 1, "pointers": "A"} for n in range(1, 6)]
    note = _signed(doctor, practice, patient, procedures)

    with CaptureQueriesContext(connection) as captured:
        services.create_claim(note, actor=Actor(teammate))

    fee_reads = [q for q in captured.captured_queries if "claims_feescheduleentry" in q["sql"]]
    assert len(fee_reads) == 1
