"""Demo data for trying BillingPulse: one practice, its admin, providers, patients, payers.

Running it again changes nothing but the admin's password, which is reset to the given
one so the sign-in that ``make run`` prints always works.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal

from django.db import transaction

from billingpulse.models import Patient, Practice, Provider, User
from claims.models import Claim, ClaimEvent, ClaimLine, InsurancePolicy, Payer
from claims.status import ClaimStatus

DEMO_PRACTICE = {
    "name": "Riverbend Family Medicine",
    "npi": "1234567893",
    "tax_id": "74-1234567",
    "address_line1": "1200 Riverside Drive, Suite 300",
    "city": "Austin",
    "state": "TX",
    "zip_code": "78704",
    "phone": "+15125550100",
    "time_zone": "America/Chicago",
    "notification_email": "billing@riverbend.example",
}
DEMO_EMAIL = "admin@riverbend.example"
DEMO_PASSWORD = "riverbend-demo-2026"

PROVIDERS = [
    ("Maya", "Okafor", "MD", "1987654328"),
    ("Daniel", "Reyes", "DO", "1456789019"),
    ("Priya", "Natarajan", "NP", "1678901236"),
]
PATIENTS = [
    ("Eleanor", "Whitfield", date(1954, 3, 14), "F", "RB-10001"),
    ("Marcus", "Bell", date(1978, 11, 2), "M", "RB-10002"),
    ("Sofia", "Alvarez", date(1991, 6, 23), "F", "RB-10003"),
    ("James", "Thornton", date(1962, 1, 30), "M", "RB-10004"),
    ("Aisha", "Rahman", date(1985, 9, 9), "F", "RB-10005"),
    ("Robert", "Nguyen", date(1949, 12, 5), "M", "RB-10006"),
    ("Grace", "Kowalski", date(2001, 4, 17), "F", "RB-10007"),
    ("Thomas", "Oyelaran", date(1970, 8, 28), "M", "RB-10008"),
]
# The payers the sample claim spreadsheets refer to.
PAYERS = [
    ("Aetna", "60054", "+18005550111"),
    ("UnitedHealthcare", "87726", "+18005550122"),
    ("Cigna", "62308", "+18005550133"),
    ("Humana", "61101", "+18005550144"),
    ("BCBS Texas", "00590", "+18005550155"),
]


@dataclass
class DemoResult:
    practice: Practice
    email: str
    password: str
    created: bool


@transaction.atomic
def seed_demo(password: str = DEMO_PASSWORD) -> DemoResult:
    practice, created = Practice.objects.get_or_create(name=DEMO_PRACTICE["name"], defaults=DEMO_PRACTICE)
    admin = User.objects.filter(email=DEMO_EMAIL).first() or User(email=DEMO_EMAIL)
    admin.practice = practice
    admin.full_name = "Jordan Avery"
    admin.role = User.Role.ADMIN
    admin.is_active = True
    admin.set_password(password)
    admin.save()
    User.objects.get_or_create(
        email="biller@riverbend.example",
        defaults={"practice": practice, "full_name": "Sam Patel", "role": User.Role.STAFF},
    )
    for first, last, credentials, npi in PROVIDERS:
        Provider.objects.get_or_create(
            practice=practice, npi=npi, defaults={"first_name": first, "last_name": last, "credentials": credentials}
        )
    for first, last, dob, sex, account in PATIENTS:
        Patient.objects.get_or_create(
            practice=practice,
            account_number=account,
            defaults={"first_name": first, "last_name": last, "date_of_birth": dob, "sex": sex},
        )
    for name, payer_id, phone in PAYERS:
        # The demo's payers answer around the clock, so simulated calls run any day you try them.
        always_open = {"opens_at": time(0), "closes_at": time(0), "open_weekdays": "0123456"}
        Payer.objects.get_or_create(
            practice=practice, payer_id=payer_id, defaults={"name": name, "phone": phone, **always_open}
        )
    if not Claim.objects.filter(practice=practice).exists():
        _demo_claims(practice, admin)
    return DemoResult(practice=practice, email=DEMO_EMAIL, password=password, created=created)


# (status, denial code, denial reason) in the mix a billing office's A/R follow-up list has.
CLAIM_MIX = [
    (ClaimStatus.DENIED, "CO-16", "Claim lacks information needed to process it"),
    (ClaimStatus.DENIED, "CO-197", "Prior authorization was not on file"),
    (ClaimStatus.DENIED, "CO-50", "Payer did not consider the service medically necessary"),
    (ClaimStatus.DENIED, "CO-97", "Payment included in another service"),
    (ClaimStatus.SUBMITTED, "", ""),
    (ClaimStatus.SUBMITTED, "", ""),
    (ClaimStatus.IN_PROCESS, "", ""),
    (ClaimStatus.PENDING_INFO, "", ""),
    (ClaimStatus.PARTIALLY_PAID, "PR-2", "Coinsurance is the patient's share"),
    (ClaimStatus.PAID, "", ""),
]
CODES = [("99213", "E11.9"), ("99214", "I10"), ("93000", "R00.2"), ("80053", "Z00.00"), ("99203", "J06.9")]


def _demo_claims(practice: Practice, admin: User) -> None:
    """Forty claims with lines, policies and a timeline, the same every time (seeded)."""
    rng = random.Random(2026)
    patients = list(Patient.objects.filter(practice=practice))
    payers = list(Payer.objects.filter(practice=practice))
    providers = list(Provider.objects.filter(practice=practice))
    today = date.today()
    for number in range(1, 41):
        patient, payer = patients[number % len(patients)], payers[number % len(payers)]
        status, denial_code, denial_reason = CLAIM_MIX[number % len(CLAIM_MIX)]
        policy, _ = InsurancePolicy.objects.get_or_create(
            practice=practice, patient=patient, payer=payer, defaults={"member_id": f"W{rng.randrange(10**8, 10**9)}"}
        )
        code, diagnosis = CODES[number % len(CODES)]
        charge = Decimal(rng.choice(["85.00", "125.50", "240.00", "312.40", "1250.00", "150.00"]))
        paid = {
            ClaimStatus.PAID: charge,
            ClaimStatus.PARTIALLY_PAID: (charge * Decimal("0.6")).quantize(Decimal("0.01")),
        }
        claim = Claim(
            practice=practice,
            patient=patient,
            provider=providers[number % len(providers)],
            payer=payer,
            policy=policy,
            claim_number=f"RB-26-{number:04d}",
            service_date_from=today - timedelta(days=rng.randrange(20, 160)),
            diagnosis_codes=[diagnosis],
            total_charge=charge,
            paid_amount=paid.get(status, Decimal("0.00")),
            status=status,
            denial_code=denial_code,
            denial_reason=denial_reason,
            next_follow_up_date=today + timedelta(days=rng.randrange(-5, 15)) if status != ClaimStatus.PAID else None,
        )
        claim.save()
        ClaimLine.objects.create(claim=claim, line_number=1, procedure_code=code, charge=charge, place_of_service="11")
        ClaimEvent.objects.create(
            claim=claim,
            kind=ClaimEvent.Kind.CREATED,
            to_status=status,
            actor=admin,
            message="Added with the demo data.",
        )
