"""The text of a stored document, for search: text layers first, Tesseract only where a page has no text.

``extract_text`` never raises for a bad file: a damaged or unreadable file gives ``FAILED`` with a reason, and a
server without Tesseract (or without poppler's ``pdftoppm``) gives ``UNAVAILABLE``, keeping any text it could
read without them, so the document can be read again once the tool is installed.

Why Tesseract runs as our own subprocess rather than through ``pytesseract.image_to_string``: Tesseract must
run with ``OMP_THREAD_LIMIT=1`` (phase3-deps A8: a page takes 2.4 s on one thread and 8.5 s under load with
the default threads), and pytesseract hands Tesseract this process's own environment with no way to pass
another, short of changing ``os.environ`` for every thread. We still honour pytesseract's documented
setting, ``pytesseract.pytesseract.tesseract_cmd``, for where the binary is.

PDF pages are rendered one at a time with ``pdftoppm -r 200`` into a temporary folder, so a 300-page scan
never holds more than one page image in memory or on disk. Pages are separated by a form feed (``\\f``) in
the text, as ``pdftotext`` does.
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import pytesseract

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook

logger = logging.getLogger(__name__)

MAX_TEXT_CHARS = 2_000_000
MAX_OCR_PAGES = 200  # about 8 minutes of one worker; beyond that the rest waits for a person
OCR_TIMEOUT = 120.0  # seconds per page; a clean Letter page takes about 2.5 s
RENDER_TIMEOUT = 60.0
RENDER_DPI = 200
MIN_LAYER_CHARS = 20  # letters and digits on a page below which it is treated as a scan (page numbers, stamps)
MAX_DOCX_XML_BYTES = 100 * 1024 * 1024
PAGE_BREAK = "\f"

TESSERACT_MISSING = (
    "Text recognition (Tesseract) is not installed on this server, so the words of scanned pages can't be read."
)
PDFTOPPM_MISSING = (
    "PDF page rendering (pdftoppm from poppler-utils) is not installed on this server, "
    "so the words of scanned pages can't be read."
)


class ExtractionStatus(StrEnum):
    PENDING = "pending"  # the model's default, before extraction has run; extract_text never returns it
    DONE = "done"
    NO_TEXT = "no_text"  # read without error, but there are no words (a blank page, a photo)
    FAILED = "failed"  # the file could not be read; ``reason`` says why
    UNAVAILABLE = "unavailable"  # a tool this server lacks is needed (Tesseract, pdftoppm); retry after installing


@dataclass(frozen=True)
class Extraction:
    """The outcome. ``pages`` counts PDF pages, image frames or spreadsheet sheets (0 for DOCX and text);
    ``ocr_pages`` counts those read by Tesseract. ``reason`` explains FAILED and UNAVAILABLE, and notes a cut."""

    status: ExtractionStatus
    text: str = ""
    reason: str = ""
    pages: int = 0
    ocr_pages: int = 0


class _Failed(Exception):
    """The file can't be read; the message is for the biller."""


class _Unavailable(Exception):
    """A tool is missing; the message is for the biller."""


@dataclass
class _Collected:
    """Text gathered page by page, cut at ``MAX_TEXT_CHARS`` so a huge spreadsheet can't fill memory."""

    parts: list[str] = field(default_factory=list)
    size: int = 0
    pages: int = 0
    ocr_pages: int = 0
    notes: list[str] = field(default_factory=list)
    missing_tool: str = ""

    @property
    def full(self) -> bool:
        return self.size >= MAX_TEXT_CHARS

    def add(self, text: str) -> None:
        if self.full:
            return
        text = text[: MAX_TEXT_CHARS - self.size]
        self.parts.append(text)
        self.size += len(text) + 1
        if self.full:
            self.notes.append(f"Only the first {MAX_TEXT_CHARS:,} characters of text were kept for search.")


def extract_text(path: Path, mime: str, *, ocr_timeout: float = OCR_TIMEOUT) -> Extraction:
    """The searchable text of the file at ``path``, whose type ``mime`` was detected by ``documents.detect``."""
    reader = _READERS.get(mime)
    if reader is None:
        return Extraction(ExtractionStatus.FAILED, reason=f"Text can't be read from this kind of file ({mime}).")
    collected = _Collected()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pypdf and openpyxl warn about flaws they work around
            reader(Path(path), collected, ocr_timeout)
    except _Failed as error:
        return Extraction(ExtractionStatus.FAILED, reason=str(error), pages=collected.pages)
    except Exception as error:  # a damaged file can break any parser in any way; never a 500 or a dead task
        logger.warning("Text extraction of a %s failed: %s", mime, type(error).__name__, exc_info=True)
        reason = "The file could not be read: it may be damaged."
        return Extraction(ExtractionStatus.FAILED, reason=reason, pages=collected.pages)
    text = PAGE_BREAK.join(collected.parts)
    if collected.missing_tool:
        status, reasons = ExtractionStatus.UNAVAILABLE, [collected.missing_tool, *collected.notes]
    else:
        status = ExtractionStatus.DONE if text.strip() else ExtractionStatus.NO_TEXT
        reasons = collected.notes
    return Extraction(status, text, " ".join(reasons), collected.pages, collected.ocr_pages)


# ---------------------------------------------------------------------------- OCR


def ocr_png(image: Path, *, timeout: float = OCR_TIMEOUT, omp_threads: int | None = 1) -> str:
    """Tesseract's text for one image file; ``omp_threads=None`` leaves OMP_THREAD_LIMIT as this process has it.

    Raises ``_Unavailable`` when the binary is missing and ``_Failed`` on a timeout or a Tesseract error.
    """
    env = dict(os.environ)
    if omp_threads is not None:
        env["OMP_THREAD_LIMIT"] = str(omp_threads)
    command = [pytesseract.pytesseract.tesseract_cmd, str(image), "stdout", "-l", "eng"]
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout, env=env, check=False)
    except (FileNotFoundError, PermissionError, NotADirectoryError) as error:
        raise _Unavailable(TESSERACT_MISSING) from error
    except subprocess.TimeoutExpired as error:
        raise _Failed(f"Reading the words of a page took longer than {timeout:.0f} seconds.") from error
    if done.returncode != 0:
        logger.warning("tesseract exited %s: %s", done.returncode, done.stderr[-500:])
        raise _Failed("Text recognition (Tesseract) could not read a page of this file.")
    return done.stdout.decode("utf-8", "replace").strip()


def _ocr_into(collected: _Collected, image: Path, timeout: float) -> str:
    """OCR one page unless a tool is already known to be missing; note the missing tool instead of failing."""
    if collected.missing_tool:
        return ""
    if collected.ocr_pages >= MAX_OCR_PAGES:
        note = f"Only the first {MAX_OCR_PAGES} scanned pages were read; the others were skipped."
        if note not in collected.notes:
            collected.notes.append(note)
        return ""
    try:
        text = ocr_png(image, timeout=timeout)
    except _Unavailable as error:
        collected.missing_tool = str(error)
        return ""
    collected.ocr_pages += 1
    return text


# ---------------------------------------------------------------------------- readers by type


def _read_pdf(path: Path, collected: _Collected, timeout: float) -> None:
    from pypdf import PasswordType, PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise _Failed("The PDF is protected by a password, so its text can't be read.")
        pages = list(reader.pages)
    except PdfReadError as error:
        raise _Failed("The PDF could not be opened: it may be damaged.") from error
    with tempfile.TemporaryDirectory(prefix="billingpulse-ocr-") as folder:
        for number, page in enumerate(pages, start=1):
            if collected.full:
                break
            collected.pages += 1
            try:
                layer = page.extract_text() or ""
            except Exception:  # one unreadable page's text layer: fall back to reading its image
                layer = ""
            if sum(ch.isalnum() for ch in layer) >= MIN_LAYER_CHARS:
                collected.add(layer.strip())
                continue
            image = _render_page(path, number, Path(folder), collected)
            ocr = _ocr_into(collected, image, timeout) if image else ""
            collected.add(ocr or layer.strip())
            if image:
                image.unlink(missing_ok=True)


def _render_page(pdf: Path, number: int, folder: Path, collected: _Collected) -> Path | None:
    """Page ``number`` as a 200-dpi greyscale PNG in ``folder``; None (and a note) if pdftoppm is missing."""
    if collected.missing_tool:
        return None
    base = folder / f"page-{number}"
    command = ["pdftoppm", "-r", str(RENDER_DPI), "-f", str(number), "-l", str(number), "-gray", "-png"]
    try:
        done = subprocess.run(
            [*command, "-singlefile", str(pdf), str(base)], capture_output=True, timeout=RENDER_TIMEOUT, check=False
        )
    except FileNotFoundError:
        collected.missing_tool = PDFTOPPM_MISSING
        return None
    except subprocess.TimeoutExpired as error:
        raise _Failed(f"Page {number} of the PDF took too long to render for text recognition.") from error
    image = base.with_suffix(".png")
    if done.returncode != 0 or not image.exists():
        raise _Failed(f"Page {number} of the PDF could not be rendered for text recognition: it may be damaged.")
    return image


def _read_image(path: Path, collected: _Collected, timeout: float) -> None:
    """Every frame (a fax TIFF has one per page), saved as PNG so Tesseract reads any format Pillow reads."""
    from PIL import Image, ImageSequence

    with tempfile.TemporaryDirectory(prefix="billingpulse-ocr-") as folder, Image.open(path) as image:
        for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
            if collected.full or collected.missing_tool:
                break
            collected.pages += 1
            page = Path(folder) / f"frame-{number}.png"
            frame.convert("L").save(page)
            collected.add(_ocr_into(collected, page, timeout))
            page.unlink(missing_ok=True)
        if collected.missing_tool:
            collected.pages = getattr(image, "n_frames", 1)


def _read_docx(path: Path, collected: _Collected, timeout: float) -> None:
    """The body text of ``word/document.xml``: one line per paragraph, tabs and line breaks kept."""
    from defusedxml.ElementTree import iterparse

    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    with zipfile.ZipFile(path) as archive:
        try:
            info = archive.getinfo("word/document.xml")
        except KeyError as error:
            raise _Failed("The Word document has no body text: it may be damaged.") from error
        if info.file_size > MAX_DOCX_XML_BYTES:
            raise _Failed("The Word document's text is too large to read.")
        line: list[str] = []
        with archive.open(info) as xml:
            for _event, element in iterparse(xml, events=("end",)):
                if element.tag == f"{w}t":
                    line.append(element.text or "")
                elif element.tag == f"{w}tab":
                    line.append("\t")
                elif element.tag in (f"{w}br", f"{w}cr"):
                    line.append("\n")
                elif element.tag == f"{w}p":
                    collected.add("".join(line))
                    line = []
                    element.clear()  # keep memory flat on a long document
                if collected.full:
                    break
    collected.parts = ["\n".join(collected.parts)] if collected.parts else []


def _read_xlsx(path: Path, collected: _Collected, timeout: float) -> None:
    """Cell values, one line per row with tabs between cells, one page per sheet (titled by its name)."""
    from openpyxl import load_workbook

    # A file object, not the path: openpyxl refuses paths without an .xlsx suffix, and stored files have none.
    with path.open("rb") as stream:
        _read_workbook(load_workbook(stream, read_only=True, data_only=True), collected)


def _read_workbook(workbook: Workbook, collected: _Collected) -> None:
    try:
        for sheet in workbook.worksheets:
            if collected.full:
                break
            collected.pages += 1
            lines = [sheet.title]
            size = 0
            for row in sheet.iter_rows(values_only=True):
                line = "\t".join(_cell_text(value) for value in row if value is not None)
                if line:
                    lines.append(line)
                    size += len(line)
                if size >= MAX_TEXT_CHARS:
                    break
            collected.add("\n".join(lines))
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _read_text(path: Path, collected: _Collected, timeout: float) -> None:
    """UTF-8 (with or without a BOM), else Windows-1252, else Latin-1, which decodes any byte."""
    with path.open("rb") as stream:
        data = stream.read(MAX_TEXT_CHARS * 4)
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    collected.add(text)


_Reader = Callable[[Path, _Collected, float], None]
_READERS: dict[str, _Reader] = {
    "application/pdf": _read_pdf,
    "image/png": _read_image,
    "image/jpeg": _read_image,
    "image/tiff": _read_image,
    "image/gif": _read_image,
    "image/webp": _read_image,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _read_docx,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _read_xlsx,
    "text/plain": _read_text,
    "text/csv": _read_text,
}
