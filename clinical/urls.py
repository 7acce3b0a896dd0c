"""/notes/…: the clinical note pages."""

from __future__ import annotations

from django.urls import path

from clinical import views

app_name = "clinical"

urlpatterns = [
    path("", views.note_list, name="index"),
    path("new/", views.note_new, name="new"),
    path("<id:pk>/", views.note_detail, name="detail"),
    path("<id:pk>/edit/", views.note_edit, name="edit"),
    path("<id:pk>/autosave/", views.note_autosave, name="autosave"),
    path("<id:pk>/status/", views.note_status, name="status"),
    path("<id:pk>/sign/", views.note_sign, name="sign"),
    path("<id:pk>/lock/", views.note_lock, name="lock"),
    path("<id:pk>/amend/", views.note_amend, name="amend"),
    path("<id:pk>/addendum/", views.note_addendum, name="addendum"),
    path("<id:pk>/claim/", views.note_claim, name="claim"),
]
