"""The audit log page for practice admins, and its CSV export."""

from __future__ import annotations

from collections.abc import Iterator
from zoneinfo import ZoneInfo

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from audit.forms import AuditFilterForm
from audit.models import AuditEntry
from billingpulse.lib.csv_export import csv_response
from billingpulse.paging import paginate
from billingpulse.tenancy import AuthedRequest, admin_required, scoped

TEMPLATE = "audit/log.html"
PER_PAGE = 50
CSV_HEADER = [
    "When",
    "User",
    "Action",
    "Record type",
    "Record ID",
    "Record",
    "Patient ID",
    "Details",
    "Changes",
    "Address",
    "Request ID",
    "User agent",
    "Entry ID",
    "Chain place",
]


def _entries(request: AuthedRequest, form: AuditFilterForm):
    return form.filter(scoped(request, AuditEntry)).select_related("actor", "patient")


@require_GET
@vary_on_headers("HX-Request")
@admin_required
def audit_log(request: AuthedRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None, practice=request.practice)
    status = 400 if form.is_bound and not form.is_valid() else 200
    listing = paginate(request, _entries(request, form), PER_PAGE)
    context = {"form": form, "page": listing.page, "pages": listing.pages, "total": listing.total}
    template = f"{TEMPLATE}#audit-table" if request.htmx and not request.htmx.history_restore_request else TEMPLATE
    return render(request, template, context, status=status)


@require_GET
@admin_required
def audit_export(request: AuthedRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None, practice=request.practice)
    if form.is_bound and not form.is_valid():
        listing = paginate(request, AuditEntry.objects.none(), PER_PAGE)
        context = {"form": form, "page": listing.page, "pages": listing.pages, "total": 0}
        return render(request, TEMPLATE, context, status=400)
    zone = ZoneInfo(request.practice.time_zone)
    entries = _entries(request, form).iterator(chunk_size=2000)
    stamp = timezone.localtime(timezone=zone)
    return csv_response(f"audit-log-{stamp:%Y%m%d-%H%M}.csv", CSV_HEADER, _rows(entries, zone))


def _rows(entries: Iterator[AuditEntry], zone: ZoneInfo) -> Iterator[list[object]]:
    for entry in entries:
        yield [
            timezone.localtime(entry.created_at, zone).isoformat(timespec="seconds"),
            entry.actor_label,
            entry.get_action_display(),
            entry.resource_type,
            entry.resource_id,
            entry.resource_label,
            entry.patient_id or "",
            entry.message,
            "; ".join(f"{name}: {before} → {after}" for name, (before, after) in entry.changes.items())
            if _is_diff(entry.changes)
            else "",
            entry.remote_addr or "",
            entry.request_id,
            entry.user_agent,
            entry.pk,
            entry.sequence or "",
        ]


def _is_diff(changes: dict) -> bool:
    return all(isinstance(value, list) and len(value) == 2 for value in changes.values())
