"""What each export holds: the rows a page shows, all of them, as sheets for ``exports.formats``.

* ``claims``: the filtered worklist (its filters, sort and every page), with the columns a
  biller works from, decrypted free text included.
* ``calls``: the calls list with its filters.
* ``report``: a report's tables for the page's period (``reports.queries``, the figures the
  page and the API show).

Each export reads the database through one query however many rows it has: the rows come
from ``.iterator()``, with the patient and payer joined in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from billingpulse.models import Practice
from claims.models import Claim, Payer
from claims.status import ClaimStatus
from claims.worklist import DEFAULT_SORT, WorklistFilters, filter_claims, sort_claims
from claims.worklist import FILTER_PARAMS as WORKLIST_PARAMS
from exports.formats import Sheet
from reports import queries
from reports.period import DEFAULT_DAYS, Period, PeriodForm
from reports.tables import Column
from telephony.forms import FILTER_PARAMS as CALL_PARAMS
from telephony.forms import CallFilters
from telephony.models import Call
from telephony.status import CallStatus, FailureCategory

CHUNK_SIZE = 2000  # rows fetched from the database at a time


class InvalidFilters(ValueError):
    """A filter value the export cannot honour; ``errors`` maps each field to its messages."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        super().__init__("Invalid export filters.")
        self.errors = {field: list(messages) for field, messages in errors.items()}


@dataclass
class Dataset:
    kind: str  # claims | calls | denial_trends | payer_performance | ar_aging | calling_operations
    title: str  # for the file name and the export page
    resource_type: str  # what the audit trail says was exported
    sheets: list[Sheet]
    # The query whose rows the export writes, for counting (None: a report, always small).
    queryset: QuerySet | None = None

    def count(self) -> int:
        if self.queryset is None:
            return sum(len(sheet.rows) for sheet in self.sheets)  # type: ignore[arg-type]
        return self.queryset.order_by().count()

    def filename(self, file_format: str, today: date) -> str:
        return f"{self.kind.replace('_', '-')}-{today.isoformat()}.{file_format}"


def kept_filters(params: Mapping[str, str], names: tuple[str, ...]) -> dict[str, str]:
    """The parameters an export keeps (and a background export stores): its filters only."""
    return {name: str(params[name]) for name in names if params.get(name) not in (None, "")}


def _check(form, strict: bool) -> None:
    if not form.is_valid() and strict:
        raise InvalidFilters(form.errors)


# ----------------------------------------------------------------------------- claims

CLAIM_COLUMNS = [
    Column("claim_number", "Claim number"),
    Column("patient", "Patient"),
    Column("date_of_birth", "Date of birth", "date"),
    Column("payer", "Payer"),
    Column("service_date", "Date of service", "date"),
    Column("charge", "Charge", "money"),
    Column("paid", "Paid", "money"),
    Column("adjustments", "Adjustments", "money"),
    Column("balance", "Balance", "money"),
    Column("status", "Status"),
    Column("denial_code", "Denial code"),
    Column("denial_reason", "Denial reason"),
    Column("follow_up", "Follow-up", "date"),
    Column("deadline", "Filing deadline", "date"),
    Column("reference", "Call reference"),
    Column("last_call_outcome", "Last call outcome"),
    Column("next_steps", "Next steps"),
]
_CLAIM_FIELDS = (
    "claim_number",
    "patient__last_name",
    "patient__first_name",
    "patient__date_of_birth",
    "payer__name",
    "service_date_from",
    "total_charge",
    "paid_amount",
    "adjustment_amount",
    "balance",
    "status",
    "denial_code",
    "denial_reason",
    "next_follow_up_date",
    "timely_filing_deadline",
    "call_reference_number",
    "last_call_outcome",
    "next_steps",
)
CLAIM_PARAMS = (*WORKLIST_PARAMS, "sort")
_STATUS_LABELS = dict(ClaimStatus.choices)


def claims(
    practice: Practice, params: Mapping[str, str], *, strict: bool = False, today: date | None = None
) -> Dataset:
    """The worklist's rows for ``params`` (its query string), every page of them, in its order.

    Like the page, an invalid filter is left out; with ``strict`` (the API) it raises
    ``InvalidFilters`` instead.
    """
    today = today or practice.today()
    filters = WorklistFilters(kept_filters(params, CLAIM_PARAMS), practice=practice)
    _check(filters, strict)
    queryset = filter_claims(Claim.objects.filter(practice=practice), filters, today)
    ordered = sort_claims(queryset, filters.value("sort") or DEFAULT_SORT)
    rows = ordered.values_list(*_CLAIM_FIELDS)
    return Dataset("claims", "Claims", "claim", [Sheet("Claims", CLAIM_COLUMNS, _LazyRows(rows, _claim_row))], queryset)


def _claim_row(row: tuple) -> tuple:
    number, last, first, born, payer, served, charge, paid, adjusted, balance, status, *rest = row
    code, reason, follow_up, deadline, reference, outcome, next_steps = rest
    patient = f"{last}, {first}"
    status = _STATUS_LABELS.get(status, status)
    return (number, patient, born, payer, served, charge, paid, adjusted, balance, status, code, reason) + (
        follow_up,
        deadline,
        reference,
        outcome,
        next_steps,
    )


class _LazyRows:
    """A query's rows, fetched in chunks only when iterated (and again on each iteration)."""

    def __init__(self, queryset: QuerySet, convert: Callable[[tuple], tuple]) -> None:
        self.queryset, self.convert = queryset, convert

    def __iter__(self) -> Iterator[tuple]:
        return (self.convert(row) for row in self.queryset.iterator(chunk_size=CHUNK_SIZE))


# ----------------------------------------------------------------------------- calls

CALL_COLUMNS = [
    Column("started", "Started", "datetime"),
    Column("status", "Status"),
    Column("claim_number", "Claim number"),
    Column("patient", "Patient"),
    Column("payer", "Payer"),
    Column("attempt", "Attempt", "count"),
    Column("duration", "Duration (seconds)", "count"),
    Column("claim_status", "Claim status found"),
    Column("reference", "Call reference"),
    Column("failure", "Why it did not complete"),
    Column("summary", "Summary"),
    Column("cost", "Cost", "money"),
]
_CALL_FIELDS = (
    "started_at",
    "placed_at",
    "created_at",
    "status",
    "claim__claim_number",
    "claim__patient__last_name",
    "claim__patient__first_name",
    "payer__name",
    "attempt",
    "duration_seconds",
    # The whole outcome: it may be stored encrypted, so its keys are read once it is decrypted.
    "outcome",
    "failure_category",
    "summary",
    "cost",
)
_CALL_STATUS_LABELS = dict(CallStatus.choices)
_FAILURE_LABELS = dict(FailureCategory.choices)


def calls(practice: Practice, params: Mapping[str, str], *, strict: bool = False) -> Dataset:
    """The calls list's rows for ``params``, newest first, every page of them."""
    filters = CallFilters(kept_filters(params, CALL_PARAMS), payers=Payer.objects.filter(practice=practice))
    _check(filters, strict)
    queryset = filters.apply(Call.objects.filter(practice=practice))
    rows = queryset.newest_first().values_list(*_CALL_FIELDS)
    zone = ZoneInfo(practice.time_zone)

    def convert(row: tuple) -> tuple:
        started, placed, created, status, number, last, first, payer, attempt, duration, *rest = row
        outcome, failure, summary, cost = rest
        outcome = outcome if isinstance(outcome, dict) else {}
        claim_status, reference = outcome.get("claim_status"), outcome.get("reference_number")
        when: datetime = (started or placed or created).astimezone(zone)
        failure_label = _FAILURE_LABELS.get(failure, failure) if failure else ""
        claim_status = _STATUS_LABELS.get(claim_status, claim_status) if isinstance(claim_status, str) else ""
        return (when, _CALL_STATUS_LABELS.get(status, status), number, f"{last}, {first}", payer, attempt) + (
            duration,
            claim_status,
            reference if isinstance(reference, str) else "",
            failure_label,
            summary,
            cost,
        )

    return Dataset("calls", "Calls", "call", [Sheet("Calls", CALL_COLUMNS, _LazyRows(rows, convert))], queryset)


# ----------------------------------------------------------------------------- reports

# kind → (title, what the audit trail names as exported)
REPORTS: dict[str, tuple[str, str]] = {
    "denial_trends": ("Denial trends", "claim"),
    "payer_performance": ("Payer performance", "claim"),
    "ar_aging": ("AR aging", "claim"),
    "calling_operations": ("Calling operations", "call"),
}


def report(kind: str, practice: Practice, params: Mapping[str, str], *, strict: bool = False) -> Dataset:
    """A report's tables over the period in ``params`` (``days``), as the page shows them."""
    title, resource_type = REPORTS[kind]
    today = practice.today()
    if kind == "ar_aging":
        tables = queries.ar_aging(practice, today).tables()
        title = f"{title} as of {today.isoformat()}"
    else:
        form = PeriodForm(kept_filters(params, ("days",)))
        _check(form, strict)
        days = form.cleaned_data["days"] if form.is_valid() else DEFAULT_DAYS
        period = Period.ending_today(practice, days, today)
        report_data = getattr(queries, kind)(practice, period)
        tables = report_data.tables()
        title = f"{title}, {period.first.isoformat()} to {period.last.isoformat()}"
    sheets = [Sheet(table.title, table.columns, table.values(), table.note) for table in tables]
    return Dataset(kind, title, resource_type, sheets)
