from __future__ import annotations

from django.contrib import admin

from exports.models import Export


@admin.register(Export)
class ExportAdmin(admin.ModelAdmin):
    list_display = ("pk", "practice", "kind", "format", "status", "rows_done", "rows_total", "created_at", "expires_at")
    list_filter = ("status", "kind", "format")
    list_select_related = ("practice",)
    raw_id_fields = ("practice", "requested_by")
    search_fields = ("practice__name",)
    readonly_fields = ("file_name", "filters", "created_at", "finished_at")
