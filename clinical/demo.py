"""Demo clinical records: provider sign-ins, a note template, a fee schedule, visits past and to
come, and notes in every state (draft, in progress, signed, co-signed, locked, amended with an
addendum), one of them turned into a claim by charge capture.

Everything goes through ``clinical.services`` as a provider's clicks would, signatures included
(re-authenticated with the demo password). Made once: a practice that has notes gets none.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from billingpulse.actor import Actor
from billingpulse.models import Patient, Practice, Provider, User
from claims.models import FeeScheduleEntry, InsurancePolicy
from clinical import services
from clinical.models import Appointment, ClinicalNote, NoteTemplate

# The demo admin is also a physician and the practice's supervising provider; Dr. Okafor signs in too.
ADMIN_PROVIDER = ("Jordan", "Avery", "MD", "1345678902")
OKAFOR_EMAIL = "dr.okafor@riverbend.example"
FEES = {
    "99203": "165.00",
    "99213": "110.00",
    "99214": "160.00",
    "93000": "45.00",
    "94640": "40.00",
    "80053": "38.00",
    "36415": "12.00",
}
TEMPLATE = {
    "subjective": "Chief complaint: \nOnset and duration: \nAssociated symptoms: \nPertinent history: ",
    "objective": "Vitals: BP / , HR , Temp , SpO2 %\nGeneral: \nExam: ",
    "assessment": "",
    "plan": "Treatment: \nPatient education: \nFollow-up: ",
}
VISIT = {
    "subjective": "Cough and congestion for five days, worse at night. No fever. Non-smoker.",
    "objective": "Temp 98.9 F, SpO2 98%. Scattered rhonchi, no wheeze. Throat mildly erythematous.",
    "assessment": "Acute bronchitis.",
    "plan": (
        "Supportive care, fluids, honey for cough. Nebulizer treatment given in clinic. "
        "Return if fever or shortness of breath."
    ),
    "diagnosis_codes": ["J20.9", "R05.1"],
    "procedures": [
        {"code": "99213", "modifiers": ["25"], "units": 1, "pointers": "AB"},
        {"code": "94640", "modifiers": [], "units": 1, "pointers": "A"},
    ],
    "medications": ["Benzonatate 100 mg, one capsule three times daily as needed for cough"],
}


def seed_clinical(practice: Practice, admin: User, password: str) -> None:
    admin_provider = _provider_for(practice, admin, *ADMIN_PROVIDER, can_cosign=True)
    okafor = Provider.objects.get(practice=practice, last_name="Okafor")
    okafor_user = _user_for(practice, OKAFOR_EMAIL, "Maya Okafor", password)
    if okafor.user_id is None:
        okafor.user = okafor_user
        okafor.save(update_fields=["user", "updated_at"])
    for code, charge in FEES.items():
        FeeScheduleEntry.objects.get_or_create(
            practice=practice, code=code, modifier="", defaults={"charge": Decimal(charge)}
        )
    template, _ = NoteTemplate.objects.get_or_create(
        practice=practice, name="Acute visit (SOAP)", defaults={"note_type": "soap", "sections": TEMPLATE}
    )
    if ClinicalNote.objects.filter(practice=practice).exists():
        return
    patients = list(Patient.objects.filter(practice=practice).order_by("account_number"))
    me, okafor_actor = Actor(admin), Actor(okafor_user)
    zone = ZoneInfo(practice.time_zone)
    today = timezone.localdate(timezone=zone)

    def visit(patient: Patient, provider: Provider, days_ago: int, hour: int, **fields) -> Appointment:
        starts_at = datetime.combine(today - timedelta(days=days_ago), time(hour), tzinfo=zone)
        return services.schedule_appointment(
            practice, patient=patient, provider=provider, starts_at=starts_at, actor=me, **fields
        )

    def note(patient: Patient, provider: Provider, actor: Actor, days_ago: int, **content) -> ClinicalNote:
        appointment = visit(patient, provider, days_ago, 9 + days_ago % 8, reason="Cough")
        services.move_appointment(appointment, Appointment.Status.COMPLETED, actor=actor)
        started = services.start_note(
            practice,
            patient=patient,
            provider=provider,
            actor=actor,
            template=template,
            appointment=appointment,
        )
        return services.save_draft(started, content, actor=actor) if content else started

    # A fresh draft from the template, and one in progress.
    note(patients[0], admin_provider, me, 0)
    note(patients[1], admin_provider, me, 1, **{**VISIT, "assessment": "", "plan": ""})
    # Signed by its author; and a note of Dr. Okafor's, signed and co-signed by the supervising provider.
    signed = note(patients[2], admin_provider, me, 3, **VISIT)
    services.sign(signed, actor=me, password=password, meaning="author")
    cosigned = note(patients[3], okafor, okafor_actor, 4, **VISIT, chief_complaint="Persistent cough")
    services.sign(cosigned, actor=okafor_actor, password=password, meaning="author")
    services.sign(cosigned, actor=me, password=password, meaning="cosigner")
    # Locked; then amended (the correction signed) with an addendum on the new version.
    locked = note(patients[4], admin_provider, me, 6, **VISIT)
    services.sign(locked, actor=me, password=password, meaning="author")
    services.lock(locked, actor=me)
    amended = note(patients[5], admin_provider, me, 8, **VISIT)
    services.sign(amended, actor=me, password=password, meaning="author")
    correction = services.amend(amended, actor=me, reason="Nebulizer treatment was not given at this visit.")
    services.save_draft(
        correction,
        {
            "plan": VISIT["plan"].replace(" Nebulizer treatment given in clinic.", ""),
            "procedures": VISIT["procedures"][:1],
        },
        actor=me,
    )
    services.sign(correction, actor=me, password=password, meaning="author")
    services.add_addendum(correction, actor=me, password=password, text="Chest X-ray ordered by phone: clear.")
    # Visits still to come.
    visit(patients[6], okafor, -1, 10, kind=Appointment.Kind.ANNUAL, reason="Annual exam")
    visit(patients[7], admin_provider, -2, 15, kind=Appointment.Kind.TELEHEALTH, reason="Blood pressure follow-up")
    # Charge capture: the signed note of an insured patient becomes a draft claim.
    if InsurancePolicy.objects.filter(patient=signed.patient).exists():
        services.create_claim(signed, actor=me)


def _user_for(practice: Practice, email: str, name: str, password: str) -> User:
    user, created = User.objects.get_or_create(
        email=email, defaults={"practice": practice, "full_name": name, "role": User.Role.STAFF}
    )
    if created or not user.has_usable_password():
        user.set_password(password)
        user.save(update_fields=["password"])
    return user


def _provider_for(
    practice: Practice, user: User, first: str, last: str, credentials: str, npi: str, **flags
) -> Provider:
    provider, _ = Provider.objects.get_or_create(
        practice=practice,
        npi=npi,
        defaults={"first_name": first, "last_name": last, "credentials": credentials, "user": user, **flags},
    )
    return provider
