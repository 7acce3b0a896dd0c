from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image

from documents import detect
from documents.detect import Checked, UploadRefused, check_upload, safe_filename
from documents.tests import samples

MB = 1024 * 1024
LIMIT = 25 * MB


def _check(name: str, data: bytes, *, max_bytes: int = LIMIT) -> Checked:
    stream = io.BytesIO(data)
    stream.seek(len(data) // 2)  # the check must not assume the caller rewound the stream
    try:
        return check_upload(name, stream, len(data), max_bytes=max_bytes)
    finally:
        assert stream.tell() == 0


def _refusal(name: str, data: bytes, *, max_bytes: int = LIMIT) -> str:
    with pytest.raises(UploadRefused) as refused:
        _check(name, data, max_bytes=max_bytes)
    message = refused.value.message
    assert message == str(refused.value)
    assert message.endswith(" Nothing was saved.")
    return message


# ---------------------------------------------------------------------------- accepted


@pytest.mark.parametrize(
    ("name", "make", "mime", "extension", "label"),
    [
        ("EOB March.pdf", samples.text_pdf, "application/pdf", "pdf", "PDF"),
        ("scan.pdf", samples.scanned_pdf, "application/pdf", "pdf", "PDF"),
        ("card.png", lambda: samples.image_bytes("PNG"), "image/png", "png", "PNG image"),
        ("card.jpeg", lambda: samples.image_bytes("JPEG"), "image/jpeg", "jpg", "JPEG image"),
        ("fax.tiff", lambda: samples.multipage_tiff([["one"], ["two"]]), "image/tiff", "tif", "TIFF image"),
        ("logo.gif", lambda: samples.image_bytes("GIF"), "image/gif", "gif", "GIF image"),
        ("photo.webp", lambda: samples.image_bytes("WEBP"), "image/webp", "webp", "WebP image"),
        ("appeal.docx", samples.docx, detect.DOCX_MIME, "docx", "Word document"),
        ("denials.xlsx", samples.xlsx, detect.XLSX_MIME, "xlsx", "Excel spreadsheet"),
        ("worklist.csv", samples.csv_bytes, "text/csv", "csv", "CSV file"),
        ("notes.txt", samples.utf8_text, "text/plain", "txt", "text file"),
        ("résumé.txt", samples.latin1_text, "text/plain", "txt", "text file"),
    ],
)
def test_it_accepts_each_allowed_type(name, make, mime, extension, label):
    checked = _check(name, make())

    assert checked == Checked(mime=mime, extension=extension, safe_name=checked.safe_name, label=label)
    assert checked.safe_name.endswith(f".{extension}")


def test_it_tells_docx_from_octet_stream_when_content_types_is_stored_last():
    # libmagic calls this file application/octet-stream (phase3-deps A3); zipfile finds what it is.
    checked = _check("reordered.docx", samples.docx(content_types_last=True))

    assert checked.mime == detect.DOCX_MIME


def test_it_reads_past_two_kib_to_recognise_xlsx():
    assert _check("book.xlsx", samples.xlsx()).mime == detect.XLSX_MIME


def test_it_names_the_file_by_its_detected_type():
    assert _check("Card front", samples.image_bytes("PNG")).safe_name == "Card front.png"
    assert _check("photo.png", samples.image_bytes("JPEG")).safe_name == "photo.jpg"
    assert _check("notes.log", samples.utf8_text()).safe_name == "notes.log.txt"
    assert _check("appeal.doc", samples.docx()).safe_name == "appeal.docx"


def test_it_accepts_a_file_exactly_at_the_limit():
    data = samples.utf8_text()

    assert _check("notes.txt", data, max_bytes=len(data)).mime == "text/plain"


# ---------------------------------------------------------------------------- refused


def test_it_refuses_an_empty_file():
    assert _refusal("EOB.pdf", b"") == "“EOB.pdf” is empty (0 bytes). Nothing was saved."


def test_it_refuses_a_file_over_the_limit_and_says_the_limit_in_mb():
    data = samples.text_pdf()

    message = _refusal("EOB.pdf", data + bytes(3 * MB), max_bytes=2 * MB)

    assert message.startswith("“EOB.pdf” is 3.")
    assert "the limit is 2 MB. Nothing was saved." in message


def test_it_refuses_html_renamed_pdf():
    message = _refusal("Denial letter.pdf", samples.html_page())

    assert message == "“Denial letter.pdf” is not a PDF: it is a web page (HTML). Nothing was saved."


def test_it_refuses_a_windows_program_renamed_pdf():
    message = _refusal("Denial letter.pdf", samples.windows_program())

    assert message == "“Denial letter.pdf” is not a PDF: it is a Windows program. Nothing was saved."


def test_it_refuses_a_linux_program_renamed_pdf():
    assert _refusal("EOB.pdf", samples.elf_program()) == "“EOB.pdf” is not a PDF: it is a program. Nothing was saved."


def test_it_refuses_a_program_under_its_own_name():
    message = _refusal("setup.exe", samples.windows_program())

    assert message.startswith("“setup.exe” is a Windows program, which can't be uploaded here. Upload a PDF, an image")


def test_it_refuses_a_program_without_an_extension():
    assert _refusal("invoice", samples.elf_program()).startswith("“invoice” is a program, which can't be uploaded")


def test_it_refuses_a_pdf_named_like_a_program():
    message = _refusal("EOB.pdf.exe", samples.text_pdf())

    assert message == (
        "“EOB.pdf.exe” is named like a .exe file but is a PDF. Rename it and upload it again. Nothing was saved."
    )


def test_it_refuses_a_scan_named_like_a_pdf():
    assert _refusal("EOB.pdf", samples.image_bytes("PNG")) == (
        "“EOB.pdf” is not a PDF: it is a PNG image. Nothing was saved."
    )


def test_it_refuses_a_pdf_named_like_text():
    assert (
        _refusal("notes.txt", samples.text_pdf()) == "“notes.txt” is not a text file: it is a PDF. Nothing was saved."
    )


def test_it_refuses_svg():
    assert _refusal("logo.svg", samples.svg_with_script()).startswith(
        "“logo.svg” is an SVG drawing, which can carry scripts, which can't be uploaded here."
    )


def test_it_refuses_svg_renamed_png():
    assert _refusal("logo.png", samples.svg_with_script()) == (
        "“logo.png” is not an image: it is an SVG drawing, which can carry scripts. Nothing was saved."
    )


def test_it_refuses_scripts():
    assert _refusal("fix.sh", samples.shell_script()).startswith("“fix.sh” is a script, which can't be uploaded")
    assert _refusal("notes.txt", samples.shell_script()) == (
        "“notes.txt” is not a text file: it is a script. Nothing was saved."
    )


def test_it_refuses_a_plain_zip():
    assert _refusal("records.zip", samples.plain_zip()).startswith(
        "“records.zip” is a compressed archive (ZIP), which can't be uploaded here."
    )


def test_it_refuses_a_zip_renamed_docx():
    assert _refusal("letter.docx", samples.plain_zip()) == (
        "“letter.docx” is not a Word document: it is a compressed archive (ZIP). Nothing was saved."
    )


def test_it_refuses_a_zip_bomb():
    message = _refusal("records.zip", samples.zip_bomb(20))

    assert message.startswith("“records.zip” would unpack to 20 MB from ")
    assert message.endswith(
        "which is how files built to crash servers look, so it can't be uploaded. Nothing was saved."
    )


def test_it_refuses_an_office_file_that_is_a_zip_bomb():
    assert "would unpack to 20 MB" in _refusal("letter.docx", samples.docx_bomb(20))


def test_it_refuses_a_zip_whose_members_are_too_large_in_total(monkeypatch):
    monkeypatch.setattr(detect, "MAX_UNPACKED_BYTES", 100)

    assert "would unpack to" in _refusal("letter.docx", samples.docx())


@pytest.mark.parametrize(
    ("name", "make"), [("letter.docm", samples.docm), ("book.xlsm", lambda: samples.xlsx(macro=True))]
)
def test_it_refuses_macro_enabled_office_files(name, make):
    assert _refusal(name, make()) == (
        f"“{name}” is an Office file with macros, which can run programs on the computer that opens it, so it "
        "can't be uploaded. Save it as an ordinary .docx or .xlsx file (or as PDF) and upload that. Nothing was saved."
    )


def test_it_refuses_macros_hidden_in_a_file_named_docx():
    assert "is an Office file with macros" in _refusal("letter.docx", samples.docx_with_hidden_macros())


def test_it_refuses_other_office_types():
    assert _refusal("deck.pptx", samples.pptx_like()).startswith(
        "“deck.pptx” is a PowerPoint presentation; save it as PDF, which can't be uploaded here."
    )


def test_it_refuses_a_pdf_pypdf_cannot_open():
    assert _refusal("EOB.pdf", samples.broken_pdf()) == (
        "“EOB.pdf” looks like a PDF but can't be opened: it may be damaged or only partly downloaded. "
        "Nothing was saved."
    )


def test_it_refuses_a_pdf_that_needs_a_password():
    assert _refusal("EOB.pdf", samples.encrypted_pdf()).startswith("“EOB.pdf” is protected by a password.")


def test_it_refuses_a_damaged_image():
    assert _refusal("card.png", samples.broken_png()) == (
        "“card.png” looks like a PNG image but can't be opened: it may be damaged. Nothing was saved."
    )


def test_it_refuses_a_decompression_bomb_image(monkeypatch):
    data = samples.image_bytes("PNG")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)

    message = _refusal("card.png", data)

    assert message == "“card.png” is an image too large to open safely (more than 1,000 pixels). Nothing was saved."


def test_it_refuses_text_with_nul_bytes():
    # Beyond the 64 KiB libmagic reads, so libmagic still says text/plain.
    data = b"claim notes\n" * 6000 + b"\0\0\0"

    assert _refusal("notes.txt", data).startswith("“notes.txt” is not a readable text file (it contains binary data).")


def test_it_refuses_an_unknown_binary_file():
    data = b"".join(hashlib.sha256(bytes([n])).digest() for n in range(64))

    assert _refusal("data", data).startswith("“data” is a kind of file we don't accept, which can't be uploaded here.")


def test_it_shows_a_cleaned_name_in_messages():
    assert _refusal("../../etc/\u202eEOB.pdf", b"").startswith("“EOB.pdf” is empty")


# ---------------------------------------------------------------------------- safe_filename


@pytest.mark.parametrize(
    ("name", "extension", "expected"),
    [
        ("Denial letter.pdf", "pdf", "Denial letter.pdf"),
        ("C:\\Users\\biller\\Desktop\\EOB.PDF", "pdf", "EOB.pdf"),
        ("../../etc/passwd", "txt", "passwd.txt"),
        ("invoice\u202efdp.exe", "pdf", "invoicefdp.pdf"),  # right-to-left override removed
        ("a\x00b\x1fc.pdf", "pdf", "abc.pdf"),
        ('re: "denial" <CO-45>?.pdf', "pdf", "re_ _denial_ _CO-45__.pdf"),
        ("  lots \t of\n  space .pdf", "pdf", "lots of space.pdf"),
        ("Cafe\u0301.pdf", "pdf", "Café.pdf"),  # NFC: one character, as the biller typed it
        ("", "pdf", "document.pdf"),
        ("...", "pdf", "document.pdf"),
        (".pdf", "pdf", "document.pdf"),
        ("/", "png", "document.png"),
        ("report.exe", "pdf", "report.pdf"),
        ("scan.final", "pdf", "scan.final.pdf"),
        ("CON.txt", "txt", "CON_.txt"),
    ],
)
def test_it_makes_safe_file_names(name, extension, expected):
    assert safe_filename(name, extension) == expected


def test_it_limits_names_to_150_characters_keeping_the_extension():
    name = safe_filename("x" * 500 + ".pdf", "pdf")

    assert len(name) == 150
    assert name.endswith("x.pdf")


def test_it_never_leaves_characters_unsafe_in_headers():
    name = safe_filename('a"b;c\r\nd%e\\f/g\u200bh.pdf', "pdf")

    assert not set(name) & set('"\\/;\r\n%\u200b')
    assert name.endswith(".pdf")


def test_it_refuses_a_damaged_image_even_when_pillow_loads_truncated_images(monkeypatch):
    # WeasyPrint sets this process-wide when it is imported (for clinical-note PDFs); verify() must still refuse.
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)

    assert "can't be opened: it may be damaged" in _refusal("card.png", samples.broken_png())
    assert "can't be opened: it may be damaged" in _refusal("card.jpg", samples.image_bytes("JPEG")[:2000])
