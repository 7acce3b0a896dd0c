"""Knowledge-base pages for practice admins: denial codes and payer policies, with search."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Length
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import capfirst
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from ai import services
from ai.forms import FORMS, KnowledgeSearchForm
from ai.knowledge import DENIAL_CODES, MODELS, PAYER_POLICIES, normalize_code
from billingpulse.paging import paginate
from billingpulse.tenancy import AuthedRequest, admin_required, get_for_practice, member_required, scoped

LIST = "ai/knowledge_list.html"
LIST_URL = {DENIAL_CODES: "ai:index", PAYER_POLICIES: "ai:policies"}
SEARCH_FIELDS = {DENIAL_CODES: ("code", "description", "remedy"), PAYER_POLICIES: ("payer", "title", "text", "source")}
NOUN = {DENIAL_CODES: "denial code", PAYER_POLICIES: "payer policy"}
PER_PAGE = 50


@require_GET
@vary_on_headers("HX-Request")
@member_required
def index(request: AuthedRequest) -> HttpResponse:
    return _list(request, DENIAL_CODES)


@require_GET
@vary_on_headers("HX-Request")
@member_required
def policies(request: AuthedRequest) -> HttpResponse:
    return _list(request, PAYER_POLICIES)


@require_http_methods(["GET", "POST"])
@admin_required
def denial_code_edit(request: AuthedRequest, pk: int | None = None) -> HttpResponse:
    return _edit(request, DENIAL_CODES, pk)


@require_http_methods(["GET", "POST"])
@admin_required
def policy_edit(request: AuthedRequest, pk: int | None = None) -> HttpResponse:
    return _edit(request, PAYER_POLICIES, pk)


@require_http_methods(["GET", "POST"])
@admin_required
def denial_code_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    return _delete(request, DENIAL_CODES, pk)


@require_http_methods(["GET", "POST"])
@admin_required
def policy_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    return _delete(request, PAYER_POLICIES, pk)


def _list(request: AuthedRequest, kind: str) -> HttpResponse:
    search = KnowledgeSearchForm(request.GET)
    query = search.query()
    everything = scoped(request, MODELS[kind])
    entries = everything
    if query:
        match = Q()
        for field in SEARCH_FIELDS[kind]:
            match |= Q(**{f"{field}__icontains": query})
        if kind == DENIAL_CODES and (code := normalize_code(query)):
            match |= Q(code=code)  # "CO-197" finds 197: billers type the group too
        entries = entries.filter(match)
    if kind == DENIAL_CODES:
        entries = _in_billers_order(entries)
    listing = paginate(request, entries, PER_PAGE)
    context = {
        "kind": kind,
        "search": search,
        "query": query,
        "entries": listing.page.object_list,
        "page": listing.page,
        "pages": listing.pages,
        "matches": listing.total,
        "total": everything.count() if query else listing.total,
        "list_url": LIST_URL[kind],
    }
    partial = request.htmx and not request.htmx.history_restore_request
    return render(request, f"{LIST}#knowledge-results" if partial else LIST, context)


def _in_billers_order(entries: QuerySet) -> QuerySet:
    """Codes in the order billers know them: 1, 2, … 16, … 253, then the lettered ones (A1, B7).
    A code of digits sorts by its length first, so "16" comes before "197" without a cast."""
    numeric = Q(code__regex=r"^[0-9]+$")
    return entries.order_by(
        Case(When(numeric, then=Value(0)), default=Value(1), output_field=IntegerField()),
        Case(When(numeric, then=Length("code")), default=Value(0), output_field=IntegerField()),
        "code",
        "pk",
    )


def _edit(request: AuthedRequest, kind: str, pk: int | None) -> HttpResponse:
    model = MODELS[kind]
    entry = get_for_practice(request, model, pk) if pk else model(practice=request.practice)
    form = FORMS[kind](request.POST or None, instance=entry, practice=request.practice)
    if request.method == "POST" and form.is_valid():
        try:
            entry = services.save_entry(form.save(commit=False))
        except services.EntriesInvalid as invalid:
            for field, errors in (invalid.errors[0] if invalid.errors else {}).items():
                form.add_error(field, errors)
        else:
            messages.success(request, f"{capfirst(_label(kind, entry))} saved.")
            return redirect(LIST_URL[kind])
    context = {"form": form, "entry": entry, "kind": kind, "noun": NOUN[kind], "list_url": LIST_URL[kind]}
    return render(request, "ai/entry_form.html", context)


def _delete(request: AuthedRequest, kind: str, pk: int) -> HttpResponse:
    entry = get_for_practice(request, MODELS[kind], pk)
    if request.method == "POST":
        label = _label(kind, entry)
        services.delete_entry(entry)
        messages.success(request, f"{capfirst(label)} deleted.")
        return redirect(LIST_URL[kind])
    context = {"entry": entry, "kind": kind, "label": _label(kind, entry), "list_url": LIST_URL[kind]}
    return render(request, "ai/entry_delete.html", context)


def _label(kind: str, entry) -> str:
    if kind == DENIAL_CODES:
        return f"reason code {entry.code}"
    return f"{entry.payer} policy" + (f" “{entry.title}”" if entry.title else "")
