from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from billingpulse.tests.factories import PracticeFactory
from claims.tests.factories import ClaimFactory
from telephony.models import Call, CallEvent, ScheduledCall


class CallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Call

    practice = factory.SubFactory(PracticeFactory)
    claim = factory.SubFactory(ClaimFactory, practice=factory.SelfAttribute("..practice"))
    payer = factory.SelfAttribute("claim.payer")
    provider = Call.Provider.SANDBOX
    status = Call.Status.ENDED
    provider_call_id = factory.Sequence(lambda n: f"call-{n:08d}")
    transcript = factory.Sequence(lambda n: f"AI: Calling about claim, reference request number {n}.")


class CallEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CallEvent

    class Params:
        practice = factory.SubFactory(PracticeFactory)

    call = factory.SubFactory(CallFactory, practice=factory.SelfAttribute("..practice"))
    kind = "status-update"
    dedupe_key = factory.Sequence(lambda n: f"status-update:{n}")
    payload = factory.LazyFunction(lambda: {"message": {"type": "status-update", "status": "ringing"}})


class ScheduledCallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ScheduledCall

    practice = factory.SubFactory(PracticeFactory)
    claim = factory.SubFactory(ClaimFactory, practice=factory.SelfAttribute("..practice"))
    call_after = factory.LazyFunction(lambda: timezone.now() + timedelta(days=5))
    reason = factory.Sequence(lambda n: f"Payer asked us to call back about reprocessing, case {n}")
