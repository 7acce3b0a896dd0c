"""/notes/…: clinical notes, note templates, and the clinical tabs of a patient's chart."""

from __future__ import annotations

from django.urls import path

from clinical.views import chart, note_templates, notes, pdf

app_name = "clinical"

urlpatterns = [
    path("", notes.note_list, name="index"),
    path("new/", notes.note_new, name="new"),
    path("<id:pk>/", notes.note_detail, name="detail"),
    path("<id:pk>/edit/", notes.note_edit, name="edit"),
    path("<id:pk>/autosave/", notes.note_autosave, name="autosave"),
    path("<id:pk>/status/", notes.note_status, name="status"),
    path("<id:pk>/sign/", notes.note_sign, name="sign"),
    path("<id:pk>/lock/", notes.note_lock, name="lock"),
    path("<id:pk>/amend/", notes.note_amend, name="amend"),
    path("<id:pk>/addendum/", notes.note_addendum, name="addendum"),
    path("<id:pk>/claim/", notes.note_claim, name="claim"),
    path("<id:pk>/pdf/", pdf.note_pdf, name="pdf"),
    path("templates/", note_templates.template_list, name="templates"),
    path("templates/new/", note_templates.template_edit, name="template_add"),
    path("templates/<id:pk>/edit/", note_templates.template_edit, name="template_edit"),
    path("patients/<id:pk>/encounters/", chart.encounters, name="chart_encounters"),
    path("patients/<id:pk>/encounters/new/", chart.appointment_new, name="appointment_new"),
    path("patients/<id:pk>/notes/", chart.notes, name="chart_notes"),
    path("patients/<id:pk>/claims/", chart.claims, name="chart_claims"),
    path("appointments/<id:pk>/status/", chart.appointment_status, name="appointment_status"),
]
