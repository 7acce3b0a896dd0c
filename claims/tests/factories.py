from __future__ import annotations

import factory

from billingpulse.tests.factories import PracticeFactory
from claims.models import Payer


class PayerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payer

    practice = factory.SubFactory(PracticeFactory)
    name = factory.Sequence(lambda n: f"Payer {n} Health")
    payer_id = factory.Sequence(lambda n: f"{60000 + n}")
    phone = "+18005550100"
