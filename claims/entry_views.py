"""The new-claim page and the pieces its form asks for as the biller types: patients found, the
patient's policies with the payer, another service-line row."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_http_methods

from billingpulse.tenancy import AuthedRequest, member_required
from claims import services
from claims.entry import (
    MAX_LINES,
    PREFIX,
    ClaimEntry,
    ClaimEntryForm,
    as_id,
    blank_line,
    create_entered_claim,
    policies_for,
    search_patients,
)

PAGE = "claims/claim_form.html"


@require_http_methods(["GET", "POST"])
@member_required
def claim_new(request: AuthedRequest) -> HttpResponse:
    if request.method == "GET":
        # Each visit takes a number of the practice's sequence, so two billers never get the same one.
        entry = ClaimEntry(request.practice, initial={"claim_number": services.next_claim_number(request.practice)})
        return render(request, PAGE, _context(entry))
    if "find_patient" in request.POST or "add_line" in request.POST:
        # Without JavaScript: the page again, as typed, with the patients found or one more row.
        data = request.POST.copy()
        if "add_line" in request.POST and (count := as_id(data.get(f"{PREFIX}-TOTAL_FORMS"))) is not None:
            data[f"{PREFIX}-TOTAL_FORMS"] = str(min(count + 1, MAX_LINES))
        return render(request, PAGE, _context(ClaimEntry(request.practice, data).quiet()))
    entry = ClaimEntry(request.practice, request.POST)
    if entry.is_valid():
        try:
            claim = create_entered_claim(entry, actor=request.user)
        except ValidationError as error:  # a claim number taken since the form checked it; nothing was written
            entry.add_error(error)
        else:
            messages.success(request, f"Claim {claim} created.")
            return redirect("claims:detail", pk=claim.pk)
    return render(request, PAGE, _context(entry), status=400)


@require_GET
@member_required
def patient_results(request: AuthedRequest) -> HttpResponse:
    """The patients matching ``patient_q``, as choices of the new-claim form."""
    if not request.htmx:
        return redirect("claims:new")
    query, selected = request.GET.get("patient_q", ""), request.GET.get("patient")
    context = {
        "form": ClaimEntryForm(practice=request.practice, initial={"patient_q": query, "patient": selected}),
        "patient_results": search_patients(request.practice, query, selected),
    }
    return render(request, f"{PAGE}#patient-results", context)


@require_GET
@member_required
def policy_options(request: AuthedRequest) -> HttpResponse:
    """The chosen patient's policies with the chosen payer, as the form's policy field."""
    if not request.htmx:
        return redirect("claims:new")
    form = ClaimEntryForm(practice=request.practice, initial={"policy": request.GET.get("policy")})
    policies = policies_for(request.practice, request.GET.get("patient"), request.GET.get("payer"))
    return render(request, f"{PAGE}#policy-field", {"form": form, "policies": policies})


@require_GET
@member_required
def line_row(request: AuthedRequest) -> HttpResponse:
    """One more blank service-line row, and the row count the formset reads, updated out of band."""
    raw = request.GET.get(f"{PREFIX}-TOTAL_FORMS", "").strip()
    count = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 3 else None
    if count is None or count >= MAX_LINES:
        return HttpResponseBadRequest(f"A claim holds at most {MAX_LINES} service lines.")
    context = {"line": blank_line(count), "number": count + 1, "total_forms": count + 1, "oob": True}
    html = render_to_string(f"{PAGE}#line-row", context, request=request)
    html += render_to_string(f"{PAGE}#total-forms", context, request=request)
    return HttpResponse(html)


def _context(entry: ClaimEntry) -> dict:
    return {
        "entry": entry,
        "form": entry.form,
        "new_patient": entry.new_patient,
        "lines": entry.lines,
        "total_forms": entry.lines.total_form_count(),
        "lines_total": entry.lines.typed_total(),
        "patient_results": entry.patient_results(),
        "policies": entry.policies(),
        "add_line_submits": True,
    }
