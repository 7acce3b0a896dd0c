"""Routes under /api/v1/. Each app registers its viewsets on ``router`` here."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import DefaultRouter

from billingpulse.api import MeView, PatientViewSet, ProviderViewSet
from claims.api import ClaimViewSet, InsurancePolicyViewSet, PayerViewSet
from claims.import_api import ClaimImportUploadViewSet, ClaimImportViewSet
from telephony.api import CallViewSet, ScheduledCallViewSet

app_name = "api"

router = DefaultRouter(trailing_slash=False)
router.register("patients", PatientViewSet)
router.register("providers", ProviderViewSet)
router.register("payers", PayerViewSet)
router.register("policies", InsurancePolicyViewSet)
router.register("claims", ClaimViewSet)
router.register("claim-imports", ClaimImportViewSet)
router.register("calls", CallViewSet)
router.register("scheduled-calls", ScheduledCallViewSet)

urlpatterns = [
    path("me", MeView.as_view(), name="me"),
    # Claim ids are digits only (ClaimViewSet.lookup_value_regex), so "import" is never one.
    path("claims/import", ClaimImportUploadViewSet.as_view({"post": "create"}), name="claim-import"),
    *router.urls,
]
