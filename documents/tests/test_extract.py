from __future__ import annotations

import subprocess
from pathlib import Path

import pytesseract
import pytest

from documents import extract
from documents.detect import DOCX_MIME, XLSX_MIME
from documents.extract import Extraction, ExtractionStatus, extract_text
from documents.tests import samples


@pytest.fixture
def stored(tmp_path):
    """Writes bytes to a file named like the storage layer names them: no extension to go by."""

    def write(data: bytes) -> Path:
        path = tmp_path / f"blob-{len(list(tmp_path.iterdir()))}"
        path.write_bytes(data)
        return path

    return write


@pytest.fixture
def no_tesseract(tmp_path):
    """Points pytesseract's documented setting at a binary that does not exist, and restores it."""
    before = pytesseract.pytesseract.tesseract_cmd
    pytesseract.pytesseract.tesseract_cmd = str(tmp_path / "no-such-tesseract")
    yield
    pytesseract.pytesseract.tesseract_cmd = before


def _words(extraction: Extraction) -> str:
    return " ".join(extraction.text.split())


# ---------------------------------------------------------------------------- text layers and files


def test_it_takes_a_pdfs_text_layer_without_ocr(stored):
    extraction = extract_text(stored(samples.text_pdf()), "application/pdf")

    assert extraction.status == ExtractionStatus.DONE
    assert (extraction.pages, extraction.ocr_pages, extraction.reason) == (1, 0, "")
    assert "Claim 4471823 DENIAL" in extraction.text
    assert "CO-45" in extraction.text


def test_it_reads_a_docx(stored):
    extraction = extract_text(stored(samples.docx()), DOCX_MIME)

    assert extraction.status == ExtractionStatus.DONE
    assert extraction.text == "Appeal of denied claim 4471823\nDenial reason CO-45; diagnosis E11.9."


def test_it_keeps_tabs_and_breaks_of_a_docx(stored):
    body = "<w:p><w:r><w:t>Claim</w:t><w:tab/><w:t>4471823</w:t><w:br/><w:t>CO-45</w:t></w:r></w:p><w:p/><w:p>"
    body += "<w:r><w:t>Appeal </w:t></w:r><w:r><w:t>sent</w:t></w:r></w:p>"

    extraction = extract_text(stored(samples.docx_with_body(body)), DOCX_MIME)

    assert extraction.text == "Claim\t4471823\nCO-45\n\nAppeal sent"


def test_it_reads_a_reordered_docx(stored):
    extraction = extract_text(stored(samples.docx(content_types_last=True)), DOCX_MIME)

    assert "CO-45" in extraction.text


def test_it_reads_xlsx_cells(stored):
    extraction = extract_text(stored(samples.xlsx()), XLSX_MIME)

    assert extraction.status == ExtractionStatus.DONE
    assert extraction.pages == 1
    assert extraction.text.splitlines() == [
        "Denials",
        "Claim\tCode\tBalance",
        "4471823\tCO-45\t125",
        "5520019\tPR-1\t40.5",
    ]


@pytest.mark.parametrize(
    ("data", "mime", "expected"),
    [
        (samples.csv_bytes(), "text/csv", 'Claim #,Patient,Denial Code,Balance\n4471823,"DOE, JANE",CO-45,$125.00\n'),
        (samples.utf8_text(), "text/plain", "Notes — Müller, José: call back re E11.9 claim.\n"),
        (samples.latin1_text(), "text/plain", "Résumé of calls: payer said claim 4471823 was denied (CO-45).\n"),
        (b"\xef\xbb\xbfWith a BOM\n", "text/plain", "With a BOM\n"),
    ],
)
def test_it_decodes_text(stored, data, mime, expected):
    assert extract_text(stored(data), mime) == Extraction(ExtractionStatus.DONE, expected)


def test_it_says_no_text_for_an_empty_document(stored):
    assert extract_text(stored(samples.docx([""])), DOCX_MIME).status == ExtractionStatus.NO_TEXT


def test_it_caps_the_text(stored, monkeypatch):
    monkeypatch.setattr(extract, "MAX_TEXT_CHARS", 100)

    extraction = extract_text(stored(b"claim " * 1000), "text/plain")

    assert extraction.status == ExtractionStatus.DONE
    assert len(extraction.text) == 100
    assert extraction.reason == "Only the first 100 characters of text were kept for search."


# ---------------------------------------------------------------------------- OCR


def test_it_ocrs_a_scanned_pdf(stored):
    extraction = extract_text(stored(samples.scanned_pdf()), "application/pdf")

    assert extraction.status == ExtractionStatus.DONE
    assert (extraction.pages, extraction.ocr_pages) == (1, 1)
    for word in ("EXPLANATION", "DENIAL", "4471823", "CO-45", "E11.9"):
        assert word in extraction.text


def test_it_ocrs_only_the_pages_without_text(stored):
    extraction = extract_text(stored(samples.mixed_pdf()), "application/pdf")

    assert (extraction.pages, extraction.ocr_pages) == (2, 1)
    first, second = extraction.text.split(extract.PAGE_BREAK)
    assert first == "Appeal letter for claim 4471823"
    assert second == "Medical records attached"


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP"])
def test_it_ocrs_images(stored, fmt):
    mime = f"image/{fmt.lower()}"

    extraction = extract_text(stored(samples.image_bytes(fmt)), mime)

    assert extraction.status == ExtractionStatus.DONE
    assert (extraction.pages, extraction.ocr_pages) == (1, 1)
    assert "DENIAL" in extraction.text
    assert "CO-45" in extraction.text


def test_it_ocrs_every_frame_of_a_tiff(stored):
    data = samples.multipage_tiff([["First page DENIAL"], ["Second page CO-45"]])

    extraction = extract_text(stored(data), "image/tiff")

    assert (extraction.pages, extraction.ocr_pages) == (2, 2)
    assert extraction.text.split(extract.PAGE_BREAK) == ["First page DENIAL", "Second page CO-45"]


def test_it_says_no_text_for_a_blank_scan(stored):
    extraction = extract_text(stored(samples.image_bytes("PNG", [])), "image/png")

    assert extraction.status == ExtractionStatus.NO_TEXT
    assert extraction.ocr_pages == 1


def test_it_runs_tesseract_on_one_thread_with_a_timeout(stored, monkeypatch):
    calls = []
    real_run = subprocess.run

    def spy(command, **kwargs):
        calls.append((command, kwargs))
        return real_run(command, **kwargs)

    monkeypatch.setattr(extract.subprocess, "run", spy)

    extract_text(stored(samples.image_bytes("PNG")), "image/png", ocr_timeout=30)

    [(command, kwargs)] = calls
    assert command[0] == pytesseract.pytesseract.tesseract_cmd
    assert kwargs["env"]["OMP_THREAD_LIMIT"] == "1"
    assert kwargs["timeout"] == 30


def test_it_fails_with_a_reason_when_ocr_times_out(stored, monkeypatch):
    def too_slow(command, **kwargs):
        raise subprocess.TimeoutExpired(command, kwargs["timeout"])

    monkeypatch.setattr(extract.subprocess, "run", too_slow)

    extraction = extract_text(stored(samples.image_bytes("PNG")), "image/png", ocr_timeout=5)

    assert extraction.status == ExtractionStatus.FAILED
    assert extraction.reason == "Reading the words of a page took longer than 5 seconds."


def test_it_stops_ocr_after_the_page_limit(stored, monkeypatch):
    monkeypatch.setattr(extract, "MAX_OCR_PAGES", 1)
    data = samples.multipage_tiff([["First page DENIAL"], ["Second page CO-45"]])

    extraction = extract_text(stored(data), "image/tiff")

    assert extraction.status == ExtractionStatus.DONE
    assert (extraction.pages, extraction.ocr_pages) == (2, 1)
    assert "CO-45" not in extraction.text
    assert extraction.reason == "Only the first 1 scanned pages were read; the others were skipped."


# ---------------------------------------------------------------------------- Tesseract or pdftoppm missing


def test_it_is_unavailable_for_an_image_without_tesseract(stored, no_tesseract):
    extraction = extract_text(stored(samples.image_bytes("PNG")), "image/png")

    assert extraction == Extraction(
        ExtractionStatus.UNAVAILABLE,
        text="",
        reason=(
            "Text recognition (Tesseract) is not installed on this server, so the words of scanned pages can't be read."
        ),
        pages=1,
        ocr_pages=0,
    )


def test_it_keeps_the_text_layer_when_tesseract_is_missing(stored, no_tesseract):
    extraction = extract_text(stored(samples.mixed_pdf()), "application/pdf")

    assert extraction.status == ExtractionStatus.UNAVAILABLE
    assert extraction.reason == extract.TESSERACT_MISSING
    assert (extraction.pages, extraction.ocr_pages) == (2, 0)
    assert "Appeal letter for claim 4471823" in extraction.text


def test_it_needs_no_tesseract_for_text_layers(stored, no_tesseract):
    assert extract_text(stored(samples.text_pdf()), "application/pdf").status == ExtractionStatus.DONE


def test_it_is_unavailable_without_pdftoppm(stored, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")

    extraction = extract_text(stored(samples.scanned_pdf()), "application/pdf")

    assert extraction.status == ExtractionStatus.UNAVAILABLE
    assert extraction.reason == extract.PDFTOPPM_MISSING


# ---------------------------------------------------------------------------- damaged files


@pytest.mark.parametrize(
    ("data", "mime", "reason"),
    [
        (samples.broken_pdf(), "application/pdf", "The PDF could not be opened: it may be damaged."),
        (samples.encrypted_pdf(), "application/pdf", "The PDF is protected by a password, so its text can't be read."),
        (b"\x89PNG\r\n\x1a\n and no image", "image/png", "The file could not be read: it may be damaged."),
        (b"PK\x03\x04 not really a zip", DOCX_MIME, "The file could not be read: it may be damaged."),
        (samples.plain_zip(), DOCX_MIME, "The Word document has no body text: it may be damaged."),
        (samples.docx(), XLSX_MIME, "The file could not be read: it may be damaged."),
        (b"<not xml", DOCX_MIME, "The file could not be read: it may be damaged."),
    ],
)
def test_it_fails_with_a_reason_on_a_damaged_file(stored, data, mime, reason):
    extraction = extract_text(stored(data), mime)

    assert extraction.status == ExtractionStatus.FAILED
    assert extraction.reason == reason
    assert extraction.text == ""


def test_it_refuses_xml_entity_tricks_in_a_docx(stored):
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b"<w:body><w:p><w:r><w:t>&b;</w:t></w:r></w:p></w:body></w:document>"
    )
    data = samples.zip_parts({"[Content_Types].xml": b"<Types/>", "word/document.xml": bomb})

    assert extract_text(stored(data), DOCX_MIME).status == ExtractionStatus.FAILED


def test_it_fails_for_a_type_it_has_no_reader_for(stored):
    extraction = extract_text(stored(b"MZ"), "application/x-dosexec")

    assert extraction.status == ExtractionStatus.FAILED
    assert extraction.reason == "Text can't be read from this kind of file (application/x-dosexec)."


def test_it_never_returns_pending():
    assert ExtractionStatus.PENDING == "pending"
    assert {status.value for status in ExtractionStatus} == {"pending", "done", "no_text", "failed", "unavailable"}
