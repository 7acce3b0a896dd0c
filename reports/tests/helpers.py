"""Test data for the reports: claims whose money is in the ledger, payments, calls."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from billing import services as billing
from billing.models import Payment
from claims.tests.factories import ClaimLineFactory, LedgerClaimFactory
from telephony.models import Call
from telephony.tests.factories import CallFactory


def today_of(practice) -> date:
    return timezone.localdate(timezone=ZoneInfo(practice.time_zone))


def local(practice, day: date, hour: int = 12) -> datetime:
    """Noon (or ``hour``) of ``day`` on the practice's clock."""
    return datetime.combine(day, time(hour), tzinfo=ZoneInfo(practice.time_zone))


def ledger_claim(practice, *, served: date, charge: str, payer=None, lines: dict | None = None, **kwargs):
    """A claim with its charge posted; ``lines`` maps CPT codes to line charges."""
    extra = {"payer": payer} if payer is not None else {}
    claim = LedgerClaimFactory(
        practice=practice, service_date_from=served, total_charge=Decimal(charge), **extra, **kwargs
    )
    for number, (code, amount) in enumerate((lines or {}).items(), start=1):
        ClaimLineFactory(claim=claim, line_number=number, procedure_code=code, charge=Decimal(amount))
    return claim


def pay(claim, amount: str, on: date, *, source: str = Payment.Source.PRIMARY) -> Payment:
    """A payment posted through the billing service, applied in full to ``claim``."""
    return billing.record_payment(
        claim.practice,
        key=f"test-payment-{claim.pk}-{on}-{amount}-{source}",
        source=source,
        method=Payment.Method.CHECK,
        amount=Decimal(amount),
        payment_date=on,
        allocations=[billing.Allocation(claim, Decimal(amount))],
        payer=claim.payer if source != Payment.Source.PATIENT else None,
        patient=claim.patient if source == Payment.Source.PATIENT else None,
    )


def call(claim, *, created: datetime, ended: datetime | None = None, **fields) -> Call:
    """A call about ``claim`` placed at ``created`` (``created_at`` is set after saving: it is auto_now_add)."""
    made = CallFactory(practice=claim.practice, claim=claim, ended_at=ended, **fields)
    Call.objects.filter(pk=made.pk).update(created_at=created)
    made.refresh_from_db()
    return made


def days_ago(today: date, days: int) -> date:
    return today - timedelta(days=days)
