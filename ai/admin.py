from __future__ import annotations

from django.contrib import admin

from ai import services
from ai.models import DenialCode, PayerPolicy
from billingpulse.admin import AuditFieldsMixin


class _KnowledgeAdmin(AuditFieldsMixin, admin.ModelAdmin):
    """Saves and deletes go through the services, so the search index follows the change."""

    def save_model(self, request, obj, form, change) -> None:
        services.save_entry(obj)

    def delete_model(self, request, obj) -> None:
        services.delete_entry(obj)

    def delete_queryset(self, request, queryset) -> None:
        for entry in queryset:
            services.delete_entry(entry)


@admin.register(DenialCode)
class DenialCodeAdmin(_KnowledgeAdmin):
    list_display = ("code", "description", "practice")
    list_select_related = ("practice",)
    search_fields = ("code", "description", "practice__name")
    raw_id_fields = ("practice",)


@admin.register(PayerPolicy)
class PayerPolicyAdmin(_KnowledgeAdmin):
    list_display = ("payer", "title", "effective_date", "practice")
    list_select_related = ("practice",)
    search_fields = ("payer", "title", "text", "practice__name")
    list_filter = ("effective_date",)
    raw_id_fields = ("practice",)
