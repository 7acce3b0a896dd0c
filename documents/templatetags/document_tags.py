"""Display helpers for document pages, and the "Documents" card of the claim, note and call pages
(whose views know nothing about it: the card asks for its own rows here)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from documents import services
from documents.forms import UploadForm
from documents.models import Extraction
from documents.status import DocumentStatus

register = template.Library()

STATUS_CLASSES = {
    DocumentStatus.DRAFT: "status-closed",
    DocumentStatus.PENDING_REVIEW: "status-open",
    DocumentStatus.REVIEWED: "badge-warn",
    DocumentStatus.APPROVED: "status-paid",
    DocumentStatus.ARCHIVED: "status-closed",
}
EXTRACTION_CLASSES = {
    Extraction.PENDING: "status-open",
    Extraction.DONE: "status-paid",
    Extraction.NO_TEXT: "status-closed",
    Extraction.FAILED: "status-denied",
    Extraction.UNAVAILABLE: "badge-warn",
}


@register.filter
def document_status(status: str) -> SafeString:
    label = DocumentStatus(status).label if status in DocumentStatus.values else status
    return format_html('<span class="badge status {}">{}</span>', STATUS_CLASSES.get(status, ""), label)


@register.filter
def extraction_badge(status: str) -> SafeString:
    label = Extraction(status).label if status in Extraction.values else status
    return format_html('<span class="badge status {}">{}</span>', EXTRACTION_CLASSES.get(status, ""), label)


@register.filter
def file_size(size: int | None) -> str:
    """``512 bytes``, ``48 KB``, ``2.4 MB``."""
    if size is None:
        return "—"
    if size < 1000:
        return f"{size} bytes"
    if size < 1_000_000:
        return f"{size / 1000:.0f} KB"
    return f"{size / 1_000_000:.1f} MB"


@register.simple_tag(takes_context=True)
def attached_documents(context: template.Context, record) -> dict:
    """The documents attached to ``record`` (a claim, clinical note or payer call) that this user
    may see, the link's name, and an upload form that attaches new files to it and its patient."""
    request = context["request"]
    link = services.link_name(record)
    patient_id = record.claim.patient_id if link == "call" else record.patient_id
    documents = (
        services.visible(request.practice, request.user)
        .filter(**{link: record})
        .select_related("current_version")
        .order_by("-created_at", "-id")
    )
    form = UploadForm(practice=request.practice, initial={"patient": patient_id, link: record.pk})
    return {"documents": documents, "form": form, "link": link, "label": services.LINKS[link]}
