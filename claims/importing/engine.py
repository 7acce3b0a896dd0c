"""Import claims from a spreadsheet into a practice: inspect, then run in batches.

1. ``inspect_upload`` checks the file (format, size, header) and stores it with the
   detected column mapping; a file that cannot be read changes nothing.
2. The biller checks the mapping (``save_mapping``).
3. ``run_import`` streams the rows in batches of ``BATCH_SIZE``; each batch is one
   transaction that matches or creates patients and policies, then inserts new claims
   and updates existing ones (upsert on practice + claim number). Bad rows are stored as
   ``ClaimImportError`` rows for the report; good rows are imported. Memory stays flat
   whatever the file size, and running the same import again gives the same result.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import islice

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from billingpulse.models import Patient, Practice, User
from claims.importing.errors import ImportFileError, RowError
from claims.importing.headers import FIELDS, detect_header, validate_mapping
from claims.importing.readers import open_table
from claims.importing.rows import ClaimRow, is_totals_row, parse_row
from claims.models import Claim, ClaimEvent, ClaimImport, ClaimImportError, ClaimLine, InsurancePolicy, Payer
from claims.status import ClaimStatus, can_move

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
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
        rows.append(["" if value is None else str(value) for value in values])
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


def run_import(import_id: int, progress=None) -> ClaimImport | None:
    """Run a queued import to the end. Safe to call again: it starts over and upserts.

    ``progress(claim_import)`` is called after every batch (the command's progress bar).
    """
    claimed = ClaimImport.objects.filter(
        pk=import_id, status__in=[ClaimImport.Status.QUEUED, ClaimImport.Status.RUNNING]
    ).update(
        status=ClaimImport.Status.RUNNING,
        started_at=timezone.now(),
        processed_rows=0,
        imported_count=0,
        updated_count=0,
        rejected_count=0,
    )
    if not claimed:
        return None
    claim_import = ClaimImport.objects.select_related("practice", "default_payer", "uploaded_by").get(pk=import_id)
    # Starting over after an interruption: forget the earlier attempt's marks and report.
    ClaimImportError.objects.filter(claim_import=claim_import).delete()
    Claim.objects.filter(last_import=claim_import).update(last_import=None)
    try:
        context = _Context.build(claim_import)
        for batch in _batched(_data_rows(claim_import), BATCH_SIZE):
            _import_batch(context, batch)
            claim_import.save(
                update_fields=["processed_rows", "imported_count", "updated_count", "rejected_count", "updated_at"]
            )
            if progress:
                progress(claim_import)
    except ImportFileError as error:
        return _fail(claim_import, error.message)
    except Exception:
        logger.exception("Claim import %s failed", import_id)
        _fail(claim_import, "The import stopped because of an error on our side. The rows shown were imported.")
        raise
    claim_import.status = ClaimImport.Status.DONE
    claim_import.total_rows = claim_import.processed_rows
    claim_import.finished_at = timezone.now()
    claim_import.save(update_fields=["status", "total_rows", "finished_at", "updated_at"])
    if progress:
        progress(claim_import)
    return claim_import


def _fail(claim_import: ClaimImport, message: str) -> ClaimImport:
    claim_import.status = ClaimImport.Status.FAILED
    claim_import.failure_message = message
    claim_import.finished_at = timezone.now()
    claim_import.save(update_fields=["status", "failure_message", "finished_at", "updated_at"])
    return claim_import


def _data_rows(claim_import: ClaimImport) -> Iterator[tuple[int, list]]:
    """Rows below the header, without blank and totals rows."""
    mapping = {int(index): field for index, field in claim_import.column_mapping.items()}
    with claim_import.file.open("rb") as handle:
        table = open_table(handle, claim_import.original_name, max_bytes=None)
        for number, values in table.rows():
            if number <= claim_import.header_row or not any(v not in (None, "") for v in values):
                continue
            if is_totals_row(values, mapping):
                continue
            yield number, values


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
        )

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


@dataclass
class _GoodRow:
    row: ClaimRow
    payer: Payer
    patient: Patient | None = None
    policy: InsurancePolicy | None = None


@transaction.atomic
def _import_batch(context: _Context, batch: list[tuple[int, list]]) -> None:
    errors: list[RowError] = []
    good: dict[str, _GoodRow] = {}
    for number, values in batch:
        row, row_errors = parse_row(number, values, context.mapping, context.headers)
        if row is None:
            errors += row_errors
            continue
        payer, payer_error = context.payer_for(row)
        if payer_error:
            errors.append(payer_error)
        elif row.claim_number in good:
            errors.append(_duplicate(context, row, good[row.claim_number].row.row_number))
        else:
            good[row.claim_number] = _GoodRow(row, payer)

    existing = {
        claim.claim_number: claim
        for claim in Claim.objects.filter(practice=context.practice, claim_number__in=list(good))
        .select_related("payer")
        .prefetch_related("lines")
    }
    # A claim this import already wrote in an earlier batch is a repeat within the file.
    for number, claim in list(existing.items()):
        if claim.last_import_id == context.claim_import.pk:
            errors.append(_duplicate(context, good.pop(number).row, None))
            del existing[number]

    errors += _attach_patients(context, good)
    _attach_policies(context, good)
    created = _create_claims(context, [g for n, g in good.items() if n not in existing])
    updated = _update_claims(context, [(existing[n], g) for n, g in good.items() if n in existing])

    ClaimImportError.objects.bulk_create(
        ClaimImportError(
            claim_import=context.claim_import,
            row_number=error.row,
            column=error.column[:200],
            value=str(error.value)[:500],
            message=error.message[:500],
        )
        for error in errors
    )
    claim_import = context.claim_import
    claim_import.processed_rows += len(batch)
    claim_import.imported_count += created
    claim_import.updated_count += updated
    claim_import.rejected_count += len({error.row for error in errors})


def _duplicate(context: _Context, row: ClaimRow, first_row: int | None) -> RowError:
    where = f"; first on row {first_row}" if first_row else " earlier in this file"
    message = f"Claim number {row.claim_number} appears more than once{where}. Only the first was imported."
    return RowError(row.row_number, context.column("claim_number"), row.claim_number, message)


def _attach_patients(context: _Context, good: dict[str, _GoodRow]) -> list[RowError]:
    """Match each row's patient by name and date of birth, creating the ones not on file."""
    last_names = {g.row.last_name for g in good.values()}
    on_file: dict[tuple[str, str, date | None], list[Patient]] = {}
    for patient in Patient.objects.filter(practice=context.practice, last_name__in=last_names):
        for dob in (patient.date_of_birth, None):
            on_file.setdefault(_patient_key(patient.first_name, patient.last_name, dob), []).append(patient)

    errors, to_create = [], {}
    for number, item in list(good.items()):
        row = item.row
        matches = on_file.get(_patient_key(row.first_name, row.last_name, row.dob), [])
        if len(matches) == 1:
            item.patient = matches[0]
        elif row.dob is None:
            message = (
                "Date of birth is missing, and is needed to tell which patient this is."
                if matches
                else "Date of birth is missing; it is needed to add this patient."
            )
            errors.append(RowError(row.row_number, context.column("patient_dob"), "", message))
            del good[number]
        elif matches:
            item.patient = matches[0]
        else:
            key = _patient_key(row.first_name, row.last_name, row.dob)
            to_create.setdefault(
                key,
                Patient(
                    practice=context.practice,
                    first_name=row.first_name,
                    last_name=row.last_name,
                    date_of_birth=row.dob,
                ),
            )
    if to_create:
        Patient.objects.bulk_create(to_create.values())
        for item in good.values():
            if item.patient is None:
                item.patient = to_create[_patient_key(item.row.first_name, item.row.last_name, item.row.dob)]
    return errors


def _patient_key(first: str, last: str, dob: date | None) -> tuple[str, str, date | None]:
    return first.casefold(), last.casefold(), dob


def _attach_policies(context: _Context, good: dict[str, _GoodRow]) -> None:
    wanted = {(g.patient.pk, g.payer.pk, g.row.member_id): g for g in good.values() if g.row.member_id}
    if not wanted:
        return
    policies = {
        (p.patient_id, p.payer_id, p.member_id): p
        for p in InsurancePolicy.objects.filter(
            practice=context.practice,
            patient_id__in={key[0] for key in wanted},
            member_id__in={key[2] for key in wanted},
        )
    }
    missing = [
        InsurancePolicy(
            practice=context.practice,
            patient_id=key[0],
            payer_id=key[1],
            member_id=key[2],
            group_number=item.row.group_number or "",
        )
        for key, item in wanted.items()
        if key not in policies
    ]
    InsurancePolicy.objects.bulk_create(missing)
    policies.update({(p.patient_id, p.payer_id, p.member_id): p for p in missing})
    for item in good.values():
        if item.row.member_id:
            item.policy = policies[(item.patient.pk, item.payer.pk, item.row.member_id)]


def _claim_values(item: _GoodRow) -> dict:
    row = item.row
    values = {
        "patient": item.patient,
        "payer": item.payer,
        "service_date_from": row.date_of_service,
        "service_date_to": row.date_of_service_to,
        "total_charge": row.amount,
    }
    if item.policy:
        values["policy"] = item.policy
    if row.paid_amount is not None:
        values["paid_amount"] = row.paid_amount
    if row.denial_code or row.denial_reason:
        values["denial_code"] = row.denial_code
        values["denial_reason"] = row.denial_reason[:300]
    if row.icd10:
        values["diagnosis_codes"] = row.icd10
    return values


def _create_claims(context: _Context, items: list[_GoodRow]) -> int:
    if not items:
        return 0
    claims = []
    for item in items:
        claim = Claim(
            practice=context.practice,
            claim_number=item.row.claim_number,
            status=ClaimStatus.DENIED if item.row.denial_code else ClaimStatus.SUBMITTED,
            last_import=context.claim_import,
            **_claim_values(item),
        )
        claim.timely_filing_deadline = claim.compute_timely_filing_deadline()
        claims.append(claim)
    Claim.objects.bulk_create(claims)
    message = f"Imported from {context.claim_import.original_name}, row "
    ClaimEvent.objects.bulk_create(
        ClaimEvent(
            claim=claim,
            kind=ClaimEvent.Kind.IMPORTED,
            to_status=claim.status,
            message=f"{message}{item.row.row_number}.",
            actor=context.claim_import.uploaded_by,
            source="import",
        )
        for claim, item in zip(claims, items, strict=True)
    )
    ClaimLine.objects.bulk_create(
        _line(claim, item.row, 1) for claim, item in zip(claims, items, strict=True) if item.row.cpt
    )
    return len(claims)


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
    "total_charge",
    "paid_amount",
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
    source = f"Updated from {context.claim_import.original_name}"
    for claim, item in pairs:
        for field, value in _claim_values(item).items():
            setattr(claim, field, value)
        claim.timely_filing_deadline = claim.compute_timely_filing_deadline()
        claim.last_import = context.claim_import
        claim.updated_at = now
        events.append(_event(claim, ClaimEvent.Kind.UPDATED, f"{source}, row {item.row.row_number}.", context))
        if item.row.denial_code and claim.status != ClaimStatus.DENIED and can_move(claim.status, ClaimStatus.DENIED):
            event = _event(
                claim, ClaimEvent.Kind.STATUS_CHANGED, f"Denial {item.row.denial_code} in the import.", context
            )
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


def _event(claim: Claim, kind: str, message: str, context: _Context) -> ClaimEvent:
    return ClaimEvent(claim=claim, kind=kind, message=message, actor=context.claim_import.uploaded_by, source="import")
