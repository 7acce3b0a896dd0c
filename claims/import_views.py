"""Pages for importing claims from a spreadsheet: upload, check columns, progress, report."""

from __future__ import annotations

from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRefresh

from billingpulse.lib.csv_export import csv_response
from billingpulse.tenancy import AuthedRequest, get_for_practice, member_required, scoped
from claims import services
from claims.importing import engine
from claims.importing.errors import ImportFileError
from claims.importing.forms import MappingForm, UploadForm
from claims.importing.headers import column_notes
from claims.models import ClaimImport

REPORT_PREVIEW_ROWS = 200


@require_http_methods(["GET", "POST"])
@member_required
def upload(request: AuthedRequest) -> HttpResponse:
    posted = request.method == "POST"
    form = UploadForm(request.POST if posted else None, request.FILES if posted else None, practice=request.practice)
    status = 200
    if posted:
        if form.is_valid():
            try:
                claim_import = engine.inspect_upload(
                    practice=request.practice,
                    user=request.user,
                    upload=form.cleaned_data["file"],
                    default_payer=form.cleaned_data["payer"],
                )
            except ImportFileError as error:
                form.add_error("file", error.message)
            else:
                return redirect("claims:import_mapping", claim_import.pk)
        status = 400
    recent = scoped(request, ClaimImport).select_related("uploaded_by")[:10]
    return render(request, "claims/import_upload.html", {"form": form, "recent": recent}, status=status)


@require_http_methods(["GET", "POST"])
@member_required
def mapping(request: AuthedRequest, pk: int) -> HttpResponse:
    claim_import = get_for_practice(request, ClaimImport, pk)
    if claim_import.status != ClaimImport.Status.MAPPING:
        return redirect("claims:import_detail", claim_import.pk)
    saved = {int(i): f for i, f in claim_import.column_mapping.items()}
    form = MappingForm(
        request.POST if request.method == "POST" else None,
        headers=claim_import.headers,
        mapping=saved,
        practice=request.practice,
        default_payer=claim_import.default_payer,
    )
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        problems = engine.save_mapping(claim_import, form.mapping(), form.cleaned_data["payer"])
        if not problems:
            services.start_import(claim_import)
            return redirect("claims:import_detail", claim_import.pk)
    preview = engine.preview_rows(claim_import)
    notes = column_notes(claim_import.headers, form.mapping() if form.is_bound and form.is_valid() else saved)
    columns = [
        (field, [row[index] if index < len(row) else "" for row in preview], notes.get(index, ""))
        for index, field in enumerate(form.columns(notes))
    ]
    context = {"claim_import": claim_import, "form": form, "problems": problems, "columns": columns}
    return render(request, "claims/import_mapping.html", context, status=400 if problems else 200)


@require_GET
@member_required
def detail(request: AuthedRequest, pk: int) -> HttpResponse:
    claim_import = get_for_practice(request, ClaimImport, pk)
    context = {
        "claim_import": claim_import,
        "row_errors": claim_import.row_errors.all()[:REPORT_PREVIEW_ROWS] if claim_import.is_finished else [],
        "preview_limit": REPORT_PREVIEW_ROWS,
    }
    if request.htmx and not request.htmx.history_restore_request:
        if claim_import.is_finished:
            # The poll ends: reload the whole page, which shows the report.
            return HttpResponseClientRefresh()
        return render(request, "claims/import_detail.html#import-progress", context)
    return render(request, "claims/import_detail.html", context)


@require_GET
@member_required
def errors_csv(request: AuthedRequest, pk: int) -> StreamingHttpResponse:
    claim_import = get_for_practice(request, ClaimImport, pk)
    rows = claim_import.row_errors.values_list("row_number", "column", "value", "message")
    name = claim_import.original_name.rsplit(".", 1)[0]
    # The values are cells of the uploaded file as written: the writer keeps formulas in them inert.
    return csv_response(
        f"{name}-rejected-rows.csv", ["Row", "Column", "Value", "Problem"], rows.iterator(chunk_size=2000)
    )
