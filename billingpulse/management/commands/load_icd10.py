"""Load the ICD-10-CM code set into the DiagnosisCode table.

    manage.py load_icd10                           the code set the simple-icd-10-cm package ships
    manage.py load_icd10 --from-cdc-files DIR      CDC's icd10cm-codes-YYYY.txt + icd10cm-tabular-YYYY.xml
    manage.py load_icd10 --skip-if-loaded          nothing to do if this package's set is already in
    manage.py load_icd10 --only E11,U07            only the codes starting with these (tests)

The package ships FY2026 (its April 1, 2026 release). FY2027 took effect on 2026-10-01 and no
package release has it yet: load CDC's FY2027 files with ``--from-cdc-files`` when you have
them. Each fiscal year is its own code set, kept beside the others, and dates of service pick
theirs (``billingpulse.codes``). Loading a fiscal year again replaces its codes, in one
transaction, so the command can be run any number of times.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib.metadata
import re
import time
import warnings
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from billingpulse.codes import search_text
from billingpulse.models import DiagnosisCode, DiagnosisCodeSet

PACKAGE = "simple-icd-10-cm"
# The library keeps one version in module state; change_version() replaces it for the process.
_state = {"cdc_files": False}
_YEAR_RE = re.compile(r"(?<!\d)(20\d\d)(?!\d)")


@dataclasses.dataclass(frozen=True)
class Release:
    fiscal_year: int
    release: str  # "FY2026 (April 1, 2026)"
    source: str

    @property
    def version(self) -> str:
        return f"FY{self.fiscal_year}"

    @property
    def valid_from(self) -> date:
        # A fiscal year's code set takes effect on October 1 of the year before. (An April 1
        # update's few additions are valid only from April 1; the set keeps the year's dates.)
        return date(self.fiscal_year - 1, 10, 1)

    @property
    def valid_to(self) -> date:
        return date(self.fiscal_year, 9, 30)


def _release_from_name(name: str, source: str, fiscal_year: int | None) -> Release | None:
    """The release a data file's name says: ``…-April-1-2026.xml`` → FY2026 (April 1, 2026)."""
    years = _YEAR_RE.findall(name)
    year = fiscal_year or (int(years[-1]) if years else None)
    if year is None:
        return None
    april = "april" in name.lower() and fiscal_year is None
    return Release(year, f"FY{year} (April 1, {year})" if april else f"FY{year}", source)


def _cdc_files(directory: str) -> tuple[Path, Path]:
    folder = Path(directory)
    if not folder.is_dir():
        raise CommandError(f"{directory} is not a directory. Give the folder that holds CDC's ICD-10-CM files.")
    codes = sorted(p for p in folder.glob("icd10cm[-_]codes[-_]*.txt") if "addenda" not in p.name.lower())
    tabular = sorted(p for p in folder.glob("icd10cm[-_]tabular[-_]*.xml") if "addenda" not in p.name.lower())
    wanted = "icd10cm-codes-YYYY.txt and icd10cm-tabular-YYYY.xml"
    if len(codes) != 1 or len(tabular) != 1:
        found = ", ".join(p.name for p in [*codes, *tabular]) or "neither"
        raise CommandError(f"{directory} must hold exactly one each of {wanted} (found: {found}).")
    return codes[0], tabular[0]


class Command(BaseCommand):
    help = "Load the ICD-10-CM code set (the simple-icd-10-cm package's, or CDC's files) into the database."

    def add_arguments(self, parser):
        parser.add_argument(
            "--from-cdc-files",
            metavar="DIR",
            help="Load CDC's icd10cm-codes-YYYY.txt and icd10cm-tabular-YYYY.xml from DIR instead of the package.",
        )
        parser.add_argument(
            "--fiscal-year",
            type=int,
            help="The fiscal year of the files, when their names do not say it (FY2027 takes effect 2026-10-01).",
        )
        parser.add_argument(
            "--skip-if-loaded",
            action="store_true",
            help="Do nothing if the package's code set is already loaded (make run uses this).",
        )
        parser.add_argument(
            "--only",
            metavar="PREFIXES",
            help="Load only the codes that start with these comma-separated prefixes, like E11,U07.",
        )

    def handle(
        self,
        *args,
        from_cdc_files: str | None,
        fiscal_year: int | None,
        skip_if_loaded: bool,
        only: str | None,
        **options,
    ):
        if fiscal_year is not None and not 2016 <= fiscal_year <= 2100:
            raise CommandError(f"--fiscal-year {fiscal_year} is not an ICD-10-CM fiscal year (2016 on).")
        prefixes = tuple(p.strip().upper() for p in (only or "").split(",") if p.strip())
        if only is not None and not prefixes:
            raise CommandError("--only needs code prefixes, like --only E11,U07.")
        package_source = f"{PACKAGE} {importlib.metadata.version(PACKAGE)}"
        if skip_if_loaded and not from_cdc_files and not prefixes:
            loaded = DiagnosisCodeSet.objects.filter(source=package_source).first()
            if loaded is not None:
                self.stdout.write(f"{loaded} is already loaded ({loaded.code_count:,} codes); nothing to do.")
                return

        started = time.perf_counter()
        if from_cdc_files:
            release, codes = _cdc_release(from_cdc_files, fiscal_year)
        else:
            data_file, codes = _package_codes()
            release = _release_from_name(data_file, package_source, fiscal_year)
            if release is None:
                raise CommandError(f"{package_source} does not name its fiscal year; give it with --fiscal-year.")
        if prefixes:
            release = dataclasses.replace(release, source=f"{release.source} (only {','.join(prefixes)})")
            codes = [code for code in codes if code.code.startswith(prefixes)]
        if not codes:
            raise CommandError("The files hold no ICD-10-CM codes" + (f" starting with {only}." if prefixes else "."))
        read = time.perf_counter() - started
        code_set, replaced = _store(release, codes)
        _tidy()
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded ICD-10-CM {release.release}: {code_set.code_count:,} codes, "
                f"{code_set.billable_count:,} billable, valid for dates of service "
                f"{release.valid_from:%Y-%m-%d} to {release.valid_to:%Y-%m-%d}"
                + (f" (replaced the {replaced:,} codes loaded before)" if replaced else "")
                + f", from {release.source} in {time.perf_counter() - started:.1f} s (reading {read:.1f} s)."
            )
        )
        self.stdout.write(f"Attribution: {code_set.attribution}")


def _cdc_release(directory: str, fiscal_year: int | None) -> tuple[Release, list[_Code]]:
    codes_file, tabular_file = _cdc_files(directory)
    release = _release_from_name(codes_file.name, f"CDC files {codes_file.name}", fiscal_year)
    if release is None:
        raise CommandError(f"{codes_file.name} does not name its fiscal year; give it with --fiscal-year.")
    cm = _import_library()
    try:
        cm.change_version(all_codes_file_path=str(codes_file), classification_data_file_path=str(tabular_file))
    except (OSError, ValueError, SyntaxError) as error:
        # A malformed XML file raises ParseError, a SyntaxError.
        raise CommandError(f"Could not read the CDC files in {directory}: {error}") from error
    finally:
        _state["cdc_files"] = True
    return release, _codes(cm)


@functools.cache
def _package_codes() -> tuple[str, list[_Code]]:
    """The name of the package's data file and its codes, read once per process."""
    cm = _import_library()
    if _state["cdc_files"]:
        # This process loaded CDC files into the library before: back to the package's own.
        with _quiet():
            cm.change_version()
    return getattr(cm.simple_icd_10_cm, "_classification_data_package_file_name", ""), _codes(cm)


def _import_library():
    """simple_icd_10_cm, imported here only: it parses its whole XML at import (2 s, ~200 MB)."""
    with _quiet():
        import simple_icd_10_cm as cm
    return cm


@contextlib.contextmanager
def _quiet():
    """The library reads its own data with importlib.resources.read_text, deprecated since Python 3.11."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


@dataclasses.dataclass(slots=True)
class _Code:
    code: str
    description: str
    billable: bool
    parent: str
    billable_example: str = ""


def _codes(cm) -> list[_Code]:
    """Every category and subcategory in the library's current version, with a billable example for headers."""
    codes: dict[str, _Code] = {}
    for code in cm.get_all_codes(with_dots=True):
        # Chapters ("1") and blocks ("E08-E13") are listed too; a block may share a category's name (B99).
        if code in codes or not cm.is_category_or_subcategory(code):
            continue
        codes[code] = _Code(code, cm.get_description(code), cm.is_leaf(code), cm.get_parent(code))
    _add_billable_examples(codes)
    return list(codes.values())


def _add_billable_examples(codes: dict[str, _Code]) -> None:
    """For each header, the billable code under it to suggest: the shortest, an "unspecified" .9 first."""
    best: dict[str, tuple] = {}
    for code in codes.values():
        if not code.billable:
            continue
        key = (len(code.code), not code.code.endswith("9"), code.code)
        node = code
        # A category's parent is a block, which may have the category's own name (B99): stop there.
        while (parent := codes.get(node.parent)) is not None and parent is not node:
            if parent.code not in best or key < best[parent.code]:
                best[parent.code] = key
            node = parent
    for header, key in best.items():
        codes[header].billable_example = key[2]


@transaction.atomic
def _store(release: Release, codes: list[_Code]) -> tuple[DiagnosisCodeSet, int]:
    """Replace the fiscal year's codes with ``codes``, all in one transaction (readers see old or new).

    The rows go in as plain tuples (COPY on PostgreSQL, one ``executemany`` elsewhere): the
    ORM's ``bulk_create`` spends seconds building 98,000 model instances and their SQL.
    """
    code_set, created = DiagnosisCodeSet.objects.select_for_update().get_or_create(
        version=release.version,
        defaults={"release": release.release, "valid_from": release.valid_from, "valid_to": release.valid_to},
    )
    replaced = 0 if created else code_set.codes.all().delete()[0]
    rows = [
        (code_set.pk, c.code, c.description, c.billable, c.parent, c.billable_example, search_text(c.description))
        for c in codes
    ]
    _insert(rows)
    code_set.release = release.release
    code_set.valid_from, code_set.valid_to = release.valid_from, release.valid_to
    code_set.source = release.source
    code_set.code_count = len(codes)
    code_set.billable_count = sum(code.billable for code in codes)
    code_set.loaded_at = timezone.now()
    code_set.save()
    return code_set, replaced


def _insert(rows: list[tuple]) -> None:
    quote = connection.ops.quote_name
    table = quote(DiagnosisCode._meta.db_table)
    columns = ", ".join(quote(column) for column in _COLUMNS)
    if connection.vendor == "postgresql":
        statement = f"COPY {table} ({columns}) FROM STDIN"
        with connection.cursor() as cursor, connection.wrap_database_errors, cursor.cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        return
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(_COLUMNS))})", rows)


_COLUMNS = ("code_set_id", "code", "description", "billable", "parent", "billable_example", "search_text")


def _tidy() -> None:
    """On PostgreSQL, fresh statistics for the search's planner (how common each word is) and,
    outside a transaction, a VACUUM so that the replaced rows' space is reused and index-only
    scans need not visit the table."""
    if connection.vendor != "postgresql":
        return
    table = connection.ops.quote_name(DiagnosisCode._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}" if connection.in_atomic_block else f"VACUUM (ANALYZE) {table}")
