from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import pluralize

from billingpulse.models import Practice
from inbox import services


class Command(BaseCommand):
    help = (
        "Bring the needs-action inbox up to date (what beat does daily): open items for claims that need "
        "the practice, overdue expected payments and held ERA payments; close items that need nobody now."
    )

    def add_arguments(self, parser):
        parser.add_argument("--practice", type=int, help="Only this practice (its id).")

    def handle(self, *args, **options):
        practice = None
        if options["practice"] is not None:
            practice = Practice.objects.filter(pk=options["practice"]).first()
            if practice is None:
                raise CommandError(f"No practice with id {options['practice']}.")
        counts = services.refresh(practice)
        opened, closed = counts["opened"], counts["closed"]
        self.stdout.write(f"Opened {opened} item{pluralize(opened)}; closed {closed} item{pluralize(closed)}.")
