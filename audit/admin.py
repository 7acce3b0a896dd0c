"""Audit entries in the operators' admin: read-only, like the ledger (no add, change or delete)."""

from __future__ import annotations

from auditlog.models import LogEntry
from django.contrib import admin

from audit.models import AuditChain, AuditEntry
from billingpulse.admin import ReadOnlyAdminMixin

# django-auditlog's own admin searches user fields our User does not have (a 500 on any search),
# and every one of its entries is also an AuditEntry below: operators read the trail there.
if admin.site.is_registered(LogEntry):
    admin.site.unregister(LogEntry)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "practice_id", "actor_label", "action", "resource_type", "resource_id", "patient_id")
    list_filter = ("action", "resource_type")
    search_fields = ("actor_label", "resource_id", "request_id", "message")
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(AuditChain)
class AuditChainAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("key", "last_sequence", "updated_at")
