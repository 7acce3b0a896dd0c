"""Demo data for trying BillingPulse: one practice, its admin, providers, patients, payers,
claims, the claims' money on the books, clinical notes (``clinical.demo``) and documents
(``documents.demo``).

The money goes through ``billing.services`` like a biller's would: every claim's charge,
payer checks allocated across claims, contractual adjustments, coinsurance moved to the
patient, a patient's card payment, and one payment a payer mentioned on a call, waiting as an
expected payment. Every posting has a fixed idempotency key, so running it again posts
nothing twice; it changes nothing but the admin's password, which is reset to the given one
so the sign-in that ``make run`` prints always works.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from billingpulse.models import Patient, Practice, Provider, User
from claims.models import Claim, ClaimEvent, ClaimLine, InsurancePolicy, Payer
from claims.status import ClaimStatus
from clinical.demo import seed_clinical
from documents.demo import seed_documents

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
    _demo_money(practice, admin)
    _demo_remittances(practice, admin)
    seed_clinical(practice, admin, password)
    seed_documents(practice, admin)
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
    today = practice.today()
    for number in range(1, 41):
        patient, payer = patients[number % len(patients)], payers[number % len(payers)]
        status, denial_code, denial_reason = CLAIM_MIX[number % len(CLAIM_MIX)]
        policy, _ = InsurancePolicy.objects.get_or_create(
            practice=practice, patient=patient, payer=payer, defaults={"member_id": f"W{rng.randrange(10**8, 10**9)}"}
        )
        code, diagnosis = CODES[number % len(CODES)]
        charge = Decimal(rng.choice(["85.00", "125.50", "240.00", "312.40", "1250.00", "150.00"]))
        paid = {ClaimStatus.PAID, ClaimStatus.PARTIALLY_PAID}
        claim = Claim(
            practice=practice,
            patient=patient,
            provider=providers[number % len(providers)],
            payer=payer,
            policy=policy,
            claim_number=f"RB-26-{number:04d}",
            service_date_from=today - timedelta(days=rng.randrange(20, 160)),
            diagnosis_codes=[diagnosis],
            # No money on the claim yet: _demo_money posts it, and the payments move the
            # paid and partially paid claims to those statuses through the status machine.
            total_charge=Decimal("0.00"),
            status=ClaimStatus.SUBMITTED if status in paid else status,
            denial_code=denial_code,
            denial_reason=denial_reason,
            next_follow_up_date=today + timedelta(days=rng.randrange(-5, 15)) if status != ClaimStatus.PAID else None,
        )
        claim.save()
        ClaimLine.objects.create(claim=claim, line_number=1, procedure_code=code, charge=charge, place_of_service="11")
        ClaimEvent.objects.create(
            claim=claim,
            kind=ClaimEvent.Kind.CREATED,
            to_status=claim.status,
            actor=admin,
            message="Added with the demo data.",
        )


CENT = Decimal("0.01")


def _demo_money(practice: Practice, admin: User) -> None:
    """Post the demo claims' money, each posting under a fixed key (a second run replays them).

    - every claim: its charge (the sum of its lines);
    - "paid" claims: one check per payer allocated across them (the allowed amount less the
      patient's 20% coinsurance), the contractual adjustment down to the allowed amount, the
      coinsurance moved to the patient, and the first patient paying it by card;
    - "partially paid" claims: a check for 60% of the charge, the rest still owed by the payer;
    - one in-process claim: a call on which the payer said it paid, as an expected payment.

    Claims that got opening balances (made before the ledger existed) are left as they are.
    """
    from billing import services as billing
    from billing.models import AdjustmentReason, Payment, Responsibility
    from billing.posting import Source

    claims = list(
        Claim.objects.filter(practice=practice, claim_number__startswith="RB-26-")
        .exclude(ledger__source=Source.OPENING)
        .prefetch_related("lines")
        .order_by("claim_number")
    )
    today = practice.today()
    for claim in claims:
        charge = sum((line.charge for line in claim.lines.all()), Decimal("0.00"))
        if charge:
            billing.charge(claim, charge, key=f"demo:{claim.claim_number}:charge", actor=admin, memo="Charge")
        claim.refresh_from_db(fields=["total_charge", "paid_amount", "balance", "status"])
    by_status: dict[int, str] = {}
    for claim in claims:
        number = int(claim.claim_number.rsplit("-", 1)[1])
        by_status[claim.pk] = CLAIM_MIX[number % len(CLAIM_MIX)][0]
    paid = [c for c in claims if by_status[c.pk] == ClaimStatus.PAID]
    partial = [c for c in claims if by_status[c.pk] == ClaimStatus.PARTIALLY_PAID]

    # Payer checks, one per payer, allocated across that payer's claims.
    checks = 0
    for kind, group in (("paid", paid), ("partial", partial)):
        for payer_id in sorted({c.payer_id for c in group}):
            mine = [c for c in group if c.payer_id == payer_id]
            checks += 1
            parts = [billing.Allocation(c, _payer_share(c, kind)) for c in mine]
            billing.record_payment(
                practice,
                key=f"demo:{kind}-check:{payer_id}",
                source=Payment.Source.PRIMARY,
                method=Payment.Method.CHECK,
                amount=sum((part.amount for part in parts), Decimal("0.00")),
                # Spread over the last two weeks, so the billing home's chart has something to show.
                payment_date=max(max(c.service_date_from for c in mine), today - timedelta(days=(3 * checks) % 14)),
                allocations=parts,
                payer=mine[0].payer,
                reference=f"CHK{40000 + payer_id}",
                actor=admin,
            )
    for number, claim in enumerate(paid):
        allowed, coinsurance = _allowed(claim), _coinsurance(claim)
        billing.adjust(
            claim,
            claim.total_charge - allowed,
            key=f"demo:{claim.claim_number}:contractual",
            reason=AdjustmentReason.CONTRACTUAL,
            carc_group="CO",
            carc_code="45",
            memo="Charge above the fee schedule",
            actor=admin,
        )
        billing.transfer(
            claim,
            coinsurance,
            key=f"demo:{claim.claim_number}:coinsurance",
            from_responsibility=Responsibility.PRIMARY,
            to_responsibility=Responsibility.PATIENT,
            memo="Coinsurance (PR-2) is the patient's",
            actor=admin,
        )
        if number == 0:
            billing.record_payment(
                practice,
                key=f"demo:{claim.claim_number}:patient-card",
                source=Payment.Source.PATIENT,
                method=Payment.Method.CARD,
                amount=coinsurance,
                payment_date=today,
                patient=claim.patient,
                allocations=[billing.Allocation(claim, coinsurance)],
                coinsurance=coinsurance,
                actor=admin,
            )
    in_process = [c for c in claims if by_status[c.pk] == ClaimStatus.IN_PROCESS]
    if in_process:
        _demo_expected_payment(in_process[0], today)


def _allowed(claim: Claim) -> Decimal:
    """The payer's fee schedule allows 85% of the charge."""
    return (claim.total_charge * Decimal("0.85")).quantize(CENT)


def _coinsurance(claim: Claim) -> Decimal:
    """The patient's 20% of what is allowed."""
    return (_allowed(claim) * Decimal("0.20")).quantize(CENT)


def _payer_share(claim: Claim, kind: str) -> Decimal:
    """What the payer's check pays on the claim: the allowed amount less coinsurance, or 60% of the charge."""
    if kind == "paid":
        return _allowed(claim) - _coinsurance(claim)
    return (claim.total_charge * Decimal("0.60")).quantize(CENT)


def _demo_expected_payment(claim: Claim, today: date) -> None:
    """A payer call that ended with "we paid it on check 81277": an expected payment, not yet posted."""
    from billing import services as billing
    from telephony.models import Call

    amount = (claim.total_charge * Decimal("0.80")).quantize(CENT)
    ended = timezone.now() - timedelta(days=1)
    placed = ended - timedelta(minutes=6)
    call, created = Call.objects.get_or_create(
        provider_call_id=f"demo-{claim.practice_id}-{claim.claim_number}",
        defaults={
            "practice": claim.practice,
            "claim": claim,
            "payer": claim.payer,
            "provider": Call.Provider.SANDBOX,
            "status": Call.Status.ENDED,
            "placed_at": placed,
            "started_at": placed + timedelta(seconds=4),
            "ended_at": ended,
            "duration_seconds": 356,
            "report_received_at": ended,
            "transcript": (
                f"AI: Hi, I'm calling about claim {claim.claim_number} for {claim.patient.full_name}.\n"
                f"User: That claim was paid on check 81277 for ${amount}, issued {today - timedelta(days=2):%B %-d}.\n"
            ),
        },
    )
    if created:  # queued when it was placed, not when the demo was made
        Call.objects.filter(pk=call.pk).update(created_at=placed)
    billing.expect_payment(claim, amount=amount, reference="81277", payment_date=today - timedelta(days=2), call=call)


def _demo_remittances(practice: Practice, admin: User) -> None:
    """One posted ERA and one waiting in preview, so a new user sees both (safe to run again)."""
    from billing.era.demo import seed_demo_remittances

    seed_demo_remittances(practice)
