"""Check that the audit trail's hash chains hold.

    manage.py verify_audit_chain                          # every chain
    manage.py verify_audit_chain --practice "Riverbend"   # one practice, by name or id

Pending entries are chained first. Exits 0 when every chain checked holds, 1 naming the
first break of each broken chain (the entry and what is wrong with it).
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from audit import chain
from audit.models import AuditChain, AuditEntry
from billingpulse.models import Practice


class Command(BaseCommand):
    help = "Verify the audit trail's hash chains; exit 1 naming the first break."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--practice", help="A practice's name or id (default: every chain).")

    def handle(self, *args, practice: str | None = None, **options) -> None:
        chains = [self._practice(practice).pk] if practice else self._every_chain()
        broken = False
        for practice_id in chains:
            chain.seal(practice_id)
            checked, fault = chain.verify(practice_id)
            name = self._name(practice_id)
            if fault is None:
                self.stdout.write(f"{name}: {checked} entries, chain holds.")
            else:
                broken = True
                self.stderr.write(f"{name}: BROKEN after {checked} good entries at {fault}.")
        if broken:
            sys.exit(1)

    def _practice(self, value: str) -> Practice:
        matches = Practice.objects.filter(pk=int(value)) if value.isdigit() else Practice.objects.filter(name=value)
        if len(found := list(matches[:2])) != 1:
            raise CommandError(f"No single practice is named or numbered {value!r}.")
        return found[0]

    def _every_chain(self) -> list[int | None]:
        with_entries = set(AuditEntry.objects.values_list("practice_id", flat=True).distinct())
        with_heads = set(AuditChain.objects.values_list("practice_id", flat=True))
        return sorted(with_entries | with_heads, key=lambda pk: (pk is not None, pk or 0))

    def _name(self, practice_id: int | None) -> str:
        if practice_id is None:
            return "Global chain (no practice)"
        practice = Practice.objects.filter(pk=practice_id).first()
        return f"{practice.name} (#{practice_id})" if practice else f"Practice #{practice_id} (removed)"
