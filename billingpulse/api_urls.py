"""Routes under /api/v1/. Each app registers its viewsets on ``router`` here."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import DefaultRouter

from billingpulse.api import MeView, PatientViewSet, ProviderViewSet
from claims.api import ClaimViewSet, InsurancePolicyViewSet, PayerViewSet

app_name = "api"

router = DefaultRouter(trailing_slash=False)
router.register("patients", PatientViewSet)
router.register("providers", ProviderViewSet)
router.register("payers", PayerViewSet)
router.register("policies", InsurancePolicyViewSet)
# POST claims/import (claims/import_api.py) is registered here, before "claims"; claim ids
# are digits only (ClaimViewSet.lookup_value_regex), so "import" is never read as one.
router.register("claims", ClaimViewSet)

urlpatterns = [
    path("me", MeView.as_view(), name="me"),
    *router.urls,
]
