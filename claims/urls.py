from __future__ import annotations

from django.urls import path

from claims import entry_views, fee_schedule, import_views, views

app_name = "claims"

urlpatterns = [
    path("", views.worklist, name="index"),
    path("totals/", views.worklist_totals, name="worklist_totals"),
    path("new/", entry_views.claim_new, name="new"),
    path("new/patients/", entry_views.patient_results, name="new_patients"),
    path("new/policies/", entry_views.policy_options, name="new_policies"),
    path("new/line/", entry_views.line_row, name="new_line"),
    path("<id:pk>/", views.claim_detail, name="detail"),
    path("<id:pk>/edit/", views.claim_edit, name="edit"),
    path("<id:pk>/status/", views.claim_status, name="status"),
    path("<id:pk>/notes/", views.claim_note, name="note"),
    path("import/", import_views.upload, name="import"),
    path("import/<id:pk>/", import_views.detail, name="import_detail"),
    path("import/<id:pk>/columns/", import_views.mapping, name="import_mapping"),
    path("import/<id:pk>/rejected-rows.csv", import_views.errors_csv, name="import_errors_csv"),
    path("payers/", views.payer_list, name="payers"),
    path("payers/new/", views.payer_edit, name="payer_add"),
    path("payers/<id:pk>/", views.payer_detail, name="payer_detail"),
    path("payers/<id:pk>/edit/", views.payer_edit, name="payer_edit"),
    path("fee-schedule/", fee_schedule.fee_schedule, name="fee_schedule"),
    path("fee-schedule/new/", fee_schedule.fee_edit, name="fee_add"),
    path("fee-schedule/paste/", fee_schedule.fee_paste, name="fee_paste"),
    path("fee-schedule/<id:pk>/edit/", fee_schedule.fee_edit, name="fee_edit"),
    path("fee-schedule/<id:pk>/remove/", fee_schedule.fee_remove, name="fee_remove"),
]
