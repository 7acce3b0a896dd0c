from __future__ import annotations

from django.core.management.base import BaseCommand
from django.template.defaultfilters import pluralize

from telephony import services


class Command(BaseCommand):
    help = "Queue a call for every follow-up that is due (what beat does every minute); each is dispatched once."

    def handle(self, *args, **options):
        dispatched = services.dispatch_due_followups()
        self.stdout.write(f"Dispatched {dispatched} follow-up call{pluralize(dispatched)}.")
