"""Demo data for trying BillingPulse: one practice, its admin, providers, patients, payers.

Running it again changes nothing but the admin's password, which is reset to the given
one so the sign-in that ``make run`` prints always works.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import transaction

from billingpulse.models import Patient, Practice, Provider, User
from claims.models import Payer

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
        Payer.objects.get_or_create(practice=practice, payer_id=payer_id, defaults={"name": name, "phone": phone})
    return DemoResult(practice=practice, email=DEMO_EMAIL, password=password, created=created)
