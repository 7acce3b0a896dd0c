"""An export as a download: CSV streamed as it is written, XLSX from a temporary file."""

from __future__ import annotations

import tempfile

from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header

from billingpulse.models import Practice
from exports import formats
from exports.datasets import Dataset

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMATS = tuple(CONTENT_TYPES)


def download(dataset: Dataset, file_format: str, practice: Practice) -> HttpResponse | StreamingHttpResponse:
    """The dataset as a file download named like ``claims-2026-12-07.xlsx``.

    CSV rows go out as the database hands them over. An XLSX file is a zip archive that can
    only be finished once every row is in, so openpyxl's write-only workbook writes it to a
    temporary file (rows are never held in memory), which is then streamed and deleted.
    """
    filename = dataset.filename(file_format, practice.today())
    if file_format == "csv":
        response: HttpResponse | StreamingHttpResponse = StreamingHttpResponse(
            formats.csv_chunks(dataset.sheets), content_type=CONTENT_TYPES["csv"]
        )
        response["Content-Disposition"] = content_disposition_header(True, filename)
    else:
        file = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it once sent)
        try:
            formats.write_xlsx(dataset.sheets, file)
        except BaseException:
            file.close()
            raise
        file.seek(0)
        # FileResponse closes (and so deletes) the file once it has been sent.
        response = FileResponse(file, as_attachment=True, filename=filename, content_type=CONTENT_TYPES["xlsx"])
    response["Cache-Control"] = "no-store"
    return response


def file_download(file, filename: str, file_format: str) -> FileResponse:
    response = FileResponse(file, as_attachment=True, filename=filename, content_type=CONTENT_TYPES[file_format])
    response["Cache-Control"] = "no-store"
    return response
