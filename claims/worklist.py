"""The claims worklist: what the filters mean, how rows are sorted, and the page totals.

The view only binds ``WorklistFilters`` to the query string and calls these functions, so
a full page and an htmx table refresh with the same query string show the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, Count, DecimalField, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.http import QueryDict
from django.urls import reverse

from billingpulse.models import Practice
from billingpulse.validators import MAX_ID
from claims.importing import values
from claims.models import ZERO, Claim, Payer, validate_denial_code
from claims.status import OPEN, ClaimStatus

PER_PAGE = 50
_MONEY_TOTAL = DecimalField(max_digits=14, decimal_places=2)
OPEN_STATUSES = sorted(OPEN, key=list(ClaimStatus).index)
DEADLINE_PRESETS = [7, 14, 30, 60, 90]
# The query-string parameters the worklist understands; links keep these and nothing else.
FILTER_PARAMS = ("q", "status", "payer", "denial_code", "follow_up", "deadline", "age")
# Where a page starts: ``after``/``before`` a claim (keyset paging), ``start`` its first row's position
# (for "Showing 51–100" only); ``page`` is the numbered paging of older bookmarks.
PAGING_PARAMS = ("after", "before", "start", "page")
# The age of what is still owed on a claim, in days since its date of service: (key, label, from, to).
# The AR aging report groups balances by these, and links each cell to the worklist filtered by one.
AGE_BUCKETS = [
    ("0-30", "0–30 days", 0, 30),
    ("31-60", "31–60 days", 31, 60),
    ("61-90", "61–90 days", 61, 90),
    ("91-120", "91–120 days", 91, 120),
    ("120+", "Over 120 days", 121, None),
]


def worklist_url(**filters: object) -> str:
    """The claims worklist with these filters (what a drill-down link opens); empty values are left out."""
    return reverse("claims:index") + "?" + urlencode({key: value for key, value in filters.items() if value != ""})


# The status lifecycle order (draft … closed), so sorting by status groups related claims.
_STATUS_RANK = Case(
    *(When(status=status, then=Value(rank)) for rank, status in enumerate(ClaimStatus)),
    output_field=models.IntegerField(),
)

# Sort keys the query string may name, each with the columns it orders by.
SORTS: dict[str, tuple] = {
    "claim_number": (F("claim_number"),),
    "patient": (F("patient__last_name"), F("patient__first_name")),
    "payer": (F("payer__name"),),
    "service_date": (F("service_date_from"),),
    "amount": (F("total_charge"),),
    "status": (_STATUS_RANK,),
    "follow_up": (F("next_follow_up_date"),),
    "deadline": (F("timely_filing_deadline"),),
}
DEFAULT_SORT = "-service_date"
# Each order in words, for the "Sort by" control shown where the rows are cards (no headers to click).
SORT_CHOICES = [
    ("-service_date", "Date of service, newest first"),
    ("service_date", "Date of service, oldest first"),
    ("-amount", "Amount, highest first"),
    ("amount", "Amount, lowest first"),
    ("patient", "Patient, A to Z"),
    ("-patient", "Patient, Z to A"),
    ("payer", "Payer, A to Z"),
    ("-payer", "Payer, Z to A"),
    ("claim_number", "Claim number, A to Z"),
    ("-claim_number", "Claim number, Z to A"),
    ("status", "Status, draft to closed"),
    ("-status", "Status, closed to draft"),
    ("follow_up", "Follow-up, soonest first"),
    ("-follow_up", "Follow-up, latest first"),
    ("deadline", "Filing deadline, soonest first"),
    ("-deadline", "Filing deadline, latest first"),
]
# Sort keys whose column may be empty: empty dates sort last either way. The others are NOT NULL and
# sort without ``NULLS LAST``, so that their indexes serve the order.
_NULLABLE_SORTS = {"follow_up", "deadline"}

# Only the columns the table shows, so a wide claim row costs nothing extra.
_COLUMNS = (
    "claim_number",
    "status",
    "service_date_from",
    "total_charge",
    "paid_amount",
    "adjustment_amount",
    "balance",
    "denial_code",
    "next_follow_up_date",
    "timely_filing_deadline",
    "patient__first_name",
    "patient__last_name",
    "patient__date_of_birth",
    "payer__name",
)


def normalize_denial_code(value: str) -> str:
    """Write a denial code the way payers print it: ``co16`` and ``CO 16`` become ``CO-16``.

    The import's reader of denial codes does the work, so a code typed on a page and one read
    from a file are written alike. Anything that is not a code comes back upper-cased for a
    validator to reject.
    """
    try:
        return values.normalize_denial_code(value) if (value or "").strip() else ""
    except ValueError:
        return (value or "").strip().upper()


class WorklistFilters(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Claim # or patient name", "autocomplete": "off"}
        ),
    )
    # "filter-auto": the filter form refreshes the table when one of these changes.
    status = forms.ChoiceField(
        required=False,
        choices=[("", "Open claims"), ("all", "All statuses"), *ClaimStatus.choices],
        widget=forms.Select(attrs={"class": "filter-auto"}),
    )
    payer = forms.ModelChoiceField(
        queryset=Payer.objects.none(),
        required=False,
        empty_label="All payers",
        widget=forms.Select(attrs={"class": "filter-auto"}),
    )
    denial_code = forms.CharField(
        label="Denial code",
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={"placeholder": "CO-16", "autocomplete": "off", "class": "filter-auto"}),
    )
    follow_up = forms.ChoiceField(
        label="Follow-up",
        required=False,
        choices=[("", "Any follow-up"), ("due", "Due by today"), ("overdue", "Overdue")],
        widget=forms.Select(attrs={"class": "filter-auto"}),
    )
    deadline = forms.ChoiceField(
        label="Filing deadline",
        required=False,
        widget=forms.Select(attrs={"class": "filter-auto"}),
        choices=[
            ("", "Any deadline"),
            *((str(days), f"Within {days} days") for days in DEADLINE_PRESETS),
            ("past", "Passed"),
        ],
    )
    age = forms.ChoiceField(
        label="Balance age",
        required=False,
        choices=[("", "Any balance"), *((key, f"Owed, {label}") for key, label, _first, _last in AGE_BUCKETS)],
        widget=forms.Select(attrs={"class": "filter-auto"}),
    )
    sort = forms.CharField(required=False, widget=forms.HiddenInput)
    # Bounded so that no number reaches the database too large for its column or an OFFSET.
    after = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID, widget=forms.HiddenInput)
    before = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID, widget=forms.HiddenInput)
    start = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID, widget=forms.HiddenInput)
    page = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID // PER_PAGE, widget=forms.HiddenInput)

    def __init__(self, *args, practice: Practice, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.practice = practice
        # Only the practice's payers are choices; another practice's payer id is "not a choice".
        self.fields["payer"].queryset = Payer.objects.filter(practice=practice).only("name", "payer_id")
        self.fields["payer"].label_from_instance = lambda payer: payer.name
        # A bookmarked ?deadline=45 is valid too; offer it in the select so it shows as chosen.
        days = str(self.data.get("deadline", ""))
        if days.isdigit() and 1 <= int(days) <= 365 and int(days) not in DEADLINE_PRESETS:
            self.fields["deadline"].choices = [*self.fields["deadline"].choices, (days, f"Within {days} days")]

    def clean_q(self) -> list[str]:
        return self.cleaned_data["q"].split()

    def clean_denial_code(self) -> str:
        code = normalize_denial_code(self.cleaned_data["denial_code"])
        if code and not validate_denial_code.regex.search(code):
            raise forms.ValidationError("Write a denial code like CO-16.")
        return code

    def clean_sort(self) -> str:
        sort = self.cleaned_data["sort"]
        if sort.removeprefix("-") in SORTS:
            return sort
        # Unless another order is chosen, a deadline or follow-up filter lists the most pressing claims
        # first (and its index gives them in that order).
        if self.cleaned_data.get("deadline"):
            return "deadline"
        if self.cleaned_data.get("follow_up"):
            return "follow_up"
        return DEFAULT_SORT

    @property
    def is_filtered(self) -> bool:
        """Whether the rows are narrowed beyond the default "open claims" view."""
        return any(self.data.get(name) for name in FILTER_PARAMS)

    def value(self, name: str):
        """A cleaned value, or the field's empty value when it was left out or is invalid."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        return self.cleaned_data.get(name) or None


def filter_claims(queryset: models.QuerySet[Claim], filters: WorklistFilters, today: date) -> models.QuerySet[Claim]:
    """Narrow ``queryset`` by the filters; a filter with invalid input is left out, not fatal."""
    queryset = queryset.search(filters.value("q") or [])

    status = filters.value("status")
    if status is None:
        queryset = queryset.filter(status__in=OPEN_STATUSES)
    elif status != "all":
        queryset = queryset.filter(status=status)

    if payer := filters.value("payer"):
        queryset = queryset.filter(payer=payer)
    if code := filters.value("denial_code"):
        queryset = queryset.filter(denial_code=code)

    follow_up = filters.value("follow_up")
    if follow_up == "due":
        queryset = queryset.filter(next_follow_up_date__lte=today)
    elif follow_up == "overdue":
        queryset = queryset.filter(next_follow_up_date__lt=today)

    deadline = filters.value("deadline")
    if deadline == "past":
        queryset = queryset.filter(timely_filing_deadline__lt=today)
    elif deadline:
        queryset = queryset.filter(timely_filing_deadline__range=(today, today + timedelta(days=int(deadline))))

    if age := filters.value("age"):
        queryset = queryset.filter(balance__gt=ZERO, **age_range(age, today))
    return queryset


def age_range(key: str, today: date) -> dict:
    """The date-of-service lookups of an age bucket; the youngest bucket takes future dates too."""
    _key, _label, first, last = next(bucket for bucket in AGE_BUCKETS if bucket[0] == key)
    lookups = {} if first == 0 else {"service_date_from__lte": today - timedelta(days=first)}
    if last is not None:
        lookups["service_date_from__gte"] = today - timedelta(days=last)
    return lookups


def _sort_columns(sort: str) -> tuple[list[tuple[models.Expression, bool]], bool]:
    """The columns ``sort`` orders by, each with whether it may be empty, and whether it descends."""
    key = sort.removeprefix("-")
    if key not in SORTS:
        key, sort = DEFAULT_SORT.removeprefix("-"), DEFAULT_SORT
    return [(column, key in _NULLABLE_SORTS) for column in SORTS[key]], sort.startswith("-")


def _ordering(columns: list[tuple[models.Expression, bool]], descending: bool, reverse: bool) -> list:
    # Reading backwards (the page before) flips every direction, empty values included.
    nulls = {"nulls_first": True} if reverse else {"nulls_last": True}
    down = descending != reverse
    return [(column.desc if down else column.asc)(**(nulls if nullable else {})) for column, nullable in columns]


def sort_claims(queryset: models.QuerySet[Claim], sort: str, *, reverse: bool = False) -> models.QuerySet[Claim]:
    """Order by a whitelisted key (``amount``, ``-amount``…); empty dates sort last either way.

    The primary key breaks ties so that pages never repeat or skip a row. ``reverse`` reads the
    same order from its end (for the page before a row).
    """
    columns, descending = _sort_columns(sort)
    down = descending != reverse
    return queryset.order_by(*_ordering(columns, descending, reverse), "-pk" if down else "pk")


def _after(columns: list[tuple[models.Expression, bool]], values: tuple, pk: int, down: bool, reverse: bool) -> Q:
    """The rows that come after the row with sort ``values`` and ``pk``, read in this direction.

    Written on the ``sort_<n>`` aliases of the sort columns. The first column is also bounded on
    its own (``service_date_from <= …``), so that an index on it starts the scan at the row.
    """
    nulls_last = not reverse
    after = Q(pk__lt=pk) if down else Q(pk__gt=pk)
    for number, ((_column, nullable), value) in reversed(list(enumerate(zip(columns, values, strict=True)))):
        name = f"sort_{number}"
        if value is None:
            beyond = Q(pk__in=[]) if nulls_last else Q(**{f"{name}__isnull": False})
            after = beyond | (Q(**{f"{name}__isnull": True}) & after)
            continue
        beyond = Q(**{f"{name}__{'lt' if down else 'gt'}": value})
        if nullable and nulls_last:
            beyond |= Q(**{f"{name}__isnull": True})
        after = beyond | (Q(**{name: value}) & after)
    first_nullable, first = columns[0][1], values[0]
    if not first_nullable and first is not None:
        after &= Q(**{f"sort_0__{'lte' if down else 'gte'}": first})
    return after


def worklist_rows(queryset: models.QuerySet[Claim]) -> models.QuerySet[Claim]:
    """The table's rows: patient and payer joined in, and only the columns shown."""
    return queryset.select_related("patient", "payer").only(*_COLUMNS)


def outstanding_expression() -> Greatest:
    balance = F("total_charge") - F("paid_amount") - F("adjustment_amount")
    return Greatest(balance, Value(ZERO), output_field=DecimalField(max_digits=12, decimal_places=2))


def totals(queryset: models.QuerySet[Claim]) -> dict:
    """How many claims match and what they still owe, in one aggregate query."""
    result = queryset.order_by().aggregate(
        count=Count("pk"),
        outstanding=Coalesce(Sum(outstanding_expression()), Value(ZERO), output_field=_MONEY_TOTAL),
    )
    result["outstanding"] = Decimal(result["outstanding"]).quantize(Decimal("0.01"))
    return result


@dataclass(frozen=True)
class WorklistPage:
    """A page of the worklist's rows, where it starts, and links to its neighbours.

    Pages are read "after" or "before" a claim (keyset paging): the database starts at that row in
    an index instead of counting past every row before it, so a deep page costs what the first
    does. The links name the claim, so they keep working as bookmarks.
    """

    object_list: list[Claim]
    start_index: int  # the position of the first row, for "Showing 51–100"
    previous: str = ""
    next: str = ""

    @property
    def end_index(self) -> int:
        return self.start_index + len(self.object_list) - 1


def claims_page(queryset: models.QuerySet[Claim], filters: WorklistFilters) -> WorklistPage:
    """The page of ``queryset`` (filtered claims) that the query string asks for, in the chosen sort."""
    sort = filters.value("sort") or DEFAULT_SORT
    if number := filters.value("page"):
        return _numbered_page(queryset, filters, sort, number)
    before = filters.value("before")
    cursor = before or filters.value("after")
    start = filters.value("start") or 1
    ordered = sort_claims(queryset, sort, reverse=bool(before))
    if cursor and (after := _cursor(filters.practice, sort, cursor, reverse=bool(before))) is not None:
        aliases, condition = after
        ordered = ordered.alias(**aliases).filter(condition)
    else:
        before = cursor = None
        start = 1
    found = _rows(ordered[: PER_PAGE + 1], sort, reverse=bool(before))
    more = len(found) > PER_PAGE
    found = found[:PER_PAGE]
    if before:
        if not more:  # back at the beginning: the first page, whole
            return claims_page(queryset, _without_paging(filters))
        found.reverse()
        start = max(start, PER_PAGE + 1)
        return WorklistPage(
            found,
            start,
            _link(filters, before=found[0].pk, start=start - PER_PAGE),
            _link(filters, after=found[-1].pk, start=start + PER_PAGE),
        )
    previous = _link(filters, before=found[0].pk, start=max(start - PER_PAGE, 1)) if cursor and found else ""
    following = _link(filters, after=found[-1].pk, start=start + PER_PAGE) if more else ""
    return WorklistPage(found, start, previous, following)


def _rows(ordered: models.QuerySet[Claim], sort: str, *, reverse: bool) -> list[Claim]:
    """The table's rows for a slice of ``ordered`` claims.

    The slice picks the claims' ids alone, and only those rows are then read with their patient and
    payer: PostgreSQL would otherwise join every matching claim before keeping a page of them.
    """
    return list(sort_claims(worklist_rows(Claim.objects.filter(pk__in=ordered.values("pk"))), sort, reverse=reverse))


def _numbered_page(queryset: models.QuerySet[Claim], filters: WorklistFilters, sort: str, number: int) -> WorklistPage:
    """``?page=N`` of an older bookmark: counted from the top; its links lead on by keyset."""
    offset = (number - 1) * PER_PAGE
    found = _rows(sort_claims(queryset, sort)[offset : offset + PER_PAGE + 1], sort, reverse=False)
    if not found and number > 1:
        return claims_page(queryset, _without_paging(filters))
    more = len(found) > PER_PAGE
    found = found[:PER_PAGE]
    previous = _link(filters, page=str(number - 1)) if number > 1 else ""
    following = _link(filters, after=found[-1].pk, start=offset + PER_PAGE + 1) if more else ""
    return WorklistPage(found, offset + 1, previous, following)


def _cursor(practice: Practice, sort: str, pk: int, *, reverse: bool) -> tuple[dict, Q] | None:
    """The aliases and condition for the rows after (or before) claim ``pk``; None if it is not the practice's."""
    columns, descending = _sort_columns(sort)
    aliases = {f"sort_{number}": column for number, (column, _nullable) in enumerate(columns)}
    values = Claim.objects.filter(practice=practice, pk=pk).annotate(**aliases).values_list(*aliases).first()
    if values is None:
        return None
    return aliases, _after(columns, values, pk, descending != reverse, reverse)


def _link(filters: WorklistFilters, **overrides: object) -> str:
    return "?" + query_string(filters, **{name: str(value) for name, value in overrides.items()})


def _without_paging(filters: WorklistFilters) -> WorklistFilters:
    data = filters.data.copy()
    for name in PAGING_PARAMS:
        data.pop(name, None)
    return WorklistFilters(data, practice=filters.practice)


@dataclass(frozen=True)
class SortColumn:
    key: str
    href: str
    direction: str  # "ascending", "descending" or "none", as aria-sort spells it


def query_string(filters: WorklistFilters, **overrides: str) -> str:
    """The current filters and sort as a query string, with ``overrides`` (a page's, too); empty values left out."""
    query = QueryDict(mutable=True)
    for name in (*FILTER_PARAMS, "sort", *PAGING_PARAMS):
        value = overrides.get(name, "" if name in PAGING_PARAMS else filters.data.get(name, ""))
        if value:
            query[name] = value
    return query.urlencode()


def sort_columns(filters: WorklistFilters, current: str) -> dict[str, SortColumn]:
    """For each sortable column, the link that sorts by it (flipping the current direction)."""
    columns = {}
    for key in SORTS:
        if current.removeprefix("-") == key:
            direction = "descending" if current.startswith("-") else "ascending"
            target = key if direction == "descending" else f"-{key}"
        else:
            direction = "none"
            # Money and dates read best largest/latest first; names A to Z.
            target = f"-{key}" if key in {"amount", "service_date"} else key
        href = _link(filters, sort=target)
        columns[key] = SortColumn(key, href, direction)
    return columns


def matching_claims(practice: Practice, query: str) -> models.QuerySet[Claim]:
    """The practice's claims that the worklist at ``?query`` lists, on all its pages.

    Unlike the page, which shows its rows without a filter it cannot read, this refuses such a
    filter (``ValidationError`` naming it): acting on every matching claim must never widen to
    claims the biller did not choose. Parameters other than the filters (sort, page) are ignored.
    """
    given = QueryDict(query)
    filters = WorklistFilters({name: given[name] for name in FILTER_PARAMS if name in given}, practice=practice)
    if not filters.is_valid():
        problems = " ".join(f"{filters[name].label}: {' '.join(errors)}" for name, errors in filters.errors.items())
        raise ValidationError(
            f"The claims could not be selected because of a filter ({problems}). "
            "Fix it on the worklist and select again."
        )
    return filter_claims(Claim.objects.filter(practice=practice), filters, practice.today())
