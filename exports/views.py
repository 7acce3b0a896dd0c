"""Export pages: a download of the worklist, the calls list or a report, a background export's
progress and its file. Admins only (``billingpulse.tenancy``): exports take patient data out.

A small export streams straight back. One with more rows than ``EXPORT_BACKGROUND_ROWS`` is
queued for a worker, and the admin lands on its page, which shows the progress and then the
download link.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from billingpulse.tenancy import AuthedRequest, admin_required, get_for_practice, scoped
from exports import services
from exports.datasets import CALL_PARAMS, CLAIM_PARAMS, kept_filters
from exports.models import Export
from exports.responses import FORMATS, download, file_download

DETAIL = "exports/export_detail.html"
LIST_SHOWN = 50
_PARAMS = {Export.Kind.CLAIMS: CLAIM_PARAMS, Export.Kind.CALLS: CALL_PARAMS}


@require_GET
@admin_required
def claims_export(request: AuthedRequest) -> HttpResponse:
    return _export(request, Export.Kind.CLAIMS)


@require_GET
@admin_required
def calls_export(request: AuthedRequest) -> HttpResponse:
    return _export(request, Export.Kind.CALLS)


@require_GET
@admin_required
def report_export(request: AuthedRequest, kind: str) -> HttpResponse:
    return _export(request, kind)


def _export(request: AuthedRequest, kind: str) -> HttpResponse:
    file_format = request.GET.get("format", "csv")
    if file_format not in FORMATS:
        context = {"message": "Choose CSV or XLSX for the export."}
        return render(request, "exports/export_invalid.html", context, status=400)
    # As on the page, a filter with an invalid value is left out rather than refused.
    dataset = services.dataset_for(kind, request.practice, request.GET)
    if kind in _PARAMS and (rows := dataset.count()) > settings.EXPORT_BACKGROUND_ROWS:
        export = services.queue_export(
            practice=request.practice,
            user=request.user,
            kind=kind,
            file_format=file_format,
            filters=kept_filters(request.GET, _PARAMS[kind]),
            rows=rows,
        )
        return redirect("exports:detail", pk=export.pk)
    return download(dataset, file_format, request.practice)


@require_GET
@admin_required
def export_list(request: AuthedRequest) -> HttpResponse:
    exports = scoped(request, Export).select_related("requested_by")[:LIST_SHOWN]
    return render(request, "exports/export_list.html", {"exports": exports})


@require_GET
@admin_required
def export_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    export = get_for_practice(request, Export.objects.select_related("requested_by"), pk)
    context = {"export": export, "now": timezone.now()}
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, f"{DETAIL}#export-progress", context)
    return render(request, DETAIL, context)


@require_GET
@admin_required
def export_download(request: AuthedRequest, pk: int) -> HttpResponse:
    export = get_for_practice(request, Export, pk)
    if export.status != Export.Status.DONE or not export.file_name:
        if export.status == Export.Status.EXPIRED:
            raise Http404("This export has expired.")
        return redirect("exports:detail", pk=export.pk)
    try:
        file = services.open_export(export)
    except FileNotFoundError:
        raise Http404("This export's file is gone.") from None
    return file_download(file, export.download_name or f"export-{export.pk}.{export.format}", export.format)
