from __future__ import annotations

from datetime import date

import factory

from ai.models import DenialCode, PayerPolicy
from billingpulse.tests.factories import PracticeFactory


class DenialCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DenialCode
        django_get_or_create = ("practice", "code")

    practice = factory.SubFactory(PracticeFactory)
    code = factory.Iterator(["16", "197", "50", "29", "27", "18", "45", "96"])
    description = "The claim is missing information the payer needs to process it."
    remedy = "Find the missing item in the remittance remarks, correct the claim and resubmit it."


class PayerPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PayerPolicy

    practice = factory.SubFactory(PracticeFactory)
    payer = "Aetna"
    title = "Timely filing"
    text = "Corrected claims must reach the payer within 180 days of the original remittance."
    source = "Provider manual, section 7"
    effective_date = date(2026, 1, 1)
