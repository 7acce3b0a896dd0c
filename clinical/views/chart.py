"""The patient chart's tabs beside the billing account: encounters, notes and claims.

The patient page (billing's) shows a tab bar whose tabs load these views into ``#patient-chart``
with htmx. Each view answers an htmx request with the ``patient-chart`` partial (the tab bar and
its panel) and any other request with a full page, so every tab has a real address that works
without JavaScript. Billing never imports this module: its template names these URLs.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from billingpulse.actor import Actor
from billingpulse.lib.unique import add_to_form
from billingpulse.models import Patient
from billingpulse.tenancy import AuthedRequest, get_for_practice, member_required, scoped
from claims.models import Claim
from clinical import services
from clinical.forms import AppointmentForm, AppointmentStatusForm
from clinical.models import Appointment, ClinicalNote

CHART = "clinical/chart_patient.html"
# The buttons an appointment offers, in this order, for the moves its status allows.
MOVES = [
    (Appointment.Status.ARRIVED, "Arrived"),
    (Appointment.Status.COMPLETED, "Completed"),
    (Appointment.Status.NO_SHOW, "No-show"),
    (Appointment.Status.CANCELED, "Cancel"),
    (Appointment.Status.SCHEDULED, "Back to scheduled"),
]


def _patient(request: AuthedRequest, pk: int) -> Patient:
    return get_for_practice(request, Patient, pk)


def _render(request: AuthedRequest, patient: Patient, tab: str, context: dict, status: int = 200) -> HttpResponse:
    """The tab as the ``patient-chart`` partial for htmx, else as a full page."""
    context = {"patient": patient, "tab": tab, "nav_current": "billing:index", **context}
    if request.htmx and not request.htmx.history_restore_request:
        html = render_to_string(f"{CHART}#patient-chart", context, request=request)
        html += render_to_string("base.html#messages", {"oob": True}, request=request)
        return HttpResponse(html, status=status)
    return render(request, CHART, context, status=status)


# -- encounters ------------------------------------------------------------------------------------


def _encounters(request: AuthedRequest, patient: Patient, form: AppointmentForm | None = None) -> dict:
    appointments = (
        scoped(request, Appointment)
        .filter(patient=patient)
        .select_related("provider")
        .prefetch_related(
            Prefetch("notes", queryset=ClinicalNote.objects.current().order_by("-note_date", "-id")),
            Prefetch("claims", queryset=Claim.objects.order_by("-service_date_from", "claim_number")),
        )
    )
    rows = [{"appointment": a, "moves": [(s, label) for s, label in MOVES if a.can_move_to(s)]} for a in appointments]
    return {"rows": rows, "form": form or AppointmentForm(practice=request.practice)}


@require_GET
@vary_on_headers("HX-Request")
@member_required
def encounters(request: AuthedRequest, pk: int) -> HttpResponse:
    patient = _patient(request, pk)
    return _render(request, patient, "encounters", _encounters(request, patient))


@require_POST
@member_required
def appointment_new(request: AuthedRequest, pk: int) -> HttpResponse:
    patient = _patient(request, pk)
    form = AppointmentForm(request.POST, practice=request.practice)
    if form.is_valid():
        try:
            services.schedule_appointment(
                request.practice, patient=patient, actor=Actor.of(request), **form.cleaned_data
            )
        except ValidationError as error:
            add_to_form(form, error)
        else:
            messages.success(request, "Appointment scheduled.")
            if not request.htmx:
                return redirect("clinical:chart_encounters", pk=patient.pk)
            return _render(request, patient, "encounters", _encounters(request, patient))
    # The panel is marked data-swap-errors, so htmx shows this 400 too.
    return _render(request, patient, "encounters", _encounters(request, patient, form), status=400)


@require_POST
@member_required
def appointment_status(request: AuthedRequest, pk: int) -> HttpResponse:
    appointment = get_for_practice(request, Appointment.objects.select_related("patient"), pk)
    form = AppointmentStatusForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError("Choose a status from the list.")
        services.move_appointment(appointment, form.cleaned_data["status"], actor=Actor.of(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        status = 400
    else:
        messages.success(request, f"Appointment marked {appointment.get_status_display().lower()}.")
        if not request.htmx:
            return redirect("clinical:chart_encounters", pk=appointment.patient_id)
        status = 200
    patient = appointment.patient
    return _render(request, patient, "encounters", _encounters(request, patient), status=status)


# -- notes and claims ------------------------------------------------------------------------------


@require_GET
@vary_on_headers("HX-Request")
@member_required
def notes(request: AuthedRequest, pk: int) -> HttpResponse:
    patient = _patient(request, pk)
    current = scoped(request, ClinicalNote).current().filter(patient=patient).select_related("provider")
    return _render(request, patient, "notes", {"notes": current})


@require_GET
@vary_on_headers("HX-Request")
@member_required
def claims(request: AuthedRequest, pk: int) -> HttpResponse:
    patient = _patient(request, pk)
    rows = (
        scoped(request, Claim)
        .filter(patient=patient)
        .select_related("payer")
        .order_by("-service_date_from", "claim_number")
    )
    return _render(request, patient, "claims", {"claims": rows})
