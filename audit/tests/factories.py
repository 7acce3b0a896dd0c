from __future__ import annotations

import factory
from django.utils import timezone

from audit.models import Action, AuditChain, AuditEntry
from billingpulse.tests.factories import PracticeFactory


class AuditEntryFactory(factory.django.DjangoModelFactory):
    """An unchained entry, as ``audit.record`` writes one (``audit.chain.seal`` chains it)."""

    class Meta:
        model = AuditEntry

    practice = factory.SubFactory(PracticeFactory)
    action = Action.VIEWED
    resource_type = "claim"
    resource_id = factory.Sequence(str)
    resource_label = factory.Sequence(lambda n: f"Audited record number {n}")
    message = factory.Sequence(lambda n: f"Audit detail number {n}")
    created_at = factory.LazyFunction(timezone.now)


class AuditChainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuditChain
        django_get_or_create = ("key",)

    practice = factory.SubFactory(PracticeFactory)
    key = factory.LazyAttribute(lambda chain: AuditChain.key_for(chain.practice.pk))
