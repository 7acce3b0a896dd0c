"""Claims pages: the worklist, a claim with its timeline, and the practice's payers."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, Sum
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import reswap, retarget, trigger_client_event

from billingpulse.lib.unique import save_form
from billingpulse.tenancy import AuthedRequest, admin_required, get_for_practice, member_required, scoped
from claims import entry, services
from claims.forms import IVR_EXAMPLE_JSON, ClaimEditForm, ClaimStatusForm, NoteForm, PayerForm
from claims.models import ZERO, Claim, Payer
from claims.status import OPEN, ClaimStatus
from claims.worklist import (
    DEFAULT_SORT,
    SORT_CHOICES,
    WorklistFilters,
    claims_page,
    filter_claims,
    outstanding_expression,
    query_string,
    sort_columns,
    totals,
)
from telephony.models import Call
from telephony.status import ACTIVE as ACTIVE_CALL
from telephony.views import claim_calls_context

DETAIL = "claims/claim_detail.html"
DEADLINE_WARNING_DAYS = 30


@require_GET
@vary_on_headers("HX-Request")
@member_required
def worklist(request: AuthedRequest) -> HttpResponse:
    today = request.practice.today()
    filters = WorklistFilters(request.GET, practice=request.practice)
    page = claims_page(filter_claims(scoped(request, Claim), filters, today), filters)
    sort = filters.value("sort") or DEFAULT_SORT
    # The claims with a call queued or on the line (a practice's pacing keeps them few), in one query.
    calling = set(scoped(request, Call).filter(status__in=ACTIVE_CALL).values_list("claim_id", flat=True))
    context = {
        "filters": filters,
        "page": page,
        "sort": sort,
        "columns": sort_columns(filters, sort),
        "sort_choices": SORT_CHOICES,
        "query": query_string(filters),
        "today": today,
        "deadline_soon": today + timedelta(days=DEADLINE_WARNING_DAYS),
        # While the practice has calls under way the table refreshes itself (claims change as calls end).
        "calls_in_flight": len(calling),
        # "Call selected" stays hidden until telephony can place the calls.
        "telephony_enabled": getattr(settings, "TELEPHONY_ENABLED", False),
        "calls_under_way": calling.intersection(claim.pk for claim in page.object_list),
    }
    if not page.object_list:
        # Only an empty page needs to know why it is empty; its totals are known without counting.
        context["summary"] = {"count": 0, "outstanding": ZERO}
        context["practice_has_claims"] = scoped(request, Claim).exists()
        context["practice_has_payers"] = scoped(request, Payer).exists()
    if not (request.htmx and not request.htmx.history_restore_request):
        return render(request, "claims/worklist.html", context)
    response = render(request, "claims/worklist.html#claim-table", context)
    # The filter form stays as typed; only the messages beside its fields follow the table.
    response.write(render_to_string("claims/worklist.html#filter-errors", context, request))
    return response


@require_GET
@member_required
def worklist_totals(request: AuthedRequest) -> HttpResponse:
    """The worklist's totals line (matching claims and what they owe), asked for after its rows.

    Counting every matching claim takes longer than finding a page of them, so the page shows its
    rows first and then loads this.
    """
    filters = WorklistFilters(request.GET, practice=request.practice)
    if not request.htmx:
        return redirect(reverse("claims:index") + "?" + query_string(filters))
    claims = filter_claims(scoped(request, Claim), filters, request.practice.today())
    context = {"summary": totals(claims), "filters": filters}
    return render(request, "claims/worklist.html#claim-summary", context)


@require_GET
@member_required
def claim_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    claim = _get_claim(request, pk)
    return render(request, DETAIL, _detail_context(request, claim))


@require_POST
@member_required
def claim_status(request: AuthedRequest, pk: int) -> HttpResponse:
    claim = _get_claim(request, pk)
    form = ClaimStatusForm(request.POST, claim=claim)
    if form.is_valid():
        try:
            services.change_status(
                claim, form.cleaned_data["status"], actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            claim.refresh_from_db()  # someone else may have moved it; offer the moves from where it is now
            form = ClaimStatusForm(request.POST, claim=claim)
            form.add_error(None, error)
        else:
            messages.success(request, f"Claim {claim} is now {claim.get_status_display().lower()}.")
            return _status_changed_response(request, claim)
    if not request.htmx:
        return render(request, DETAIL, _detail_context(request, claim, status_form=form), status=400)
    return render(request, f"{DETAIL}#status-form", {"claim": claim, "status_form": form})


@require_POST
@member_required
def claim_note(request: AuthedRequest, pk: int) -> HttpResponse:
    claim = _get_claim(request, pk)
    form = NoteForm(request.POST)
    if not form.is_valid():
        if not request.htmx:
            return render(request, DETAIL, _detail_context(request, claim, note_form=form), status=400)
        response = render(request, f"{DETAIL}#note-form", {"claim": claim, "note_form": form})
        return reswap(retarget(response, "#note-form"), "outerHTML")
    event = services.add_note(claim, form.cleaned_data["text"], actor=request.user)
    if not request.htmx:
        messages.success(request, "Note added.")
        return redirect("claims:detail", pk=claim.pk)
    # The new entry goes on top of the timeline; the form comes back empty, out of band.
    html = render_to_string(f"{DETAIL}#timeline-event", {"event": event}, request=request)
    html += render_to_string(
        f"{DETAIL}#note-form", {"claim": claim, "note_form": NoteForm(), "oob": True}, request=request
    )
    return trigger_client_event(HttpResponse(html), "claim-updated", {"id": claim.pk})


@require_http_methods(["GET", "POST"])
@member_required
def claim_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    claim = _get_claim(request, pk)
    form = ClaimEditForm(request.POST or None, instance=claim)
    lines = entry.edit_lines(claim, request.POST if request.method == "POST" else None)
    if request.method == "POST" and entry.edit_is_valid(claim, form, lines):
        try:
            changed = entry.save_claim_edit(claim, form, lines, actor=request.user)
        except ValidationError as error:  # the ledger refused the charge correction; nothing was saved
            form.add_error("total_charge", " ".join(error.messages))
        else:
            if changed:
                messages.success(request, f"Claim {claim} saved.")
            else:
                messages.info(request, "Nothing changed.")
            return redirect("claims:detail", pk=claim.pk)
    context = {"claim": claim, "form": form, "lines": lines, "total_forms": lines.total_form_count()}
    return render(request, "claims/claim_edit.html", {**context, "lines_total": lines.typed_total()})


@require_GET
@member_required
def payer_list(request: AuthedRequest) -> HttpResponse:
    payers = scoped(request, Payer).annotate(
        claim_count=Count("claims"), open_claim_count=Count("claims", filter=Q(claims__status__in=OPEN))
    )
    return render(request, "claims/payer_list.html", {"payers": payers})


@require_GET
@member_required
def payer_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    payer = get_for_practice(request, Payer, pk)
    by_status = (
        scoped(request, Claim)
        .filter(payer=payer, status__in=OPEN)
        .values("status")
        .annotate(count=Count("pk"), outstanding=Sum(outstanding_expression()))
        .order_by()
    )
    order = list(ClaimStatus)
    open_counts = sorted(by_status, key=lambda row: order.index(row["status"]))
    context = {
        "payer": payer,
        "open_counts": open_counts,
        "open_total": sum(row["count"] for row in open_counts),
        "open_outstanding": sum(row["outstanding"] or 0 for row in open_counts),
        "steps": (payer.ivr_config or {}).get("steps", []),
    }
    return render(request, "claims/payer_detail.html", context)


@require_http_methods(["GET", "POST"])
@admin_required
def payer_edit(request: AuthedRequest, pk: int | None = None) -> HttpResponse:
    payer = get_for_practice(request, Payer, pk) if pk else Payer(practice=request.practice)
    form = PayerForm(request.POST or None, instance=payer)
    # save_form: a payer ID another request took since the form checked it is the form's error.
    if request.method == "POST" and form.is_valid() and save_form(form):
        messages.success(request, f"{payer.name} saved.")
        return redirect("claims:payer_detail", pk=payer.pk)
    return render(request, "claims/payer_form.html", {"form": form, "payer": payer, "ivr_example": IVR_EXAMPLE_JSON})


def _get_claim(request: AuthedRequest, pk: int) -> Claim:
    return get_for_practice(request, Claim.objects.select_related("patient", "payer", "provider", "policy"), pk)


def _detail_context(request: AuthedRequest, claim: Claim, **forms) -> dict:
    today = request.practice.today()
    return {
        "claim": claim,
        "today": today,
        "deadline_soon": today + timedelta(days=DEADLINE_WARNING_DAYS),
        "lines": claim.lines.all(),
        "diagnoses": list(zip("ABCDEFGHIJKL", claim.diagnosis_codes or [], strict=False)),
        "events": claim.events.select_related("actor"),
        "status_form": forms.get("status_form") or ClaimStatusForm(claim=claim),
        "note_form": forms.get("note_form") or NoteForm(),
        # The "Ledger" card: two queries however long the ledger (billing writes these rows).
        "claim_ledger": claim.ledger.select_related("created_by", "reversed_by").order_by("pk"),
        "claim_expected_payments": claim.expected_payments.order_by("-created_at", "-pk"),
        **claim_calls_context(request, claim),
    }


def _status_changed_response(request: AuthedRequest, claim: Claim) -> HttpResponse:
    """After a status change: a fresh form in place, the header and timeline out of band."""
    if not request.htmx:
        return redirect("claims:detail", pk=claim.pk)
    context = _detail_context(request, claim)
    html = render_to_string(f"{DETAIL}#status-form", context, request=request)
    context["oob"] = True
    for partial in ("claim-header", "timeline-events"):
        html += render_to_string(f"{DETAIL}#{partial}", context, request=request)
    html += render_to_string("base.html#messages", {"oob": True}, request=request)
    return trigger_client_event(HttpResponse(html), "claim-updated", {"id": claim.pk})
