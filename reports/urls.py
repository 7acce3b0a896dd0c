from __future__ import annotations

from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("denial-trends/", views.denial_trends, name="denial_trends"),
    path("payer-performance/", views.payer_performance, name="payer_performance"),
    path("ar-aging/", views.ar_aging, name="ar_aging"),
    path("calling-operations/", views.calling_operations, name="calling_operations"),
]
