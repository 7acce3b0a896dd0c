"""``GET /api/v1/exports/claims?format=csv|xlsx&<worklist filters>``: the filtered worklist as a
file, streamed (never queued), for practice admins.

Unlike the page, the API refuses what it cannot honour: an unknown format or an invalid filter
value is a 400 naming the field.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from billingpulse.tenancy import IsPracticeAdmin
from exports import datasets
from exports.responses import CONTENT_TYPES, FORMATS, download

PARAMETERS = [
    OpenApiParameter("format", OpenApiTypes.STR, enum=list(FORMATS), description="csv (default) or xlsx."),
    OpenApiParameter("q", OpenApiTypes.STR, description="Words found in the claim number or the patient's name."),
    OpenApiParameter("status", OpenApiTypes.STR, description='A claim status, "all", or empty for open claims.'),
    OpenApiParameter("payer", OpenApiTypes.INT, description="A payer's id."),
    OpenApiParameter("denial_code", OpenApiTypes.STR, description="A denial code such as CO-16."),
    OpenApiParameter("follow_up", OpenApiTypes.STR, enum=["due", "overdue"]),
    OpenApiParameter("deadline", OpenApiTypes.STR, description='Filing deadline within N days (1–365) or "past".'),
    OpenApiParameter("age", OpenApiTypes.STR, description="Balance age bucket: 0-30, 31-60, 61-90, 91-120, 120+."),
    OpenApiParameter("sort", OpenApiTypes.STR, description="A worklist sort key, - in front for descending."),
]


class ClaimsExportView(APIView):
    """The worklist's claims for the filters, every page, as CSV or XLSX."""

    permission_classes = [IsPracticeAdmin]

    def perform_content_negotiation(self, request, force=False):
        # ``?format=`` names the file's format here, not DRF's renderer; errors are JSON.
        renderer = JSONRenderer()
        return renderer, renderer.media_type

    @extend_schema(
        parameters=PARAMETERS,
        responses={
            (200, CONTENT_TYPES["csv"]): OpenApiResponse(OpenApiTypes.BINARY, description="The claims as CSV."),
            (200, CONTENT_TYPES["xlsx"]): OpenApiResponse(OpenApiTypes.BINARY, description="The claims as XLSX."),
            400: OpenApiResponse(OpenApiTypes.OBJECT, description="Field errors."),
        },
    )
    def get(self, request):
        errors: dict[str, list[str]] = {}
        file_format = request.query_params.get("format") or "csv"
        if file_format not in FORMATS:
            errors["format"] = ["Choose csv or xlsx."]
        try:
            dataset = datasets.claims(request.user.practice, request.query_params, strict=True)
        except datasets.InvalidFilters as invalid:
            errors.update(invalid.errors)
        if errors:
            raise exceptions.ValidationError(errors)
        return download(dataset, file_format, request.user.practice)


URLS = [path("exports/claims", ClaimsExportView.as_view(), name="export-claims")]
