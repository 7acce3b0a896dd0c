from __future__ import annotations

from django.urls import path

from billingpulse.views import coming_soon

urlpatterns = [
    path("", coming_soon, {"section": "billing"}, name="index"),
]
