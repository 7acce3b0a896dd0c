"""Load denial codes and payer policies into practices' knowledge bases, or rebuild the index.

    manage.py ingest_knowledge FILE --practice ID [--kind denial-codes|payer-policies]
    manage.py ingest_knowledge FILE --all-practices
    manage.py ingest_knowledge --starter [--practice ID]
    manage.py ingest_knowledge --reindex [--practice ID]

FILE is JSON: a list of entries of one kind (name it with --kind), or an object
``{"denial_codes": [...], "payer_policies": [...]}``. Entries are checked like the API's:
if any entry is bad, nothing is saved and every problem is listed.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from ai import knowledge, services
from ai.knowledge import DENIAL_CODES, PAYER_POLICIES
from billingpulse.management.practice import practice_from_option
from billingpulse.models import Practice

KIND_OPTIONS = {"denial-codes": DENIAL_CODES, "payer-policies": PAYER_POLICIES}
FILE_KEYS = {"denial_codes": DENIAL_CODES, "payer_policies": PAYER_POLICIES}
NOUNS = {DENIAL_CODES: "denial codes", PAYER_POLICIES: "payer policies"}


class Command(BaseCommand):
    help = "Load knowledge-base entries from a JSON file, add the starter denial codes, or rebuild the search index."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="JSON file: a list of entries, or {denial_codes: [...], ...}.")
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--practice", help="The practice's id or exact name.")
        which.add_argument("--all-practices", action="store_true", help="Load the file into every practice.")
        parser.add_argument("--kind", choices=sorted(KIND_OPTIONS), help="What a list in FILE holds.")
        parser.add_argument("--starter", action="store_true", help="Add the starter denial codes a practice lacks.")
        parser.add_argument("--reindex", action="store_true", help="Rebuild the search index from the database.")

    def handle(
        self, *args, file=None, practice=None, all_practices=False, kind=None, starter=False, reindex=False, **o
    ):
        if not (file or starter or reindex):
            raise CommandError("Nothing to do: give a FILE, --starter or --reindex.")
        chosen = [practice_from_option(practice)] if practice else None
        if file:
            if chosen is None and not all_practices:
                raise CommandError("Say whose knowledge base gets the file: --practice ID or --all-practices.")
            batches = self._read(Path(file), KIND_OPTIONS.get(kind or ""))
            self._ingest(batches, chosen or list(Practice.objects.order_by("pk")))
        if starter:
            for target in chosen or Practice.objects.order_by("pk"):
                added = services.install_starter_set(target.pk)
                self.stdout.write(f"{target.name}: {added} starter denial code{'s' if added != 1 else ''} added")
        if reindex:
            try:
                counts = knowledge.reindex(chosen[0].pk if chosen else None)
            except Exception as error:
                raise CommandError(f"Could not rebuild the search index: {error}") from error
            where = chosen[0].name if chosen else "all practices"
            codes, policies = counts[DENIAL_CODES], counts[PAYER_POLICIES]
            self.stdout.write(f"Index rebuilt for {where}: {codes} denial codes, {policies} payer policies")

    def _read(self, path: Path, kind: str | None) -> dict[str, list]:
        if not path.is_file():
            raise CommandError(f"No file at {path}.")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise CommandError(f"{path} is not valid JSON: {error}") from None
        if isinstance(data, list):
            if kind is None:
                raise CommandError("The file holds a list: say what it is with --kind denial-codes or payer-policies.")
            return {kind: data}
        if not isinstance(data, dict):
            raise CommandError(
                'The file must hold a list of entries or {"denial_codes": [...], "payer_policies": [...]}.'
            )
        unknown = sorted(set(data) - set(FILE_KEYS))
        if unknown:
            raise CommandError(f"Unknown keys in the file: {', '.join(unknown)}. Known: denial_codes, payer_policies.")
        batches = {FILE_KEYS[key]: value for key, value in data.items()}
        if kind is not None:
            batches = {k: v for k, v in batches.items() if k == kind}
        if not batches:
            raise CommandError("The file has no entries to load.")
        return batches

    def _ingest(self, batches: dict[str, list], practices: list[Practice]) -> None:
        problems = []
        for kind, entries in batches.items():
            try:
                services.validate_entries(kind, entries)
            except services.EntriesInvalid as invalid:
                problems.append(f"{NOUNS[kind]}: {invalid}")
        if problems:
            raise CommandError("Nothing was saved. " + " | ".join(problems))
        report = []
        try:
            with transaction.atomic():
                for target in practices:
                    for kind, entries in batches.items():
                        saved = services.save_entries(target.pk, kind, entries)
                        report.append(f"{target.name}: {len(saved)} {NOUNS[kind]} saved")
        except services.EntriesInvalid as invalid:
            # Checked above, so only a change made at the same time lands here.
            raise CommandError(f"Nothing was saved. {invalid}") from None
        # Said once the whole file is in: a line per practice must not suggest a partial load.
        self.stdout.write("\n".join(report))
