from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from billingpulse.models import Practice
from claims.models import Claim
from telephony import services


class Command(BaseCommand):
    help = "Queue a call about one claim and place it now (or say until when it waits, and why)."

    def add_arguments(self, parser):
        parser.add_argument("claim_number", help="The claim's number, as on the worklist.")
        parser.add_argument("--practice", help="The practice's id or exact name, when several have this claim number.")

    def handle(self, *args, claim_number: str, practice: str | None, **options):
        claim = self._claim(claim_number, practice)
        result = services.enqueue_calls(claim.practice, [claim.pk], None, dispatch=False)
        if result.skipped:
            [(_, reason)] = result.skipped
            raise CommandError(f"Claim {claim}: {reason}")
        [call] = result.queued
        self.stdout.write(f"Queued call {call.pk} about claim {claim} to {claim.payer.name}.")
        placed = services.place_call(call.pk)
        if placed.outcome == services.Placement.FAILED:
            raise CommandError(placed.message)
        self.stdout.write(placed.message)

    def _claim(self, claim_number: str, practice: str | None) -> Claim:
        claims = Claim.objects.filter(claim_number__iexact=claim_number.strip()).select_related("practice", "payer")
        if practice:
            claims = claims.filter(practice=self._practice(practice))
        found = list(claims[:10])
        if not found:
            raise CommandError(f"No claim numbered {claim_number}.")
        if len(found) > 1:
            names = ", ".join(f"{claim.practice} (id {claim.practice_id})" for claim in found)
            raise CommandError(f"Claim {claim_number} is in several practices: {names}. Name one with --practice.")
        return found[0]

    def _practice(self, value: str) -> Practice:
        found = Practice.objects.filter(pk=int(value)) if value.isdigit() else Practice.objects.filter(name=value)
        try:
            return found.get()
        except Practice.DoesNotExist:
            raise CommandError(f"No practice with id or name {value!r}.") from None
