"""Demo remittances: a small 835 built from the demo practice's claims, one posted and one in preview.

``build_835`` writes a balanced 005010X221A1 file from plain values (the tests use it too);
``seed_demo_remittances`` is called by ``seed_demo``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from billing.era.posting import RemittanceRefused, post_remittance, preview
from billing.models import Remittance
from billingpulse.models import Practice
from claims.models import Claim

CENT = Decimal("0.01")
DEMO_TRACES = ("DEMO-ERA-0001", "DEMO-ERA-0002")


@dataclass
class Line:
    code: str
    charge: Decimal
    paid: Decimal
    adjustments: list[tuple[str, str, Decimal]] = field(default_factory=list)
    service_date: date | None = None


@dataclass
class ClaimPaid:
    number: str
    charge: Decimal
    paid: Decimal
    status: str = "1"
    patient_responsibility: Decimal = Decimal(0)
    payer_claim_number: str = ""
    last_name: str = ""
    first_name: str = ""
    member_id: str = ""
    service_date: date | None = None
    adjustments: list[tuple[str, str, Decimal]] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)


def build_835(
    claims: list[ClaimPaid],
    *,
    trace: str,
    payer_name: str = "DEMO HEALTH PLAN",
    payer_id: str = "1999999999",
    payment_date: date = date(2026, 11, 20),
    provider_adjustments: list[tuple[str, str, Decimal]] = (),
    method: str = "ACH",
    amount: Decimal | None = None,
) -> bytes:
    """A complete 835 paying ``claims``; BPR02 is Σ paid − Σ PLB unless ``amount`` is given."""
    paid = sum((c.paid for c in claims), Decimal(0))
    plb = sum((a for _, _, a in provider_adjustments), Decimal(0))
    total = paid - plb if amount is None else amount
    handling = "I" if total else "H"
    day = payment_date.strftime("%Y%m%d")
    body = [
        f"BPR*{handling}*{total:.2f}*C*{method if total else 'NON'}*CCP*01*999999992*DA*1000001*1999999999**01*"
        f"999999993*DA*2000002*{day}",
        f"TRN*1*{trace}*{payer_id}",
        f"DTM*405*{day}",
        f"N1*PR*{payer_name}",
        "N1*PE*DEMO CLINIC*XX*1234567893",
        "LX*1",
    ]
    for c in claims:
        body.append(
            f"CLP*{c.number}*{c.status}*{c.charge:.2f}*{c.paid:.2f}*{c.patient_responsibility:.2f}*12*"
            f"{c.payer_claim_number or 'ICN' + c.number}*11*1"
        )
        body.extend(_cas(c.adjustments))
        if c.last_name:
            body.append(f"NM1*QC*1*{c.last_name}*{c.first_name}****MI*{c.member_id or 'M0000000'}")
        if c.service_date:
            body.append(f"DTM*232*{c.service_date:%Y%m%d}")
        for line in c.lines:
            body.append(f"SVC*HC:{line.code}*{line.charge:.2f}*{line.paid:.2f}**1")
            if line.service_date:
                body.append(f"DTM*472*{line.service_date:%Y%m%d}")
            body.extend(_cas(line.adjustments))
    if provider_adjustments:
        pairs = "*".join(f"{code}{':' + ref if ref else ''}*{a:.2f}" for code, ref, a in provider_adjustments)
        body.append(f"PLB*1234567893*{payment_date.year}1231*{pairs}")
    st = ["ST*835*0001", *body]
    st.append(f"SE*{len(st) + 1}*0001")
    isa = "ISA*00*          *00*          *ZZ*DEMOPAYER      *ZZ*DEMOCLINIC     *261120*1200*^*00501*000000101*0*T*:"
    segments = [isa, "GS*HP*DEMOPAYER*DEMOCLINIC*20261120*1200*101*X*005010X221A1", *st, "GE*1*101"]
    segments.append("IEA*1*000000101")
    return ("~\n".join(segments) + "~\n").encode()


def _cas(adjustments: list[tuple[str, str, Decimal]]) -> list[str]:
    return [f"CAS*{group}*{reason}*{amount:.2f}" for group, reason, amount in adjustments]


def paid_in_part(
    claim: Claim, *, share: Decimal = Decimal("0.70"), patient_share: Decimal = Decimal("0.10")
) -> ClaimPaid:
    """The payer pays ``share`` of the claim's charge, the patient owes ``patient_share``, the rest is contractual."""
    charge = claim.total_charge
    paid = (charge * share).quantize(CENT)
    patient = (charge * patient_share).quantize(CENT)
    contractual = charge - paid - patient
    return ClaimPaid(
        number=claim.claim_number,
        charge=charge,
        paid=paid,
        patient_responsibility=patient,
        last_name=claim.patient.last_name.upper(),
        first_name=claim.patient.first_name.upper(),
        service_date=claim.service_date_from,
        adjustments=[a for a in (("CO", "45", contractual), ("PR", "2", patient)) if a[2]],
    )


@transaction.atomic
def seed_demo_remittances(practice: Practice) -> list[Remittance]:
    """One posted ERA and one waiting in preview, paying the practice's open claims; safe to run again."""
    found = []
    taken: set[int] = set(
        Remittance.objects.filter(practice=practice, claim_payments__claim__isnull=False).values_list(
            "claim_payments__claim", flat=True
        )
    )
    open_claims = [
        c
        for c in Claim.objects.filter(practice=practice, balance__gt=0, total_charge__gt=0)
        .select_related("patient", "payer")
        .order_by("pk")
        if c.pk not in taken and c.paid_amount == 0
    ]
    for n, trace in enumerate(DEMO_TRACES):
        existing = Remittance.objects.filter(practice=practice, trace_number=trace).first()
        if existing is not None:
            found.append(existing)
            continue
        claims, open_claims = open_claims[:3], open_claims[3:]
        if not claims:
            break
        payer = claims[0].payer
        data = build_835(
            [paid_in_part(c) for c in claims],
            trace=trace,
            payer_name=payer.name.upper(),
            payer_id=payer.payer_id,
            payment_date=practice.today() - timedelta(days=1 - n),
        )
        try:
            remittance = preview(practice, data, file_name=f"{trace.lower()}.835", actor=None, check_structure=False)
        except RemittanceRefused:
            continue
        if n == 0:
            post_remittance(remittance, actor=None)
            remittance.refresh_from_db()
        found.append(remittance)
    return found
