"""What an uploaded file really is, judged by its content: never by its name or the browser's Content-Type.

Billers upload EOBs, denial letters, records and insurance-card photos. Anything else (a program, a web page,
a script, an archive, a macro-enabled Office file) is refused before a byte is stored, with a message that
says what the file is and that nothing was saved.

How a file is judged (``check_upload``):

1. libmagic reads the first 64 KiB (2 KiB is too little for XLSX; phase3-deps A3).
2. A ZIP (or an unrecognised file that starts like one) is opened with ``zipfile``: the sizes of its members
   are checked against zip bombs, and ``[Content_Types].xml`` tells DOCX from XLSX and from macro-enabled or
   other Office types. libmagic alone cannot: it calls a DOCX whose ``[Content_Types].xml`` is stored last
   "application/octet-stream".
3. The type must be on the allow-list, and the name's extension must not claim another kind of file.
   A photo of a card saved as ``.jpg`` but really PNG is harmless and only renamed; a program or a web page
   named ``.pdf`` is refused, because it was disguised.
4. PDFs must open in pypdf (and not need a password), images must pass Pillow's ``verify()`` and its
   decompression-bomb limit, text must have no NUL bytes.

The stream is left at position 0 so the caller can store it.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass
from typing import BinaryIO, NoReturn

import magic
from defusedxml import ElementTree

SNIFF_BYTES = 64 * 1024
MAX_NAME_CHARS = 150

# Zip bombs: a real DOCX/XLSX compresses its XML about 5–20 times; a bomb compresses 1000 times and more.
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_RATIO = 100
RATIO_CHECKED_FROM = 5 * 1024 * 1024  # tiny packages can have high ratios and harm nothing
MAX_MEMBERS = 10_000
MAX_CONTENT_TYPES_BYTES = 1024 * 1024

NOTHING_SAVED = "Nothing was saved."
ALLOWED_SUMMARY = (
    "a PDF, an image (PNG, JPEG, TIFF, GIF or WebP), a Word (.docx) or Excel (.xlsx) file, or a text or CSV file"
)


@dataclass(frozen=True)
class Kind:
    """One type on the allow-list. ``family`` groups types a misnamed file may switch between harmlessly."""

    mime: str
    extension: str
    label: str
    family: str
    aliases: frozenset[str]


DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

ALLOWED: dict[str, Kind] = {
    kind.mime: kind
    for kind in (
        Kind("application/pdf", "pdf", "PDF", "pdf", frozenset({"pdf"})),
        Kind("image/png", "png", "PNG image", "image", frozenset({"png"})),
        Kind("image/jpeg", "jpg", "JPEG image", "image", frozenset({"jpg", "jpeg", "jpe", "jfif"})),
        Kind("image/tiff", "tif", "TIFF image", "image", frozenset({"tif", "tiff"})),
        Kind("image/gif", "gif", "GIF image", "image", frozenset({"gif"})),
        Kind("image/webp", "webp", "WebP image", "image", frozenset({"webp"})),
        Kind(DOCX_MIME, "docx", "Word document", "word", frozenset({"docx"})),
        Kind(XLSX_MIME, "xlsx", "Excel spreadsheet", "excel", frozenset({"xlsx"})),
        Kind("text/plain", "txt", "text file", "text", frozenset({"txt", "text"})),
        Kind("text/csv", "csv", "CSV file", "text", frozenset({"csv"})),
    )
}
_PILLOW_FORMATS = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/tiff": "TIFF",
    "image/gif": "GIF",
    "image/webp": "WEBP",
}

# What a refused file is, in words a biller knows, by the MIME type libmagic (or we) found.
_WINDOWS_PROGRAM = "a Windows program"
_DESCRIPTIONS: dict[str, str] = {
    "application/vnd.microsoft.portable-executable": _WINDOWS_PROGRAM,
    "application/x-dosexec": _WINDOWS_PROGRAM,
    "application/x-msdownload": _WINDOWS_PROGRAM,
    "application/x-ms-installer": "a Windows installer",
    "application/x-executable": "a program",
    "application/x-pie-executable": "a program",
    "application/x-sharedlib": "a program",
    "application/x-mach-binary": "a Mac program",
    "text/html": "a web page (HTML)",
    "application/xhtml+xml": "a web page (HTML)",
    "image/svg+xml": "an SVG drawing, which can carry scripts",
    "application/javascript": "a script",
    "text/javascript": "a script",
    "text/x-shellscript": "a script",
    "text/x-php": "a script",
    "text/x-perl": "a script",
    "text/x-python": "a script",
    "text/x-script.python": "a script",
    "text/x-msdos-batch": "a script",
    "application/zip": "a compressed archive (ZIP)",
    "application/x-7z-compressed": "a compressed archive (7-Zip)",
    "application/x-rar": "a compressed archive (RAR)",
    "application/vnd.rar": "a compressed archive (RAR)",
    "application/gzip": "a compressed archive",
    "application/x-tar": "a compressed archive",
    "application/x-bzip2": "a compressed archive",
    "application/x-xz": "a compressed archive",
    "application/msword": "an old-format Word document (.doc); save it as .docx or PDF",
    "application/vnd.ms-excel": "an old-format Excel file (.xls); save it as .xlsx",
    "application/vnd.ms-powerpoint": "a PowerPoint presentation; save it as PDF",
    "image/bmp": "a BMP image; save it as PNG or PDF",
    "image/heic": "an iPhone HEIC photo; save it as JPEG",
    "image/heif": "an iPhone HEIC photo; save it as JPEG",
    "application/x-ole-storage": "an old-format or password-protected Office file; save it as PDF",
    "application/CDFV2": "an old-format or password-protected Office file; save it as PDF",
    "application/x-office-presentationml": "a PowerPoint presentation; save it as PDF",
    "application/x-office-template": "an Office template; save it as an ordinary .docx or .xlsx file",
}
_OFFICE_MACRO = "vnd.ms-office.vbaproject"
_OFFICE_MAIN_TYPES: dict[str, str] = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX_MIME,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX_MIME,
}
_OFFICE_OTHER: dict[str, str] = {
    "presentationml": "application/x-office-presentationml",
    "wordprocessingml.template": "application/x-office-template",
    "spreadsheetml.template": "application/x-office-template",
}

# Extensions that name a kind of file: a name ending in one of these claims that kind.
_OTHER_EXTENSIONS = (
    "exe com scr msi bat cmd ps1 vbs js jse wsf sh bash py pl php jar app dll so bin elf "
    "htm html xhtml shtml svg svgz hta zip rar 7z gz tgz tar bz2 xz "
    "docm dotm xlsm xltm xlsb pptm ppt pptx dotx xltx bmp heic heif rtf odt ods"
)
_CLAIMED: dict[str, str] = {
    **dict.fromkeys(_OTHER_EXTENSIONS.split(), "other"),
    **{alias: kind.family for kind in ALLOWED.values() for alias in kind.aliases},
    # A .docx saved as ".doc" (or .xlsx as ".xls") is the same harmless document, only renamed.
    "doc": "word",
    "xls": "excel",
}
_CLAIMED_WORDS = {"pdf": "a PDF", "image": "an image", "word": "a Word document", "excel": "an Excel spreadsheet"}
_CLAIMED_WORDS["text"] = "a text file"

_UNSAFE_NAME_CHARS = re.compile(r'[<>:"/\\|?*;%`$]')
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)$", re.I)


@dataclass(frozen=True)
class Checked:
    """An upload that passed: its real MIME type, the extension and a safe name to store it under."""

    mime: str
    extension: str
    safe_name: str
    label: str


class UploadRefused(ValueError):
    """The upload is refused; ``message`` is for the biller and ends with "Nothing was saved."."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def check_upload(name: str, stream: BinaryIO, size: int, *, max_bytes: int) -> Checked:
    """Judge an upload by its content; raise ``UploadRefused`` with a biller's message if it is refused."""
    shown = _display_name(name)
    try:
        if size <= 0:
            _refuse(f"“{shown}” is empty (0 bytes).")
        if size > max_bytes:
            _refuse(f"“{shown}” is {_megabytes(size)}; the limit is {_megabytes(max_bytes)}.")
        stream.seek(0)
        head = stream.read(SNIFF_BYTES)
        if not head:
            _refuse(f"“{shown}” is empty (0 bytes).")
        mime = magic.Magic(mime=True).from_buffer(head)
        if mime in ("application/zip", "application/octet-stream", DOCX_MIME, XLSX_MIME) and head[:4] == b"PK\x03\x04":
            mime = _office_type(shown, stream)
        if mime == "text/csv":
            mime = "text/plain"
        kind = ALLOWED.get(mime)
        _check_claimed_extension(shown, name, kind, mime)
        if kind is None:
            _refuse(f"“{shown}” is {_describe(mime)}, which can't be uploaded here. Upload {ALLOWED_SUMMARY}.")
        if kind.family == "text":
            _check_text(shown, stream)
            if _suffix(name) == "csv":
                kind = ALLOWED["text/csv"]
        elif kind.family == "pdf":
            _check_pdf(shown, stream)
        elif kind.family == "image":
            _check_image(shown, stream, kind)
    finally:
        stream.seek(0)
    return Checked(
        mime=kind.mime, extension=kind.extension, safe_name=safe_filename(name, kind.extension), label=kind.label
    )


def safe_filename(name: str, extension: str) -> str:
    """A name safe to store, show and send in a Content-Disposition header, ending in ``.extension``.

    Drops any folder part (``/`` and ``\\``), control and invisible characters (such as the right-to-left
    override that makes ``exe.pdf`` look like ``fdp.exe``), and characters unsafe in file names or headers;
    NFC-normalises (a Mac sends "é" as two characters); collapses whitespace; drops an extension that names a
    kind of file, since the detected type's extension replaces it; keeps at most 150 characters.
    """
    stem = _clean_name(name)
    if "." in stem and stem.rsplit(".", 1)[1].lower() in _CLAIMED:
        stem = stem.rsplit(".", 1)[0]
    # A leading dot hides a file on Unix and ".." climbs folders; trailing dots vanish on Windows.
    stem = stem.strip(". ")
    if _WINDOWS_RESERVED.match(stem):
        stem = f"{stem}_"
    stem = (stem or "document")[: MAX_NAME_CHARS - len(extension) - 1].rstrip(". ") or "document"
    return f"{stem}.{extension}"


# ---------------------------------------------------------------------------- names


def _clean_name(name: str) -> str:
    name = unicodedata.normalize("NFC", name)
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(_name_char(ch) for ch in name)
    name = _UNSAFE_NAME_CHARS.sub("_", name)
    return re.sub(r" +", " ", name).strip()


def _name_char(ch: str) -> str:
    """Whitespace becomes a space; control, format (bidi overrides, zero-width) and unassigned characters go."""
    category = unicodedata.category(ch)
    if ch in "\t\n\r\v\f" or category in ("Zs", "Zl", "Zp"):
        return " "
    return "" if category[0] == "C" else ch


def _display_name(name: str) -> str:
    shown = _clean_name(name).strip(". ") or "The file"
    return shown if len(shown) <= 80 else shown[:77] + "…"


def _suffix(name: str) -> str:
    cleaned = _clean_name(name)
    return cleaned.rsplit(".", 1)[1].lower() if "." in cleaned else ""


def _check_claimed_extension(shown: str, name: str, kind: Kind | None, mime: str) -> None:
    """Refuse a name that claims another kind of file than its content: that is how malware is disguised."""
    suffix = _suffix(name)
    claimed = _CLAIMED.get(suffix)
    if claimed is None or (kind is not None and claimed == kind.family) or (kind is None and claimed == "other"):
        return  # named for what it is: a refused type gets the plainer "can't be uploaded" message
    what = _article(kind.label) if kind else _describe(mime)
    if claimed == "other":
        _refuse(f"“{shown}” is named like a .{suffix} file but is {what}. Rename it and upload it again.")
    _refuse(f"“{shown}” is not {_CLAIMED_WORDS[claimed]}: it is {what}.")


# ---------------------------------------------------------------------------- content checks


def _office_type(shown: str, stream: BinaryIO) -> str:
    """DOCX or XLSX by ``[Content_Types].xml``; refuses bombs and macros; "application/zip" for other ZIPs."""
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            members = archive.infolist()
            _check_bomb(shown, members)
            names = {member.filename.lower() for member in members}
            if "[content_types].xml" not in names:
                return "application/zip"
            info = next(m for m in members if m.filename.lower() == "[content_types].xml")
            if info.file_size > MAX_CONTENT_TYPES_BYTES:
                _refuse(f"“{shown}” is a damaged or unusual Office file and can't be opened.")
            types = ElementTree.fromstring(archive.read(info))
    except UploadRefused:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ElementTree.ParseError, ValueError, EOFError):
        _refuse(f"“{shown}” looks like a Word, Excel or ZIP file but is damaged and can't be opened.")
    declared = [element.get("ContentType", "").lower() for element in types.iter() if element.get("ContentType")]
    if any("macroenabled" in t or _OFFICE_MACRO in t for t in declared) or any(
        n.endswith("vbaproject.bin") for n in names
    ):
        _refuse(
            f"“{shown}” is an Office file with macros, which can run programs on the computer that opens it, "
            "so it can't be uploaded. Save it as an ordinary .docx or .xlsx file (or as PDF) and upload that."
        )
    for declared_type in declared:
        if declared_type in _OFFICE_MAIN_TYPES:
            return _OFFICE_MAIN_TYPES[declared_type]
    for marker, mime in _OFFICE_OTHER.items():
        if any(marker in t for t in declared):
            return mime
    return "application/zip"


def _check_bomb(shown: str, members: list[zipfile.ZipInfo]) -> None:
    unpacked = sum(member.file_size for member in members)
    packed = sum(member.compress_size for member in members) or 1
    too_big = unpacked > MAX_UNPACKED_BYTES or len(members) > MAX_MEMBERS
    if too_big or (unpacked > RATIO_CHECKED_FROM and unpacked / packed > MAX_RATIO):
        _refuse(
            f"“{shown}” would unpack to {_megabytes(unpacked)} from {_megabytes(packed)}, which is how files built "
            "to crash servers look, so it can't be uploaded."
        )


def _check_text(shown: str, stream: BinaryIO) -> None:
    """Text must have no NUL bytes and decode as UTF-8 or Latin-1 (which decodes any other byte)."""
    stream.seek(0)
    while chunk := stream.read(1024 * 1024):
        if b"\0" in chunk:
            _refuse(f"“{shown}” is not a readable text file (it contains binary data). Upload {ALLOWED_SUMMARY}.")


def _check_pdf(shown: str, stream: BinaryIO) -> None:
    from pypdf import PasswordType, PdfReader

    stream.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pypdf warns about every small flaw it repairs
            reader = PdfReader(stream)
            if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
                _refuse(
                    f"“{shown}” is protected by a password. Open it, save or print it as a PDF without a password, "
                    "and upload that."
                )
            pages = len(reader.pages)
    except UploadRefused:
        raise
    except Exception:  # pypdf raises many error types for damaged files; all mean the same to the biller
        pages = 0
    if pages < 1:
        _refuse(f"“{shown}” looks like a PDF but can't be opened: it may be damaged or only partly downloaded.")


def _check_image(shown: str, stream: BinaryIO, kind: Kind) -> None:
    """``verify()`` checks a PNG's chunks but barely looks at a JPEG, so every frame is also decoded: a photo
    cut off during the upload is refused rather than stored half grey."""
    from PIL import Image, ImageFile, ImageSequence

    stream.seek(0)
    # WeasyPrint sets LOAD_TRUNCATED_IMAGES process-wide when imported; for this check a cut-off image is an error.
    truncated_ok, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its limit and twice its limit; we refuse from the limit.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(stream) as image:
                found = image.format
                image.verify()
            stream.seek(0)
            with Image.open(stream) as image:
                for _frame in ImageSequence.Iterator(image):
                    image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        _refuse(f"“{shown}” is an image too large to open safely (more than {Image.MAX_IMAGE_PIXELS:,} pixels).")
    except Exception:  # Pillow raises OSError, SyntaxError, ValueError... for damaged images
        found = None
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = truncated_ok
    if found != _PILLOW_FORMATS[kind.mime]:
        _refuse(f"“{shown}” looks like {_article(kind.label)} but can't be opened: it may be damaged.")


# ---------------------------------------------------------------------------- messages


def _refuse(message: str) -> NoReturn:
    raise UploadRefused(f"{message} {NOTHING_SAVED}")


def _describe(mime: str) -> str:
    if mime in _DESCRIPTIONS:
        return _DESCRIPTIONS[mime]
    if mime.startswith("image/"):
        return "an image of a kind we don't accept"
    if mime.startswith("video/"):
        return "a video"
    if mime.startswith("audio/"):
        return "a sound recording"
    return "a kind of file we don't accept"


def _article(label: str) -> str:
    return ("an " if label[0] in "AEIOU" else "a ") + label


def _megabytes(size: int) -> str:
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    value = size / (1024 * 1024)
    return f"{value:.0f} MB" if value >= 10 or value == int(value) else f"{value:.1f} MB"
