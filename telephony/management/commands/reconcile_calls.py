from __future__ import annotations

from django.core.management.base import BaseCommand

from telephony import reconcile


class Command(BaseCommand):
    help = "Look up calls whose webhooks never arrived and bring them up to date."

    def handle(self, *args, **options):
        summary = reconcile.reconcile_calls()
        self.stdout.write(str(summary))
