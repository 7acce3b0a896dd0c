"""The reports in the API: ``GET /api/v1/reports/<report>?days=90``.

Every member of a practice may read its reports. Money is a string of a decimal, like the rest
of the API; each report has a ``summary`` (where it has one) and ``tables``, each with its
``columns`` and ``rows``.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import APIView

from billingpulse.tenancy import IsPracticeMember
from reports import queries
from reports.period import MAX_DAYS, Period, PeriodForm
from reports.tables import Table, as_json

DAYS = OpenApiParameter(
    "days", OpenApiTypes.INT, description=f"The last N days, today included (1–{MAX_DAYS}; default 90)."
)


def _period(request) -> Period:
    form = PeriodForm(request.query_params)
    if not form.is_valid():
        raise exceptions.ValidationError(form.errors)
    return Period.ending_today(request.user.practice, form.cleaned_data["days"])


def _period_json(period: Period) -> dict:
    return {"days": period.days, "from": period.first, "to": period.last, "time_zone": str(period.zone)}


def _tables(tables: list[Table]) -> list[dict]:
    return [
        {
            "key": table.key,
            "title": table.title,
            "columns": [{"key": column.key, "label": column.label, "kind": column.kind} for column in table.columns],
            "rows": [{column.key: row.get(column.key) for column in table.columns} for row in table.rows],
            **({"note": table.note} if table.note else {}),
        }
        for table in tables
    ]


class ReportView(APIView):
    permission_classes = [IsPracticeMember]


class DenialTrendsView(ReportView):
    """Denied claims by denial code, payer, CPT/HCPCS, provider and week of service."""

    @extend_schema(parameters=[DAYS], responses=OpenApiTypes.OBJECT)
    def get(self, request):
        period = _period(request)
        report = queries.denial_trends(request.user.practice, period)
        data = {"period": _period_json(period), "summary": report.summary(), "tables": _tables(report.tables())}
        return Response(as_json(data))


class PayerPerformanceView(ReportView):
    """Per payer: calls, completion and resolution, call time and cost, payments and days to pay."""

    @extend_schema(parameters=[DAYS], responses=OpenApiTypes.OBJECT)
    def get(self, request):
        period = _period(request)
        report = queries.payer_performance(request.user.practice, period)
        data = {
            "period": _period_json(period),
            "summary": report.totals(),
            "hold_time": {"recorded": False, "note": report.hold_time_note},
            "tables": _tables(report.tables()),
        }
        return Response(as_json(data))


class ArAgingView(ReportView):
    """What is still owed, by payer and age bucket (days since the date of service), as of today."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        today = request.user.practice.today()
        report = queries.ar_aging(request.user.practice, today)
        data = {
            "as_of": today,
            "buckets": [{"key": key, "label": label} for key, label in report.buckets],
            "summary": report.summary(),
            "totals": report.totals,
            "tables": _tables(report.tables()),
        }
        return Response(as_json(data))


class CallingOperationsView(ReportView):
    """Calls per day, completion, failure reasons, follow-ups due, review queue, revenue recovered."""

    @extend_schema(parameters=[DAYS], responses=OpenApiTypes.OBJECT)
    def get(self, request):
        period = _period(request)
        report = queries.calling_operations(request.user.practice, period)
        data = {"period": _period_json(period), "summary": report.summary(), "tables": _tables(report.tables())}
        return Response(as_json(data))


URLS = [
    path("reports/denial-trends", DenialTrendsView.as_view(), name="report-denial-trends"),
    path("reports/payer-performance", PayerPerformanceView.as_view(), name="report-payer-performance"),
    path("reports/ar-aging", ArAgingView.as_view(), name="report-ar-aging"),
    path("reports/calling-operations", CallingOperationsView.as_view(), name="report-calling-operations"),
]
