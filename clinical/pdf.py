"""The printable note: one version of a clinical note as a PDF, with the manifestation of each
signature (who, as what, when, how, what they attested, the hash they sealed), the hash of the
content as stored now, and the result of checking the one against the other.

The caller runs the checks (``services.verify``) and passes them in, so the tamper check and its
audit entry happen once per print. WeasyPrint lays the page out from ``clinical/note_pdf.html``,
with no network or file access: the template carries its own styles and fonts come from the
system (Debian's DejaVu). The same note and checks at the same moment give the same bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.template.loader import render_to_string
from django.utils import timezone

from clinical.models import ClinicalNote
from clinical.record import note_record

if TYPE_CHECKING:
    from clinical.services import SignatureCheck

TEMPLATE = "clinical/note_pdf.html"


def render_note_pdf(note: ClinicalNote, checks: list[SignatureCheck]) -> bytes:
    """The PDF of ``note`` (a Letter page or more), given the result of verifying its signatures."""
    # WeasyPrint takes most of a second to import: only the processes that print pay for it.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    html = render_to_string(TEMPLATE, _context(note, checks))
    # Nothing is fetched: the template needs no resources, and a reference that slipped into it
    # (http, https, file) is refused rather than read from the network or the disk.
    fetcher = URLFetcher(allowed_protocols=("data",))
    return HTML(string=html, base_url=None, url_fetcher=fetcher).write_pdf()


def _context(note: ClinicalNote, checks: list[SignatureCheck]) -> dict[str, Any]:
    return {
        "note": note,
        "practice": note.practice,
        **note_record(note, checks),
        "content_hash": note.content_hash(),
        "verified_at": timezone.now(),
    }
