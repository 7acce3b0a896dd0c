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
from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models import Case, Count, DecimalField, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.http import QueryDict
from django.urls import reverse

from billingpulse import paging
from claims.importing import values
from claims.models import ZERO, Claim, Payer, validate_denial_code
from claims.status import OPEN, ClaimStatus

PER_PAGE = 50
_MONEY_TOTAL = DecimalField(max_digits=14, decimal_places=2)
OPEN_STATUSES = sorted(OPEN, key=list(ClaimStatus).index)
DEADLINE_PRESETS = [7, 14, 30, 60, 90]
# The query-string parameters the worklist understands; links keep these and nothing else.
FILTER_PARAMS = ("q", "status", "payer", "denial_code", "follow_up", "deadline", "age")
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

# Only the columns the table shows, so a wide claim row costs nothing extra.
_COLUMNS = (
    "claim_number",
    "status",
    "service_date_from",
    "total_charge",
    "paid_amount",
    "adjustment_amount",
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

    def __init__(self, *args, payers: models.QuerySet[Payer], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The caller passes the practice's payers; another practice's payer id is "not a choice".
        self.fields["payer"].queryset = payers.only("name", "payer_id")
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
        return sort if sort.removeprefix("-") in SORTS else DEFAULT_SORT

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
    for word in filters.value("q") or []:
        queryset = queryset.filter(
            Q(claim_number__icontains=word)
            | Q(patient__first_name__icontains=word)
            | Q(patient__last_name__icontains=word)
        )

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


def sort_claims(queryset: models.QuerySet[Claim], sort: str) -> models.QuerySet[Claim]:
    """Order by a whitelisted key (``amount``, ``-amount``…); empty dates sort last either way.

    The primary key breaks ties so that pages never repeat or skip a row.
    """
    key = sort.removeprefix("-")
    descending = sort.startswith("-")
    columns = SORTS.get(key) or SORTS[DEFAULT_SORT.removeprefix("-")]
    order = [column.desc(nulls_last=True) if descending else column.asc(nulls_last=True) for column in columns]
    return queryset.order_by(*order, "-pk" if descending else "pk")


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


def paginate(queryset: models.QuerySet[Claim], page_number: str | None, count: int) -> Page:
    """A page of 50; ``count`` comes from ``totals`` so the paginator does not count again."""
    paginator = Paginator(queryset, PER_PAGE)
    paginator.count = count  # count is a cached_property; setting it skips the COUNT query
    return paginator.get_page(page_number)


@dataclass(frozen=True)
class SortColumn:
    key: str
    href: str
    direction: str  # "ascending", "descending" or "none", as aria-sort spells it


def query_string(filters: WorklistFilters, **overrides: str) -> str:
    """The current filters as a query string, with ``overrides``; empty values left out."""
    query = QueryDict(mutable=True)
    for name in (*FILTER_PARAMS, "sort", "page"):
        value = overrides.get(name, filters.data.get(name, ""))
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
        href = "?" + query_string(filters, sort=target, page="")
        columns[key] = SortColumn(key, href, direction)
    return columns


def page_links(filters: WorklistFilters, page: Page) -> dict[str, str]:
    """Real hrefs for the previous and next pages (empty at either end)."""
    return paging.page_links(page, lambda number: "?" + query_string(filters, page=str(number)))
