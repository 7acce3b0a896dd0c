from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from billingpulse.tests.factories import PracticeFactory
from exports.models import Export


class ExportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Export

    practice = factory.SubFactory(PracticeFactory)
    kind = Export.Kind.CLAIMS
    format = Export.Format.CSV
    download_name = factory.Sequence(lambda n: f"claims-export-{n:04d}.csv")
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=24))
