from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from billingpulse.demo import DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Create (or refresh) the demo practice with its admin, providers, patients and payers."

    def add_arguments(self, parser):
        parser.add_argument("--password", default=DEMO_PASSWORD, help="Password for the demo admin.")

    def handle(self, *args, password: str, **options):
        if settings.APP_ENV == "production":
            raise CommandError("seed_demo does not run with APP_ENV=production: demo sign-ins must not exist there.")
        result = seed_demo(password=password)
        # The demo's denied and unanswered claims, overdue payments and held ERA payments in the inbox.
        from inbox.services import refresh

        refresh(result.practice)
        verb = "Created" if result.created else "Refreshed"
        self.stdout.write(self.style.SUCCESS(f"{verb} demo practice {result.practice.name}."))
        self.stdout.write(f"Sign in with  email: {result.email}  password: {result.password}")
