"""Documents in the operators' admin: what is known about each file, its versions and history.

Files are uploaded, versioned and reviewed from the practice's pages, where each file is checked
by its content and encrypted before it is stored; the admin shows documents and lets an operator
correct their details, but never adds a file, edits a version, rewrites history or deletes.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from billingpulse.admin import AuditFieldsMixin, ReadOnlyAdminMixin
from documents.models import Document, DocumentEvent, DocumentVersion


class VersionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = DocumentVersion
    fk_name = "document"
    fields = ("number", "original_name", "size", "mime_type", "sha256", "storage_backend", "key_id")
    fields += ("extraction_status", "uploaded_by", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False


class EventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = DocumentEvent
    fields = ("created_at", "kind", "version", "actor", "message", "ip_address")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Document)
class DocumentAdmin(AuditFieldsMixin, admin.ModelAdmin):
    list_display = ("title", "document_type", "status", "patient", "confidential", "created_at", "practice")
    list_select_related = ("patient", "practice")
    list_filter = ("status", "document_type", "confidential")
    search_fields = ("title", "patient__last_name", "patient__first_name", "practice__name")
    raw_id_fields = ("practice", "patient", "appointment", "claim", "call", "note", "remittance", "assignee")
    raw_id_fields += ("allowed_users",)
    readonly_fields = (
        "status",
        "current_version",
        "created_by",
        "reviewed_by",
        "reviewed_at",
        "approved_by",
        "approved_at",
    )
    inlines = (VersionInline, EventInline)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Document | None = None) -> bool:
        return False
