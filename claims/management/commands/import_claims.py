from __future__ import annotations

from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from billingpulse.management.practice import practice_from_option
from billingpulse.models import Practice
from claims.importing import engine
from claims.importing.errors import ImportFileError
from claims.importing.headers import validate_mapping
from claims.models import ClaimImport, Payer


class Command(BaseCommand):
    help = "Import claims from a CSV or Excel (.xlsx) file into a practice, with the detected columns."

    def add_arguments(self, parser):
        parser.add_argument("path", help="The CSV or .xlsx file.")
        parser.add_argument("--practice", required=True, help="The practice's id or exact name.")
        parser.add_argument("--payer", help="Payer ID for every row, when the file has no payer column.")

    def handle(self, *args, path: str, practice: str, payer: str | None, **options):
        target = practice_from_option(practice)
        default_payer = self._payer(target, payer) if payer else None
        file_path = Path(path)
        if not file_path.is_file():
            raise CommandError(f"No file at {path}.")
        with file_path.open("rb") as handle:
            try:
                claim_import = engine.inspect_upload(
                    practice=target, user=None, upload=File(handle, name=file_path.name), default_payer=default_payer
                )
            except ImportFileError as error:
                raise CommandError(error.message) from None
        mapping = {int(index): field for index, field in claim_import.column_mapping.items()}
        problems = validate_mapping(mapping, has_default_payer=default_payer is not None)
        if problems:
            claim_import.delete()
            raise CommandError(" ".join(problems))
        engine.start(claim_import)
        try:
            result = engine.run_import(claim_import.pk, progress=self._progress)
        except Exception:
            # Logged, and the import marked failed with the rows that were imported: say that.
            self.stderr.write("")
            claim_import.refresh_from_db()
            raise CommandError(claim_import.failure_message or "The import stopped because of an error.") from None
        self.stderr.write("")  # end the progress line
        if result is None or result.status == ClaimImport.Status.FAILED:
            raise CommandError(result.failure_message if result else "The import did not run.")
        self.stdout.write(
            f"imported {result.imported_count}, updated {result.updated_count}, rejected {result.rejected_count}"
        )
        if result.rejected_count:
            for error in result.row_errors.all()[:20]:
                self.stderr.write(f"  row {error.row_number}, {error.column}: {error.message}")

    def _payer(self, practice: Practice, payer_id: str) -> Payer:
        try:
            return Payer.objects.get(practice=practice, payer_id=payer_id)
        except Payer.DoesNotExist:
            raise CommandError(f"{practice} has no payer with payer ID {payer_id}.") from None

    def _progress(self, claim_import: ClaimImport) -> None:
        total = claim_import.total_rows or claim_import.processed_rows
        done = claim_import.processed_rows
        width = 30
        filled = int(width * done / total) if total else width
        bar = "#" * min(filled, width) + "-" * (width - min(filled, width))
        self.stderr.write(f"\r[{bar}] {done}/{total} rows", ending="")
        self.stderr.flush()
