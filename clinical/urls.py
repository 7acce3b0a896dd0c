from __future__ import annotations

from django.urls import path

from billingpulse.views import coming_soon

app_name = "clinical"

urlpatterns = [
    path("", coming_soon, {"section": "notes"}, name="index"),
]
