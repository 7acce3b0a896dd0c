from __future__ import annotations

from django.urls import path

from exports import views

app_name = "exports"

urlpatterns = [
    path("", views.export_list, name="index"),
    path("claims/", views.claims_export, name="claims"),
    path("calls/", views.calls_export, name="calls"),
    path("reports/denial-trends/", views.report_export, {"kind": "denial_trends"}, name="denial_trends"),
    path("reports/payer-performance/", views.report_export, {"kind": "payer_performance"}, name="payer_performance"),
    path("reports/ar-aging/", views.report_export, {"kind": "ar_aging"}, name="ar_aging"),
    path("reports/calling-operations/", views.report_export, {"kind": "calling_operations"}, name="calling_operations"),
    path("<id:pk>/", views.export_detail, name="detail"),
    path("<id:pk>/download/", views.export_download, name="download"),
]
