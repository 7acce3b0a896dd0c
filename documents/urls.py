from __future__ import annotations

from django.urls import path

from billingpulse.views import coming_soon

app_name = "documents"

urlpatterns = [
    path("", coming_soon, {"section": "documents"}, name="index"),
]
