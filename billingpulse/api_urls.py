"""Routes under /api/v1/. Each app registers its viewsets on ``router`` here."""

from __future__ import annotations

from django.urls import path

from audit.api import AuditLogView
from billing import api as billing_api
from billing.era import api as era_api
from billingpulse.api import DiagnosisCodeSearchView, MeView, PatientViewSet, ProviderViewSet
from billingpulse.lib.rest import Router
from claims.api import ClaimViewSet, InsurancePolicyViewSet, PayerViewSet
from claims.import_api import ClaimImportUploadViewSet, ClaimImportViewSet
from clinical.api import AppointmentViewSet, NoteViewSet
from documents import api as documents_api
from exports import api as exports_api
from reports import api as reports_api
from telephony.api import CallViewSet, ScheduledCallViewSet

app_name = "api"

router = Router(trailing_slash=False)
router.register("patients", PatientViewSet)
router.register("providers", ProviderViewSet)
router.register("payers", PayerViewSet)
router.register("policies", InsurancePolicyViewSet)
router.register("claims", ClaimViewSet)
router.register("claim-imports", ClaimImportViewSet)
router.register("calls", CallViewSet)
router.register("scheduled-calls", ScheduledCallViewSet)
router.register("appointments", AppointmentViewSet)
router.register("notes", NoteViewSet)
for prefix, viewset, basename in [*billing_api.ROUTES, *era_api.ROUTES]:
    router.register(prefix, viewset, basename=basename)

urlpatterns = [
    path("me", MeView.as_view(), name="me"),
    path("audit", AuditLogView.as_view(), name="audit-list"),
    path("codes/icd10", DiagnosisCodeSearchView.as_view(), name="icd10-search"),
    # Ids are digits only (the router's lookup pattern), so "import" is never taken for a claim id.
    path("claims/import", ClaimImportUploadViewSet.as_view({"post": "create"}), name="claim-import"),
    *billing_api.URLS,
    *era_api.URLS,
    *documents_api.URLS,
    *reports_api.URLS,
    *exports_api.URLS,
    *router.urls,
]
