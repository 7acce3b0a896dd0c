"""Pages for importing claims from a spreadsheet: upload, check columns, progress, report."""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from billingpulse.tenancy import AuthedRequest, member_required
from billingpulse.views import coming_soon


@require_GET
@member_required
def upload(request: AuthedRequest) -> HttpResponse:
    return coming_soon(request, section="claims")
