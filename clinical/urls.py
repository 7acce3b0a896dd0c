"""/notes/…: the clinical note pages."""

from __future__ import annotations

from django.urls import path

from clinical.views import notes, pdf

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
]
