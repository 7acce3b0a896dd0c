"""Routes under /api/v1/knowledge/ (included by the project's urls before the main API)."""

from __future__ import annotations

from ai.api import DenialCodeViewSet, PayerPolicyViewSet
from billingpulse.lib.rest import NestedRouter

app_name = "knowledge_api"

# /api/v1/ already has the API's root page.
router = NestedRouter(trailing_slash=False)
router.register("denial-codes", DenialCodeViewSet, basename="denial-code")
router.register("payer-policies", PayerPolicyViewSet, basename="payer-policy")

urlpatterns = router.urls
