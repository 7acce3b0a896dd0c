from __future__ import annotations

from datetime import date
from decimal import Decimal

import factory
from django.core.files.base import ContentFile

from billing import posting
from billing import services as billing
from billing.models import Account
from billingpulse.tests.factories import PatientFactory, PracticeFactory, UserFactory
from claims.models import (
    ZERO,
    Claim,
    ClaimEvent,
    ClaimImport,
    ClaimImportError,
    ClaimLine,
    ClaimNumbering,
    FeeScheduleEntry,
    InsurancePolicy,
    Payer,
)


class PayerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payer

    practice = factory.SubFactory(PracticeFactory)
    name = factory.Sequence(lambda n: f"Payer {n} Health")
    payer_id = factory.Sequence(lambda n: f"{60000 + n}")
    phone = "+18005550100"
    time_zone = "America/Chicago"


class InsurancePolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InsurancePolicy

    practice = factory.SubFactory(PracticeFactory)
    patient = factory.SubFactory(PatientFactory, practice=factory.SelfAttribute("..practice"))
    payer = factory.SubFactory(PayerFactory, practice=factory.SelfAttribute("..practice"))
    member_id = factory.Sequence(lambda n: f"W{100000000 + n}")


class ClaimFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Claim

    practice = factory.SubFactory(PracticeFactory)
    patient = factory.SubFactory(PatientFactory, practice=factory.SelfAttribute("..practice"))
    payer = factory.SubFactory(PayerFactory, practice=factory.SelfAttribute("..practice"))
    claim_number = factory.Sequence(lambda n: f"CLM-{n:06d}")
    service_date_from = date(2026, 9, 14)
    diagnosis_codes = factory.LazyFunction(lambda: ["E11.9"])
    total_charge = Decimal("250.00")
    paid_amount = Decimal("0.00")
    adjustment_amount = Decimal("0.00")
    # The ledger's identity, for claims made without postings: balance = charge − paid − adjusted.
    balance = factory.LazyAttribute(
        lambda c: Decimal(c.total_charge) - Decimal(c.paid_amount) - Decimal(c.adjustment_amount)
    )
    status = Claim.Status.SUBMITTED


class LedgerClaimFactory(ClaimFactory):
    """A claim whose money is on the books: created with no money, as ``services.create_claim``
    makes one, then its ``total_charge`` is posted through ``billing.services.charge`` (and a
    ``paid_amount``, if given, as a payment from the primary payer, without a Payment row).
    Its money columns are then the ledger's projection, as ``verify_ledger`` checks.

    ``ClaimFactory`` sets the money columns directly, which is enough for tests of other features.
    """

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        charge = kwargs.pop("total_charge", Decimal("250.00"))
        paid = kwargs.pop("paid_amount", ZERO)
        kwargs.pop("balance", None)
        claim = super()._create(model_class, *args, total_charge=ZERO, paid_amount=ZERO, balance=ZERO, **kwargs)
        if charge:
            billing.charge(claim, Decimal(charge), key=f"claim:{claim.pk}:charge")
        if paid:
            paid = Decimal(paid)
            posting.post(
                claim.practice,
                posting.Posting(
                    kind=posting.Kind.PAYMENT,
                    source=posting.Source.MANUAL,
                    legs=[posting.Leg(Account.CASH, paid), posting.Leg(Account.PRIMARY_AR, -paid)],
                    idempotency_key=f"claim:{claim.pk}:paid",
                    claim=claim,
                    memo="Paid by the primary payer",
                ),
            )
        claim.refresh_from_db()
        return claim


class ClaimLineFactory(factory.django.DjangoModelFactory):
    """Accepts ``practice=`` like every practice-owned factory; the claim is made in it."""

    class Meta:
        model = ClaimLine

    class Params:
        practice = factory.SubFactory(PracticeFactory)

    claim = factory.SubFactory(ClaimFactory, practice=factory.SelfAttribute("..practice"))
    line_number = factory.Sequence(lambda n: n + 1)
    procedure_code = "99213"
    charge = Decimal("125.00")


class ClaimEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClaimEvent

    class Params:
        practice = factory.SubFactory(PracticeFactory)

    claim = factory.SubFactory(ClaimFactory, practice=factory.SelfAttribute("..practice"))
    kind = ClaimEvent.Kind.NOTE
    message = factory.Sequence(lambda n: f"Called the payer about this claim, note number {n}")


class ClaimImportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClaimImport

    practice = factory.SubFactory(PracticeFactory)
    uploaded_by = factory.SubFactory(UserFactory, practice=factory.SelfAttribute("..practice"))
    original_name = factory.Sequence(lambda n: f"ar-export-{n}.csv")
    file = factory.LazyAttribute(lambda o: ContentFile(b"Claim #,Patient\n", name=o.original_name))
    status = ClaimImport.Status.DONE


class ClaimImportErrorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClaimImportError

    class Params:
        practice = factory.SubFactory(PracticeFactory)

    claim_import = factory.SubFactory(ClaimImportFactory, practice=factory.SelfAttribute("..practice"))
    row_number = 7
    column = "DOS"
    value = "13/45/2026"
    message = "13/45/2026 is not a real date. Use MM/DD/YYYY."


class FeeScheduleEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FeeScheduleEntry

    practice = factory.SubFactory(PracticeFactory)
    code = factory.Sequence(lambda n: f"{99200 + n % 100}")
    charge = Decimal("125.00")


class ClaimNumberingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClaimNumbering

    practice = factory.SubFactory(PracticeFactory)
    prefix = "NUM"
