"""Check that the books add up.

    manage.py verify_ledger [--practice NAME_OR_ID]

Prints "Ledger OK: …" and exits 0 when every ledger invariant holds (see ``billing.verify``);
otherwise lists each violation and exits 1.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandParser

from billing.verify import checked, verify
from billingpulse.management.practice import practice_from_option


class Command(BaseCommand):
    help = "Check every ledger invariant; exit 0 when the books add up, 1 listing each violation otherwise."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--practice", help="Only this practice (its id or exact name); default: every practice.")

    def handle(self, *args, practice: str | None, **options) -> None:
        target = practice_from_option(practice) if practice else None
        violations = verify(target)
        counts = checked(target)
        scope = f" in {target.name}" if target else ""
        if not violations:
            self.stdout.write(
                f"Ledger OK{scope}: {counts.transactions} transactions, {counts.claims} claims, "
                f"{counts.accounts} accounts checked"
            )
            return
        for violation in violations:
            self.stdout.write(str(violation))
        self.stderr.write(
            f"Ledger NOT OK{scope}: {len(violations)} violation{'s' if len(violations) != 1 else ''} in "
            f"{counts.transactions} transactions, {counts.claims} claims, {counts.accounts} accounts"
        )
        sys.exit(1)
