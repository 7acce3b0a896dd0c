from __future__ import annotations

import factory

from billingpulse.tests.factories import PracticeFactory
from claims.tests.factories import ClaimFactory
from inbox.models import ActionItem


class ActionItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActionItem

    practice = factory.SubFactory(PracticeFactory)
    claim = factory.SubFactory(ClaimFactory, practice=factory.SelfAttribute("..practice"))
    reason = ActionItem.Reason.DENIED
    detail = factory.Sequence(lambda n: f"The payer denied the claim: appeal with records ({n}).")
