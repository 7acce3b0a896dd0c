"""URLs for ``bench/webhook.py``: the project's own, plus a bare DRF endpoint as the baseline.

``POST /bench/baseline`` goes through the same middleware and DRF machinery as the Vapi webhook
(no authentication, no permission checks, JSON renderer) but only parses the JSON body. Used only
through ``bench.settings_webhook``; the project's URLs are unchanged.
"""

from __future__ import annotations

from django.urls import path
from rest_framework.decorators import api_view, authentication_classes, permission_classes, renderer_classes
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from billingpulse.urls import urlpatterns as project_urlpatterns


@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
@renderer_classes([JSONRenderer])
def baseline(request: Request) -> Response:
    request.data  # noqa: B018 - parsing the body is the whole point
    return Response({"ok": True})


# After the project's patterns, so resolving it is never cheaper than resolving the webhook.
urlpatterns = [*project_urlpatterns, path("bench/baseline", baseline, name="bench_baseline")]
