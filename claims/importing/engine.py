"""Import claims from a spreadsheet into a practice: inspect, then run in batches.

1. ``inspect_upload`` checks the file (format, size, header) and stores it with the
   detected column mapping; a file that cannot be read changes nothing.
2. The biller checks the mapping (``save_mapping``).
3. ``run_import`` streams the rows in batches of ``BATCH_SIZE``; each batch is one
   transaction that matches or creates patients and policies, then inserts new claims
   and updates existing ones (upsert on practice + claim number). Bad rows are stored as
   ``ClaimImportError`` rows for the report; good rows are imported. Memory stays flat
   whatever the file size, and running the same import again gives the same result.

Money is never written onto a claim here: each new claim's charge, stated paid amount and
opening balance, and the difference a re-import makes to a claim's charge or paid amount, are
posted to the ledger (``billing.posting.post_many``, one call per batch, in the batch's
transaction), which keeps the claim's amounts (see "Money" below).

No row can fail the whole import: a row that the parser, our code or the database refuses in
a way nobody foresaw is rejected with the reason, and the others are imported. Only a failure
of the import itself (the database or the stored file gone) stops it; then the batch being
written is rolled back, the import is marked failed with the rows that were imported, and a
retried task carries on from the last batch that committed.

On PostgreSQL the claims, events, lines, patients and policies are written with COPY (see
"Writing with COPY" below); elsewhere with the ORM's bulk operations. Both write the same rows;
``bench/compare_import_paths.py`` checks that, and ``bench/import_claims.py`` measures the speed.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from itertools import islice
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import (
    DataError,
    IntegrityError,
    NotSupportedError,
    ProgrammingError,
    connection,
    models,
    transaction,
)
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from billing.models import Account, AdjustmentReason
from billing.posting import Kind, Leg, Posting, Source, post_many
from billingpulse.codes import CodeBook
from billingpulse.encryption import EncryptedTextField, to_stored
from billingpulse.lib.tasks import TRANSIENT_DB_ERRORS
from billingpulse.models import DiagnosisCodeSet, Patient, Practice, User
from claims.importing.errors import ImportFileError, RowError
from claims.importing.headers import FIELDS, detect_header, validate_mapping
from claims.importing.readers import open_table
from claims.importing.rows import ClaimRow, RowParser
from claims.importing.values import cell_text
from claims.models import ZERO, Claim, ClaimEvent, ClaimImport, ClaimImportError, ClaimLine, InsurancePolicy, Payer
from claims.status import ClaimStatus, can_move, initial_status

logger = logging.getLogger(__name__)

BATCH_SIZE = 5000
# Timely filing deadlines worked out per (date of service, payer); a file has a few hundred dates.
DEADLINE_CACHE_SIZE = 10_000
HEADER_SCAN_ROWS = 15
FIELD_NAMES = {name for name, _label, _required in FIELDS}


# --- 1. Inspect ------------------------------------------------------------------------


@transaction.atomic
def inspect_upload(
    *, practice: Practice, user: User, upload: UploadedFile, default_payer: Payer | None = None
) -> ClaimImport:
    """Check an uploaded file and store it with its detected columns; raise ImportFileError."""
    table = open_table(upload, upload.name, settings.CLAIM_IMPORT_MAX_BYTES)
    first_rows = list(islice(table.rows(), HEADER_SCAN_ROWS))
    if not first_rows:
        raise ImportFileError("The file is empty.")
    match = detect_header(first_rows)
    if match is None:
        raise ImportFileError(
            "We could not find a header row. The first rows should name the columns, "
            "like Claim #, Patient, DOB, DOS, Amount."
        )
    if not any(number > match.row_number for number, _values in first_rows):
        raise ImportFileError("The file has a header row but no claims below it.")
    estimate = table.estimated_rows()
    upload.seek(0)
    claim_import = ClaimImport(
        practice=practice,
        uploaded_by=user,
        original_name=upload.name[:255],
        header_row=match.row_number,
        headers=[str(h or "") for h in match.headers],
        column_mapping={str(index): field for index, field in match.mapping.items()},
        default_payer=default_payer,
        total_rows=max(estimate - match.row_number, 0) if estimate else None,
    )
    claim_import.file.save(upload.name, upload, save=False)
    claim_import.save()
    return claim_import


def preview_rows(claim_import: ClaimImport, limit: int = 5) -> list[list[str]]:
    """The first data rows as text, for the column-check page."""
    rows = []
    for _number, values in _data_rows(claim_import):
        # As the biller reads the cells: an Excel date is 02/15/1976, not "1976-02-15 00:00:00".
        rows.append([cell_text(value) for value in values])
        if len(rows) == limit:
            break
    return rows


def save_mapping(claim_import: ClaimImport, mapping: dict[int, str], default_payer: Payer | None) -> list[str]:
    """Store the biller's corrected mapping; return problems (nothing is saved if any)."""
    mapping = {index: field for index, field in mapping.items() if field in FIELD_NAMES}
    fields = list(mapping.values())
    duplicated = sorted({f for f in fields if fields.count(f) > 1})
    problems = [f"Two columns are set to {_label(field)}; choose one." for field in duplicated]
    problems += validate_mapping(mapping, has_default_payer=default_payer is not None)
    if not problems:
        claim_import.column_mapping = {str(index): field for index, field in mapping.items()}
        claim_import.default_payer = default_payer
        claim_import.save(update_fields=["column_mapping", "default_payer", "updated_at"])
    return problems


def _label(field: str) -> str:
    return next(label for name, label, _required in FIELDS if name == field)


# --- 2. Run ----------------------------------------------------------------------------


def start(claim_import: ClaimImport) -> bool:
    """Queue an import that is waiting for its column check; False if it already left that state."""
    return (
        ClaimImport.objects.filter(pk=claim_import.pk, status=ClaimImport.Status.MAPPING).update(
            status=ClaimImport.Status.QUEUED, updated_at=timezone.now()
        )
        == 1
    )


def run_import(import_id: int, progress=None, *, can_retry: bool = False) -> ClaimImport | None:
    """Run a queued import to the end, or carry on with one that stopped part way.

    Each batch commits together with the import's counts and report rows, so the import's
    page always shows what is in the database. Running an import again (a redelivered or
    retried task) goes on after the last batch that committed: nothing is written or
    counted twice. Of two runs at once, the one that falls behind stops without writing.

    A row that fails in a way nobody foresaw is rejected with the reason, and the rest go
    on. A failure of the import itself (the database or the file gone) rolls back the batch
    being written, marks the import failed with the rows that were imported, and is raised
    again. With ``can_retry`` (a task with retries left) a transient database error leaves
    the import running for the retry instead of failing it.

    ``progress(claim_import)`` is called after every batch (the command's progress bar).
    """
    claimed = ClaimImport.objects.filter(
        pk=import_id, status__in=[ClaimImport.Status.QUEUED, ClaimImport.Status.RUNNING]
    ).update(
        status=ClaimImport.Status.RUNNING,
        started_at=Coalesce("started_at", Value(timezone.now(), output_field=models.DateTimeField())),
    )
    if not claimed:
        return None
    claim_import = ClaimImport.objects.select_related("practice", "default_payer", "uploaded_by").get(pk=import_id)
    position = _Position(first_row=claim_import.header_row + 1, rows_before=claim_import.processed_rows)
    try:
        context = _Context.build(claim_import)
        for batch in _batched(_rows_to_do(context, position), BATCH_SIZE):
            position.stopped_at = batch[0][0]
            _import_batch(context, _parse_batch(context, batch))
            position.done_through, position.stopped_at = batch[-1][0], None
            if progress:
                progress(claim_import)
    except _Superseded:
        logger.info("Claim import %s: another run of it went ahead; this one stops", import_id)
        return None
    except ImportFileError as error:
        return _fail(claim_import, f"{error.message} {position.imported()}.")
    except Exception as error:
        if can_retry and isinstance(error, TRANSIENT_DB_ERRORS):
            logger.warning("Claim import %s: database unavailable at row %s; it will be retried", import_id, position)
            raise
        logger.exception("Claim import %s failed", import_id)
        try:
            _fail(claim_import, position.stopped_message())
        except Exception:
            logger.exception("Claim import %s: could not mark it failed", import_id)
        raise
    claim_import.status = ClaimImport.Status.DONE
    claim_import.total_rows = claim_import.processed_rows
    claim_import.finished_at = timezone.now()
    claim_import.save(update_fields=["status", "total_rows", "finished_at", "updated_at"])
    if progress:
        progress(claim_import)
    return claim_import


def run_import_now(import_id: int) -> None:
    """Run an import during a request. A failure is already logged and shown on the
    import's page as failed, so the biller gets that page rather than an error."""
    # run_import has logged the error and marked the import failed.
    with contextlib.suppress(Exception):
        run_import(import_id)


def _fail(claim_import: ClaimImport, message: str) -> ClaimImport:
    claim_import.status = ClaimImport.Status.FAILED
    claim_import.failure_message = message
    claim_import.finished_at = timezone.now()
    claim_import.save(update_fields=["status", "failure_message", "finished_at", "updated_at"])
    return claim_import


class _Superseded(Exception):
    """Another run of the same import committed this batch first (see ``_import_batch``)."""


@dataclass
class _Position:
    """How far a run got, in the file's row numbers, for the message when it stops."""

    first_row: int
    rows_before: int  # rows an earlier run of this import committed
    done_through: int | None = None  # the last row of the last batch that committed
    stopped_at: int | None = None  # the first row of the batch being written

    def __str__(self) -> str:
        return str(self.stopped_at or self.done_through or self.first_row)

    def imported(self) -> str:
        """What is in the database: "Rows 2–1,001 were imported"."""
        if self.done_through == self.first_row:
            return f"Row {self.first_row:,} was imported"
        if self.done_through is not None:
            return f"Rows {self.first_row:,}–{self.done_through:,} were imported"
        if self.rows_before:
            return f"The first {self.rows_before:,} rows were imported"
        return "Nothing was imported"

    def stopped_message(self) -> str:
        if self.stopped_at:
            where = f" at row {self.stopped_at:,}"
        elif self.done_through:
            where = f" after row {self.done_through:,}"
        else:
            where = ""
        stopped = f"the import stopped{where} because of an error on our side."
        if self.done_through is None and not self.rows_before:
            return f"{stopped[0].upper()}{stopped[1:]} Nothing was imported."
        return f"{self.imported()}; {stopped} {_AGAIN}"


# Importing a file again updates the claims it already imported (the upsert), so this is safe advice.
_AGAIN = "Upload the file again to import the rest: claims already imported are updated, not duplicated."


def _rows_to_do(context: _Context, position: _Position) -> Iterator[tuple[int, list]]:
    """The file's data rows after those an earlier run of this import committed.

    The rows come out of the stored file in the same order every time, so the first
    ``processed_rows`` of them are exactly the ones already written.
    """
    done = context.claim_import.processed_rows
    for number, values in _data_rows(context.claim_import, context.parser):
        if done:
            done -= 1
            position.done_through = number
            continue
        yield number, values


def _data_rows(claim_import: ClaimImport, parser: RowParser | None = None) -> Iterator[tuple[int, list]]:
    """Rows below the header, without blank and totals rows."""
    with claim_import.file.open("rb") as handle:
        table = open_table(handle, claim_import.original_name, max_bytes=None)
        parser = parser or _row_parser(claim_import, decimal_comma=table.decimal_comma)
        for number, values in table.rows():
            if number <= claim_import.header_row or not any(v not in (None, "") for v in values):
                continue
            if parser.is_totals(values):
                continue
            yield number, values


def _row_parser(claim_import: ClaimImport, *, decimal_comma: bool) -> RowParser:
    # What rows.parse_row and rows.is_totals_row use, built once per file instead of checked per row.
    return RowParser(claim_import.column_mapping, list(claim_import.headers), decimal_comma=decimal_comma)


def _reads_decimal_comma(claim_import: ClaimImport) -> bool:
    """Whether the stored file's amounts may use a decimal comma (a CSV separated by semicolons)."""
    with claim_import.file.open("rb") as handle, open_table(handle, claim_import.original_name, None) as table:
        return table.decimal_comma


def _batched(rows: Iterable, size: int) -> Iterator[list]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


@dataclass
class _Context:
    claim_import: ClaimImport
    practice: Practice
    mapping: dict[int, str]
    headers: list[str]
    payers_by_id: dict[str, Payer]
    payers_by_name: dict[str, Payer]
    parser: RowParser
    deadlines: dict[tuple[date, int], date | None]
    codes: CodeBook

    @classmethod
    def build(cls, claim_import: ClaimImport) -> _Context:
        payers = list(Payer.objects.filter(practice=claim_import.practice))
        by_id: dict[str, Payer] = {}
        for payer in payers:
            by_id[payer.payer_id.upper()] = payer
            # Excel turns "00590" into the number 590; match it either way.
            by_id.setdefault(payer.payer_id.lstrip("0").upper(), payer)
        return cls(
            claim_import=claim_import,
            practice=claim_import.practice,
            mapping={int(index): field for index, field in claim_import.column_mapping.items()},
            headers=claim_import.headers,
            payers_by_id=by_id,
            payers_by_name={payer.name.casefold(): payer for payer in payers},
            parser=_row_parser(claim_import, decimal_comma=_reads_decimal_comma(claim_import)),
            deadlines={},
            # The loaded code sets, once per run; each batch then looks its codes up in one query.
            codes=CodeBook(list(DiagnosisCodeSet.objects.all())),
        )

    def row_parser(self) -> RowParser:
        """The file's parser; rebuilt when the day changes, so "in the future" stays true (as parse_row does)."""
        if self.parser.today != date.today():
            self.parser = _row_parser(self.claim_import, decimal_comma=self.parser.decimal_comma)
        return self.parser

    def column(self, field: str) -> str:
        for index, name in self.mapping.items():
            if name == field:
                return self.headers[index] if index < len(self.headers) else _label(field)
        return _label(field)

    def payer_for(self, row: ClaimRow) -> tuple[Payer | None, RowError | None]:
        if row.payer_id:
            payer = self.payers_by_id.get(row.payer_id.upper()) or self.payers_by_id.get(
                row.payer_id.lstrip("0").upper()
            )
            if payer:
                return payer, None
            message = f"Payer ID {row.payer_id} is not one of your payers. Add it on the Payers page or fix the ID."
            return None, RowError(row.row_number, self.column("payer_id"), row.payer_id, message)
        if row.payer_name:
            payer = self.payers_by_name.get(row.payer_name.casefold())
            if payer:
                return payer, None
            message = f"{row.payer_name} is not one of your payers. Add it on the Payers page or fix the name."
            return None, RowError(row.row_number, self.column("payer_name"), row.payer_name, message)
        if self.claim_import.default_payer:
            return self.claim_import.default_payer, None
        return None, RowError(row.row_number, _label("payer_id"), "", "The payer is missing.")

    def deadline(self, service_date: date, payer: Payer) -> date | None:
        """The claim's timely filing deadline, by the claim model's own rule, worked out once per date and payer."""
        key = (service_date, payer.pk)
        if key not in self.deadlines:
            if len(self.deadlines) > DEADLINE_CACHE_SIZE:
                self.deadlines.clear()
            claim = Claim(service_date_from=service_date, payer=payer)
            self.deadlines[key] = claim.compute_timely_filing_deadline()
        return self.deadlines[key]


@dataclass(slots=True)
class _GoodRow:
    row: ClaimRow
    payer: Payer
    patient_id: int | None = None
    policy_id: int | None = None


class _Stored(NamedTuple):
    """What the PostgreSQL path needs to know about a claim already on file."""

    pk: int
    last_import_id: int | None
    status: str
    total_charge: Decimal
    paid_amount: Decimal


@dataclass(slots=True)
class _ParsedBatch:
    size: int
    errors: list[RowError]
    good: dict[str, _GoodRow]  # claim number → the first good row with it


def _parse_batch(context: _Context, batch: list[tuple[int, list]]) -> _ParsedBatch:
    """Check a batch's rows: bad rows become errors, good ones are keyed by claim number.

    The only query is the one that looks up the batch's diagnosis codes in the code set.
    """
    parsed: list[tuple[ClaimRow, Payer | None, RowError | None] | list[RowError]] = []
    parser = context.row_parser()
    for number, values in batch:
        try:
            row, row_errors = parser.parse(number, values)
            if row is None:
                parsed.append(row_errors)
                continue
            parsed.append((row, *context.payer_for(row)))
        except _IMPORT_FAILURES:
            raise
        except Exception as error:
            parsed.append([_row_failed(context, number, error)])
    codes = context.codes.with_codes(code for item in parsed if isinstance(item, tuple) for code in item[0].icd10)
    errors: list[RowError] = []
    good: dict[str, _GoodRow] = {}
    for item in parsed:
        if isinstance(item, list):
            errors += item
            continue
        row, payer, payer_error = item
        if payer_error:
            errors.append(payer_error)
        elif code_error := _diagnosis_code_error(context, codes, row):
            errors.append(code_error)
        elif row.claim_number in good:
            errors.append(_duplicate(context, row, good[row.claim_number].row.row_number))
        else:
            good[row.claim_number] = _GoodRow(row, payer)
    return _ParsedBatch(len(batch), errors, good)


def _diagnosis_code_error(context: _Context, codes: CodeBook, row: ClaimRow) -> RowError | None:
    """The row's diagnosis codes that the code set refuses (unknown, or a header), if any."""
    problems = [result.message for code in row.icd10 if not (result := codes.check(code)).ok]
    if not problems:
        return None
    return RowError(row.row_number, context.column("icd10"), ", ".join(row.icd10), " ".join(problems))


def _import_batch(context: _Context, parsed: _ParsedBatch) -> None:
    """Write one batch, all or nothing: its claims, its report rows and the import's counts commit together."""
    claim_import = context.claim_import
    done = claim_import.processed_rows
    with transaction.atomic():
        # Take the batch first. A second run of this import at the same moment (a redelivered
        # task) waits here until this batch commits, then finds the count moved on and stops.
        taken = ClaimImport.objects.filter(pk=claim_import.pk, processed_rows=done).update(
            processed_rows=done + parsed.size, updated_at=timezone.now()
        )
        if not taken:
            raise _Superseded
        written = _write_rows(context, list(parsed.good.values()))
        errors = parsed.errors + written.errors
        ClaimImportError.objects.bulk_create(
            ClaimImportError(
                claim_import=claim_import,
                row_number=error.row,
                column=error.column[:200],
                value=str(error.value)[:500],
                message=error.message[:500],
            )
            for error in errors
        )
        counts = {
            "imported_count": claim_import.imported_count + written.created,
            "updated_count": claim_import.updated_count + written.updated,
            "rejected_count": claim_import.rejected_count + len({error.row for error in errors}),
        }
        ClaimImport.objects.filter(pk=claim_import.pk).update(**counts)
    # Committed: only now does the import in memory move on with the database.
    claim_import.processed_rows = done + parsed.size
    for field, value in counts.items():
        setattr(claim_import, field, value)


class _Written(NamedTuple):
    created: int
    updated: int
    errors: list[RowError]


# Failures of the import itself rather than of one row: they stop the import (and roll back the
# batch) wherever they happen. Every other error while one row is prepared or written rejects it.
_IMPORT_FAILURES: tuple[type[BaseException], ...] = (
    *TRANSIENT_DB_ERRORS,
    ProgrammingError,
    NotSupportedError,
    MemoryError,
)


def _write_rows(context: _Context, items: list[_GoodRow]) -> _Written:
    """Write good rows; if something refuses them, find the rows it refuses by halves and reject those alone.

    Each attempt runs in a savepoint, so a refused attempt leaves nothing behind, and starts
    from fresh copies of the rows, since an attempt fills in patient and policy ids that its
    rollback takes back. A file without such rows is written in one attempt, as before.
    """
    if not items:
        return _Written(0, 0, [])
    try:
        with transaction.atomic():
            return _write(context, [_GoodRow(item.row, item.payer) for item in items])
    except _IMPORT_FAILURES:
        raise
    except Exception as error:
        if len(items) == 1:
            return _Written(0, 0, [_row_failed(context, items[0].row.row_number, error)])
    middle = len(items) // 2
    first, second = _write_rows(context, items[:middle]), _write_rows(context, items[middle:])
    return _Written(first.created + second.created, first.updated + second.updated, first.errors + second.errors)


def _write(context: _Context, items: list[_GoodRow]) -> _Written:
    """Match patients and policies for good rows, insert their new claims and update those on file."""
    good = {item.row.claim_number: item for item in items}
    errors: list[RowError] = []
    fast = _use_copy()
    existing = _stored_claims(context, good) if fast else _existing_claims(context, good)
    # A claim this import already wrote in an earlier batch is a repeat within the file.
    for number, claim in list(existing.items()):
        if claim.last_import_id == context.claim_import.pk:
            errors.append(_duplicate(context, good.pop(number).row, None))
            del existing[number]

    now = timezone.now()
    errors += _attach_patients(context, good, now)
    _attach_policies(context, good, now)
    new = [g for n, g in good.items() if n not in existing]
    pairs = [(existing[n], g) for n, g in good.items() if n in existing]
    if fast:
        created = _copy_new_claims(context, new, now)
        updated = _copy_claim_updates(context, pairs, now)
    else:
        created = _create_claims(context, new)
        updated = _update_claims(context, pairs)
    post_many(context.practice, _money_postings(context, created, pairs))
    return _Written(len(created), updated, errors)


def _row_failed(context: _Context, row_number: int, error: Exception) -> RowError:
    """The report entry for a row that failed unexpectedly: the reason in plain words; the details go to the log."""
    logger.warning("Claim import %s: row %s could not be imported", context.claim_import.pk, row_number, exc_info=error)
    if isinstance(error, DataError):
        reason = "a value in it is too long or too large to store."
    elif isinstance(error, IntegrityError):
        reason = "the database refused one of its values."
    elif isinstance(error, ArithmeticError):
        reason = "a date or number in it is out of range."
    elif isinstance(error, ValidationError):  # the ledger refused its money (billing.posting.PostingError)
        reason = " ".join(error.messages)
    else:
        reason = "something went wrong on our side while saving it. We have logged the details."
    return RowError(row_number, "", "", f"This row could not be imported: {reason}")


def _duplicate(context: _Context, row: ClaimRow, first_row: int | None) -> RowError:
    where = f"; first on row {first_row}" if first_row else " earlier in this file"
    message = f"Claim number {row.claim_number} appears more than once{where}. Only the first was imported."
    return RowError(row.row_number, context.column("claim_number"), row.claim_number, message)


def _existing_claims(context: _Context, good: dict[str, _GoodRow]) -> dict[str, Claim]:
    return {
        claim.claim_number: claim
        for claim in Claim.objects.filter(practice=context.practice, claim_number__in=list(good))
        .select_related("payer")
        .prefetch_related("lines")
    }


def _stored_claims(context: _Context, good: dict[str, _GoodRow]) -> dict[str, _Stored]:
    if not good:
        return {}
    # = ANY(array) rather than the ORM's IN (%s, %s, …): one parameter instead of thousands to write out.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT claim_number, id, last_import_id, status, total_charge, paid_amount FROM {Claim._meta.db_table} "
            # In the claims' usual order, as the ORM path finds them, so repeats are reported in the same order.
            "WHERE practice_id = %s AND claim_number = ANY(%s) ORDER BY service_date_from DESC, claim_number",
            [context.practice.pk, list(good)],
        )
        return {number: _Stored(*rest) for number, *rest in cursor}


def _attach_patients(context: _Context, good: dict[str, _GoodRow], now: datetime) -> list[RowError]:
    """Match each row's patient by name and date of birth, creating the ones not on file."""
    last_names = {g.row.last_name for g in good.values()}
    on_file: dict[tuple[str, str, date | None], list[int]] = {}
    for pk, first_name, last_name, date_of_birth in Patient.objects.filter(
        practice=context.practice, last_name__in=last_names
    ).values_list("pk", "first_name", "last_name", "date_of_birth"):
        for dob in (date_of_birth, None):
            on_file.setdefault(_patient_key(first_name, last_name, dob), []).append(pk)

    errors: list[RowError] = []
    to_create: dict[tuple[str, str, date | None], dict] = {}
    for number, item in list(good.items()):
        row = item.row
        matches = on_file.get(_patient_key(row.first_name, row.last_name, row.dob), [])
        if len(matches) == 1:
            item.patient_id = matches[0]
        elif row.dob is None:
            message = (
                "Date of birth is missing, and is needed to tell which patient this is."
                if matches
                else "Date of birth is missing; it is needed to add this patient."
            )
            errors.append(RowError(row.row_number, context.column("patient_dob"), "", message))
            del good[number]
        elif matches:
            item.patient_id = matches[0]
        else:
            key = _patient_key(row.first_name, row.last_name, row.dob)
            to_create.setdefault(
                key,
                {
                    "practice_id": context.practice.pk,
                    "first_name": row.first_name,
                    "last_name": row.last_name,
                    "date_of_birth": row.dob,
                },
            )
    if to_create:
        created = dict(zip(to_create, _insert(Patient, list(to_create.values()), now), strict=True))
        for item in good.values():
            if item.patient_id is None:
                item.patient_id = created[_patient_key(item.row.first_name, item.row.last_name, item.row.dob)]
    return errors


def _patient_key(first: str, last: str, dob: date | None) -> tuple[str, str, date | None]:
    return first.casefold(), last.casefold(), dob


def _attach_policies(context: _Context, good: dict[str, _GoodRow], now: datetime) -> None:
    wanted = {(g.patient_id, g.payer.pk, g.row.member_id): g for g in good.values() if g.row.member_id}
    if not wanted:
        return
    policies = {
        (patient_id, payer_id, member_id): pk
        for pk, patient_id, payer_id, member_id in InsurancePolicy.objects.filter(
            practice=context.practice,
            patient_id__in={key[0] for key in wanted},
            member_id__in={key[2] for key in wanted},
        ).values_list("pk", "patient_id", "payer_id", "member_id")
    }
    missing = [key for key in wanted if key not in policies]
    rows = [
        {
            "practice_id": context.practice.pk,
            "patient_id": patient_id,
            "payer_id": payer_id,
            "member_id": member_id,
            "group_number": wanted[(patient_id, payer_id, member_id)].row.group_number or "",
        }
        for patient_id, payer_id, member_id in missing
    ]
    policies.update(zip(missing, _insert(InsurancePolicy, rows, now), strict=True))
    for item in good.values():
        if item.row.member_id:
            item.policy_id = policies[(item.patient_id, item.payer.pk, item.row.member_id)]


def _claim_values(item: _GoodRow) -> dict:
    """The claim's columns from a row, but not its money: that is posted to the ledger (``_money_postings``)."""
    row = item.row
    values = {
        "patient_id": item.patient_id,
        "payer": item.payer,
        "service_date_from": row.date_of_service,
        "service_date_to": row.date_of_service_to,
    }
    if item.policy_id:
        values["policy_id"] = item.policy_id
    if row.denial_code or row.denial_reason:
        values["denial_code"] = row.denial_code
        values["denial_reason"] = row.denial_reason[:300]
    if row.icd10:
        values["diagnosis_codes"] = row.icd10
    return values


def _imported_message(context: _Context, row: ClaimRow) -> str:
    return f"Imported from {context.claim_import.original_name}, row {row.row_number}."


def _updated_message(context: _Context, row: ClaimRow) -> str:
    return f"Updated from {context.claim_import.original_name}, row {row.row_number}."


def _denial_message(row: ClaimRow) -> str:
    return f"Denial {row.denial_code} in the import."


# --- Money: posted to the ledger, never written over a claim's amounts ---------------------
#
# A new claim is written with no money; its charge, and the paid amount the file states, are
# then posted (source "import"), which sets the claim's amounts. A claim on file whose charge or
# paid amount the file changes gets the difference posted, with a memo that says so.
#
# A balance column beside the charge is the new claim's opening balance: what the charge (less
# the stated paid amount) leaves out of it was paid or adjusted before the claim came to us, and
# nobody can say which, so it is posted as an "other" adjustment with source "opening" (as the
# opening balances of claims older than the ledger are). A claim on file gets none: from the
# import that created it on, its balance is the ledger's, and a later file's balance is not
# posted over what has been posted since. Like any adjustment it moves no status by itself: the
# ledger settles a claim's status on money paid (``billing.posting.settled_status``), so a claim
# the file shows settled without a paid amount keeps the status it was imported with.
#
# All of a batch's postings go in one ``post_many`` call, inside the batch's transaction, so they
# commit or roll back with it. The keys name the import, the claim and (for a difference) the new
# amount, so a batch that is written again replays its postings instead of doubling them.


def _money_postings(
    context: _Context, created: list[tuple[int, _GoodRow]], pairs: list[tuple[Claim | _Stored, _GoodRow]]
) -> list[Posting]:
    import_id, name = context.claim_import.pk, context.claim_import.original_name
    practice_id = context.practice.pk
    postings: list[Posting] = []
    # Only their ids are needed (the posting service locks and reads the rows itself), so one
    # unsaved instance per patient and claim stands in for each; a batch has thousands.
    patients: dict[int, Patient] = {}
    claims: dict[int, Claim] = {}

    def add(
        claim_id: int,
        item: _GoodRow,
        kind: str,
        legs: list[Leg],
        key: str,
        memo: str,
        effective=None,
        *,
        source: str = Source.IMPORT,
        reason: str = "",
    ) -> None:
        patient = patients.get(item.patient_id)
        if patient is None:
            patient = patients[item.patient_id] = Patient(pk=item.patient_id, practice_id=practice_id)
        claim = claims.get(claim_id)
        if claim is None:
            claim = claims[claim_id] = Claim(pk=claim_id, practice_id=practice_id, patient_id=item.patient_id)
        postings.append(
            Posting(
                kind=kind,
                source=source,
                legs=legs,
                reason=reason,
                idempotency_key=f"import:{import_id}:{claim_id}:{key}",
                claim=claim,
                patient=patient,
                memo=memo,
                effective_date=effective,
                actor=context.claim_import.uploaded_by,
            )
        )

    for claim_id, item in created:
        row = item.row
        if row.amount:
            memo = f"Charge imported from {name}, row {row.row_number}."
            add(claim_id, item, Kind.CHARGE, _charge_legs(row.amount), "charge", memo, row.date_of_service)
        if row.paid_amount:
            memo = f"Paid amount imported from {name}, row {row.row_number}."
            add(claim_id, item, Kind.PAYMENT, _paid_legs(row.paid_amount), "paid", memo)
        if row.opening_balance is not None and (before := row.amount - (row.paid_amount or ZERO) - row.opening_balance):
            memo = (
                f"Opening balance from import: ${before:,.2f} of the ${row.amount:,.2f} charge was paid or adjusted "
                f"before the import ({name}, row {row.row_number})."
            )
            legs = _opening_legs(before)
            add(claim_id, item, Kind.ADJUSTMENT, legs, "opening", memo, row.date_of_service, **_OPENING)
    for claim, item in pairs:
        row = item.row
        if row.amount != claim.total_charge:
            memo = f"Re-import changed the charge from ${claim.total_charge:,.2f} to ${row.amount:,.2f}."
            legs = _charge_legs(row.amount - claim.total_charge)
            add(claim.pk, item, Kind.CHARGE, legs, f"charge:{row.amount}", memo)
        if row.paid_amount is not None and row.paid_amount != claim.paid_amount:
            memo = f"Re-import changed the paid amount from ${claim.paid_amount:,.2f} to ${row.paid_amount:,.2f}."
            legs = _paid_legs(row.paid_amount - claim.paid_amount)
            add(claim.pk, item, Kind.PAYMENT, legs, f"paid:{row.paid_amount}", memo)
    return postings


def _charge_legs(amount: Decimal) -> list[Leg]:
    """The primary payer owes the charge (a negative amount lowers it)."""
    return [Leg(Account.PRIMARY_AR, amount), Leg(Account.CHARGES, -amount)]


# Who knows whether the difference was paid, written off or adjusted: "other", from before the ledger.
_OPENING = {"source": Source.OPENING, "reason": AdjustmentReason.OTHER}


def _opening_legs(amount: Decimal) -> list[Leg]:
    """What the primary payer no longer owed when the claim came in (the parser keeps it positive)."""
    return [Leg(AdjustmentReason.OTHER.account, amount), Leg(Account.PRIMARY_AR, -amount)]


def _paid_legs(amount: Decimal) -> list[Leg]:
    """The primary payer paid (a negative amount takes part of an earlier payment back)."""
    return [Leg(Account.CASH, amount), Leg(Account.PRIMARY_AR, -amount)]


# --- Writing with the ORM (SQLite and other databases) ----------------------------------


def _create_claims(context: _Context, items: list[_GoodRow]) -> list[tuple[int, _GoodRow]]:
    """Insert new claims (with no money yet); their ids with their rows."""
    if not items:
        return []
    claims = []
    for item in items:
        claim = Claim(
            practice=context.practice,
            claim_number=item.row.claim_number,
            status=initial_status(item.row.denial_code).value,
            last_import=context.claim_import,
            total_charge=ZERO,
            **_claim_values(item),
        )
        claim.timely_filing_deadline = context.deadline(item.row.date_of_service, item.payer)
        claims.append(claim)
    Claim.objects.bulk_create(claims)
    ClaimEvent.objects.bulk_create(
        ClaimEvent(
            claim=claim,
            kind=ClaimEvent.Kind.IMPORTED,
            to_status=claim.status,
            message=_imported_message(context, item.row),
            actor=context.claim_import.uploaded_by,
            source="import",
        )
        for claim, item in zip(claims, items, strict=True)
    )
    ClaimLine.objects.bulk_create(
        _line(claim, item.row, 1) for claim, item in zip(claims, items, strict=True) if item.row.cpt
    )
    return [(claim.pk, item) for claim, item in zip(claims, items, strict=True)]


def _line(claim: Claim, row: ClaimRow, number: int) -> ClaimLine:
    return ClaimLine(
        claim=claim,
        line_number=number,
        service_date=row.date_of_service,
        procedure_code=row.cpt,
        modifiers=row.modifiers,
        units=row.units or Decimal("1"),
        charge=row.amount,
        place_of_service=row.place_of_service or "",
    )


UPDATED_FIELDS = [
    "patient",
    "payer",
    "policy",
    "service_date_from",
    "service_date_to",
    "denial_code",
    "denial_reason",
    "diagnosis_codes",
    "status",
    "status_changed_at",
    "timely_filing_deadline",
    "last_import",
    "updated_at",
]


def _update_claims(context: _Context, pairs: list[tuple[Claim, _GoodRow]]) -> int:
    if not pairs:
        return 0
    now = timezone.now()
    events, new_lines, changed_lines = [], [], []
    for claim, item in pairs:
        for field, value in _claim_values(item).items():
            setattr(claim, field, value)
        claim.timely_filing_deadline = context.deadline(item.row.date_of_service, item.payer)
        claim.last_import = context.claim_import
        claim.updated_at = now
        events.append(_event(claim, ClaimEvent.Kind.UPDATED, _updated_message(context, item.row), context))
        if _denied_by_import(claim.status, item.row):
            event = _event(claim, ClaimEvent.Kind.STATUS_CHANGED, _denial_message(item.row), context)
            event.from_status, event.to_status = claim.status, ClaimStatus.DENIED
            events.append(event)
            claim.status, claim.status_changed_at = ClaimStatus.DENIED, now
        if item.row.cpt:
            first = next(iter(claim.lines.all()), None)
            if first is None:
                new_lines.append(_line(claim, item.row, 1))
            elif first.procedure_code != item.row.cpt:
                first.procedure_code, first.updated_at = item.row.cpt, now
                changed_lines.append(first)
    Claim.objects.bulk_update([claim for claim, _item in pairs], UPDATED_FIELDS)
    ClaimEvent.objects.bulk_create(events)
    ClaimLine.objects.bulk_create(new_lines)
    ClaimLine.objects.bulk_update(changed_lines, ["procedure_code", "updated_at"])
    return len(pairs)


def _denied_by_import(status: str, row: ClaimRow) -> bool:
    return bool(row.denial_code) and status != ClaimStatus.DENIED and can_move(status, ClaimStatus.DENIED)


def _event(claim: Claim, kind: str, message: str, context: _Context) -> ClaimEvent:
    return ClaimEvent(claim=claim, kind=kind, message=message, actor=context.claim_import.uploaded_by, source="import")


# --- Writing with COPY (PostgreSQL) -----------------------------------------------------
#
# The same rows as the ORM path above, written with COPY instead of multi-row INSERTs built
# from model instances, which cost far more in Python than the database spends storing them.
# New rows are copied straight into their tables (ids taken from the table's sequence first,
# so that events and lines can point at their claim); updates are copied into a temporary
# table and applied with one UPDATE ... FROM.


def _use_copy() -> bool:
    return connection.vendor == "postgresql"


def _insert(model: type[models.Model], rows: list[dict], now: datetime) -> list[int]:
    """Insert ``rows`` (field attname → value, the same keys in each) and return their new ids in order."""
    if not rows:
        return []
    if not _use_copy():
        return [obj.pk for obj in model.objects.bulk_create([model(**row) for row in rows])]
    fields = list(rows[0])
    ids = _reserve_ids(model, len(rows))
    _copy(model, ["id", *fields], ((pk, *row.values()) for pk, row in zip(ids, rows, strict=True)), now)
    return ids


def _reserve_ids(model: type[models.Model], count: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, count],
        )
        return sorted(pk for (pk,) in cursor.fetchall())


_NOW = object()
DENIED = ClaimStatus.DENIED.value


@cache
def _copy_plan(model: type[models.Model], given: tuple[str, ...]) -> tuple[str, tuple, tuple[int, ...]]:
    """For a COPY into ``model``'s table with the fields ``given``: the column list, the values of the
    other columns (what ``bulk_create`` would write for a new object), and which given ones are JSON."""
    meta = model._meta
    columns, defaults = [meta.get_field(name).column for name in given], []
    for field in meta.concrete_fields:
        if field.attname in given or field.primary_key:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = _NOW
        else:
            value = field.get_default()
            if isinstance(field, models.JSONField):
                value = json.dumps(value, cls=field.encoder)
        columns.append(field.column)
        defaults.append(value)
    json_positions = tuple(i for i, name in enumerate(given) if isinstance(meta.get_field(name), models.JSONField))
    # COPY bypasses the fields: encrypted ones get their stored form here (billingpulse.encryption).
    encrypted = tuple(i for i, name in enumerate(given) if isinstance(meta.get_field(name), EncryptedTextField))
    quote = connection.ops.quote_name
    statement = f"COPY {quote(meta.db_table)} ({', '.join(quote(column) for column in columns)}) FROM STDIN"
    return statement, tuple(defaults), json_positions, encrypted


def _copy(model: type[models.Model], given: list[str], rows: Iterable[tuple], now: datetime) -> None:
    """COPY ``rows`` (values of the fields ``given``, in order) into ``model``'s table."""
    statement, defaults, json_positions, encrypted = _copy_plan(model, tuple(given))
    rest = tuple(now if value is _NOW else value for value in defaults)
    # psycopg's own copy() is not wrapped by Django: turn its errors into Django's (DataError,
    # OperationalError …), as the rest of the import and the task's retries expect.
    with connection.cursor() as cursor, connection.wrap_database_errors, cursor.cursor.copy(statement) as copy:
        for row in rows:
            if json_positions or encrypted:
                row = list(row)
                for i in json_positions:
                    row[i] = json.dumps(row[i])
                for i in encrypted:
                    row[i] = to_stored(row[i])
            copy.write_row((*row, *rest))


def _copy_new_claims(context: _Context, items: list[_GoodRow], now: datetime) -> list[tuple[int, _GoodRow]]:
    """Copy new claims (with no money yet) in; their ids with their rows."""
    if not items:
        return []
    ids = _reserve_ids(Claim, len(items))
    practice_id, import_id = context.practice.pk, context.claim_import.pk
    claims, events, lines = [], [], []
    for pk, item in zip(ids, items, strict=True):
        row = item.row
        status = initial_status(row.denial_code).value
        denial = bool(row.denial_code or row.denial_reason)
        claims.append(
            (
                pk,
                practice_id,
                row.claim_number,
                status,
                import_id,
                item.patient_id,
                item.payer.pk,
                item.policy_id or None,
                row.date_of_service,
                row.date_of_service_to,
                ZERO,  # total charge and paid amount: posted to the ledger afterwards
                ZERO,
                row.denial_code if denial else "",
                row.denial_reason[:300] if denial else "",
                row.icd10 or [],
                context.deadline(row.date_of_service, item.payer),
            )
        )
        events.append((pk, ClaimEvent.Kind.IMPORTED.value, "", status, _imported_message(context, row)))
        if row.cpt:
            lines.append(_line_values(pk, row))
    _copy(Claim, _NEW_CLAIM_FIELDS, claims, now)
    _copy_events(context, events, now)
    _copy(ClaimLine, _LINE_FIELDS, lines, now)
    return list(zip(ids, items, strict=True))


_NEW_CLAIM_FIELDS = [
    "id",
    "practice_id",
    "claim_number",
    "status",
    "last_import_id",
    "patient_id",
    "payer_id",
    "policy_id",
    "service_date_from",
    "service_date_to",
    "total_charge",
    "paid_amount",
    "denial_code",
    "denial_reason",
    "diagnosis_codes",
    "timely_filing_deadline",
]
_LINE_FIELDS = [
    "claim_id",
    "line_number",
    "service_date",
    "procedure_code",
    "modifiers",
    "units",
    "charge",
    "place_of_service",
]


def _line_values(claim_id: int, row: ClaimRow) -> tuple:
    return (
        claim_id,
        1,
        row.date_of_service,
        row.cpt,
        row.modifiers,
        row.units or Decimal("1"),
        row.amount,
        row.place_of_service or "",
    )


def _copy_events(context: _Context, events: list[tuple], now: datetime) -> None:
    """Events as (claim id, kind, from status, to status, message), by the import's user."""
    actor_id = context.claim_import.uploaded_by_id
    _copy(
        ClaimEvent,
        ["claim_id", "kind", "from_status", "to_status", "message", "actor_id", "source"],
        ((*event, actor_id, "import") for event in events),
        now,
    )


# The columns an import writes to a claim on file, and how: a value the row leaves out (NULL
# here, or set_denial false) keeps the claim's own, as in _update_claims.
_UPDATE_STAGING = """
    CREATE TEMPORARY TABLE claim_import_update (
        id bigint PRIMARY KEY, patient_id bigint, payer_id bigint, policy_id bigint,
        service_date_from date, service_date_to date,
        set_denial boolean, denial_code text, denial_reason text, diagnosis_codes jsonb,
        status text, status_changed boolean, timely_filing_deadline date
    ) ON COMMIT DROP
"""
_UPDATE_CLAIMS = """
    UPDATE claims_claim AS c SET
        patient_id = s.patient_id,
        payer_id = s.payer_id,
        policy_id = COALESCE(s.policy_id, c.policy_id),
        service_date_from = s.service_date_from,
        service_date_to = s.service_date_to,
        denial_code = CASE WHEN s.set_denial THEN s.denial_code ELSE c.denial_code END,
        denial_reason = CASE WHEN s.set_denial THEN s.denial_reason ELSE c.denial_reason END,
        diagnosis_codes = COALESCE(s.diagnosis_codes, c.diagnosis_codes),
        status = s.status,
        status_changed_at = CASE WHEN s.status_changed THEN %(now)s ELSE c.status_changed_at END,
        timely_filing_deadline = s.timely_filing_deadline,
        last_import_id = %(import_id)s,
        updated_at = %(now)s
    FROM claim_import_update AS s
    WHERE c.id = s.id
"""


def _copy_claim_updates(context: _Context, pairs: list[tuple[_Stored, _GoodRow]], now: datetime) -> int:
    if not pairs:
        return 0
    updates, events = [], []
    for claim, item in pairs:
        row = item.row
        denied = _denied_by_import(claim.status, row)
        denial = bool(row.denial_code or row.denial_reason)
        updates.append(
            (
                claim.pk,
                item.patient_id,
                item.payer.pk,
                item.policy_id or None,
                row.date_of_service,
                row.date_of_service_to,
                denial,
                row.denial_code if denial else "",
                to_stored(row.denial_reason[:300] if denial else ""),
                json.dumps(row.icd10) if row.icd10 else None,
                DENIED if denied else claim.status,
                denied,
                context.deadline(row.date_of_service, item.payer),
            )
        )
        events.append((claim.pk, ClaimEvent.Kind.UPDATED.value, "", "", _updated_message(context, row)))
        if denied:
            events.append((claim.pk, ClaimEvent.Kind.STATUS_CHANGED.value, claim.status, DENIED, _denial_message(row)))
    with connection.cursor() as cursor:
        cursor.execute(_UPDATE_STAGING)
        with connection.wrap_database_errors, cursor.cursor.copy("COPY claim_import_update FROM STDIN") as copy:
            for update in updates:
                copy.write_row(update)
        cursor.execute(_UPDATE_CLAIMS, {"now": now, "import_id": context.claim_import.pk})
        cursor.execute("DROP TABLE claim_import_update")
    _copy_events(context, events, now)
    _copy_line_changes(context, [(claim.pk, item.row) for claim, item in pairs if item.row.cpt], now)
    return len(pairs)


def _copy_line_changes(context: _Context, claims: list[tuple[int, ClaimRow]], now: datetime) -> None:
    """The first service line of each claim takes the row's procedure code; a claim without lines gets one."""
    if not claims:
        return
    first_lines: dict[int, tuple[int, int, str]] = {}
    for claim_id, line_number, pk, code in ClaimLine.objects.filter(
        claim_id__in=[claim_id for claim_id, _row in claims]
    ).values_list("claim_id", "line_number", "pk", "procedure_code"):
        if claim_id not in first_lines or line_number < first_lines[claim_id][0]:
            first_lines[claim_id] = (line_number, pk, code)
    new_lines, changed = [], []
    for claim_id, row in claims:
        first = first_lines.get(claim_id)
        if first is None:
            new_lines.append(_line_values(claim_id, row))
        elif first[2] != row.cpt:
            changed.append(ClaimLine(pk=first[1], procedure_code=row.cpt, updated_at=now))
    _copy(ClaimLine, _LINE_FIELDS, new_lines, now)
    ClaimLine.objects.bulk_update(changed, ["procedure_code", "updated_at"])
