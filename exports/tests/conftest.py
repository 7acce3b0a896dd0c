from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook


@pytest.fixture(autouse=True)
def _export_storage(settings, tmp_path):
    # Export files from tests go to the test's own folder, never var/exports.
    local = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path / "exports"}}
    settings.STORAGES = {**settings.STORAGES, "exports": local}


def content_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def csv_rows(response) -> list[list[str]]:
    text = content_of(response).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def xlsx_sheets(data: bytes) -> dict[str, list[tuple]]:
    workbook = load_workbook(io.BytesIO(data))
    return {sheet.title: [tuple(cell.value for cell in row) for row in sheet.iter_rows()] for sheet in workbook}
