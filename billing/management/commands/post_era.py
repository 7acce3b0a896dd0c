"""``manage.py post_era FILE --practice NAME_OR_ID [--dry-run] [--hold-unmatched]``: post an 835."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from billing.era.posting import RemittanceRefused, needs_hold, post_remittance, preview
from billing.models import Remittance
from billingpulse.management.practice import practice_from_option

MAX_BYTES = 50 * 1024 * 1024


class Command(BaseCommand):
    help = "Post an X12 835 remittance file to a practice's ledger (or, with --dry-run, only show its preview)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="The 835 file.")
        parser.add_argument("--practice", required=True, help="The practice's id or exact name.")
        parser.add_argument("--dry-run", action="store_true", help="Show the preview; store and post nothing.")
        parser.add_argument(
            "--hold-unmatched",
            action="store_true",
            help="Post the matched claims and hold the payments that match no claim in the unmatched queue.",
        )

    def handle(self, *args, path: str, practice: str, dry_run: bool, hold_unmatched: bool, **options):
        target = practice_from_option(practice)
        file_path = Path(path)
        if not file_path.is_file():
            raise CommandError(f"No file at {path}.")
        if file_path.stat().st_size > MAX_BYTES:
            raise CommandError(f"{file_path.name} is larger than {MAX_BYTES // 1024 // 1024} MB.")
        try:
            with transaction.atomic():
                remittance = preview(target, file_path.read_bytes(), file_name=file_path.name, actor=None)
                self._print_preview(remittance)
                if dry_run:
                    transaction.set_rollback(True)
                    self.stdout.write("Dry run: nothing was stored or posted.")
                    return
                summary = post_remittance(remittance, actor=None, hold_unmatched=hold_unmatched)
        except RemittanceRefused as refused:
            for problem in refused.problems[1:]:
                self.stderr.write(f"  {problem}")
            raise CommandError(str(refused)) from None
        self.stdout.write(
            f"Posted remittance #{summary['remittance']}: ${summary['payment_amount']} deposited, "
            f"{_count(summary['claims_posted'], 'claim')} posted (${summary['paid_to_claims']} paid), "
            f"{summary['claims_held']} held (${summary['held_amount']}), {_count(summary['reversals'], 'reversal')}, "
            f"provider adjustments ${summary['provider_adjustments']}, "
            f"{_count(summary['transactions'], 'ledger transaction')}."
        )

    def _print_preview(self, remittance: Remittance) -> None:
        out = self.stdout
        out.write(
            f"Remittance #{remittance.pk} from {remittance.payer_name or 'an unnamed payer'}, trace "
            f"{remittance.trace_number or '—'}: ${remittance.payment_amount}, {remittance.claim_count} claims."
        )
        preview_data = remittance.summary.get("preview", {})
        for rule in preview_data.get("rules", []):
            out.write(f"  {'pass' if rule['passed'] else 'FAIL'}  {rule['name']} rule: {rule['formula']}")
        rows = list(remittance.claim_payments.select_related("claim").order_by("position"))
        counts = {
            status: sum(1 for r in rows if r.status == status) for status in ("matched", "unmatched", "ambiguous")
        }
        out.write(f"  matched {counts['matched']}, unmatched {counts['unmatched']}, ambiguous {counts['ambiguous']}")
        for row in rows[:50]:
            held = needs_hold(row)
            claim = row.claim.claim_number if row.claim else "—"
            out.write(
                f"  {row.position:>4} {row.claim_number:<20} {row.status:<9} claim {claim:<20} paid {row.paid:>10}"
                + (f"  held: {held}" if held else "")
            )
        if len(rows) > 50:
            out.write(f"  … and {len(rows) - 50} more claims.")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
