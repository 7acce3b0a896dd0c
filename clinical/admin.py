"""Clinical records in the operators' admin.

A signed note is a legal record: once signed its change page is read-only and it cannot be
deleted (the model and the database refuse too). Signatures, addenda and the audit trail are
shown, never edited. Notes are written, signed and amended from the practice's pages, where
each act is re-authenticated and recorded.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from billingpulse.admin import AuditFieldsMixin, ReadOnlyAdminMixin
from clinical.models import Addendum, Appointment, ClinicalNote, NoteEvent, NoteTemplate, Signature


@admin.register(Appointment)
class AppointmentAdmin(AuditFieldsMixin, admin.ModelAdmin):
    list_display = ("starts_at", "patient", "provider", "kind", "status", "practice")
    list_select_related = ("patient", "provider", "practice")
    list_filter = ("status", "kind")
    search_fields = ("patient__last_name", "patient__first_name", "provider__last_name", "practice__name")
    raw_id_fields = ("practice", "patient", "provider", "claims")


@admin.register(NoteTemplate)
class NoteTemplateAdmin(AuditFieldsMixin, admin.ModelAdmin):
    list_display = ("name", "note_type", "is_active", "practice")
    list_select_related = ("practice",)
    list_filter = ("note_type", "is_active")
    search_fields = ("name", "practice__name")
    raw_id_fields = ("practice",)


class SignatureInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Signature
    fields = ("printed_name", "credentials", "meaning", "signed_at", "addendum", "content_hash", "ip_address")
    readonly_fields = fields
    extra = 0
    can_delete = False


class AddendumInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Addendum
    fields = ("author", "text", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False


class NoteEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = NoteEvent
    fields = ("created_at", "kind", "actor", "message", "ip_address")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(ClinicalNote)
class ClinicalNoteAdmin(AuditFieldsMixin, admin.ModelAdmin):
    list_display = ("id", "note_date", "note_type", "patient", "provider", "status", "version", "practice")
    list_select_related = ("patient", "provider", "practice")
    list_filter = ("status", "note_type")
    search_fields = ("patient__last_name", "patient__first_name", "provider__last_name", "practice__name")
    raw_id_fields = ("practice", "patient", "provider", "appointment", "template", "author", "locked_by", "claim")
    readonly_fields = (
        "status",
        "version",
        "amends",
        "first_version",
        "revision",
        "signed_at",
        "locked_at",
        "locked_by",
    )
    inlines = (SignatureInline, AddendumInline, NoteEventInline)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # notes start from the practice's pages, with their author and audit trail

    def has_change_permission(self, request: HttpRequest, obj: ClinicalNote | None = None) -> bool:
        return super().has_change_permission(request, obj) and (obj is None or obj.is_editable)

    def has_delete_permission(self, request: HttpRequest, obj: ClinicalNote | None = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest):
        return {}  # "delete selected" would meet a signed note's refusal
