from __future__ import annotations

from django.contrib import admin

from billingpulse.admin import AuditFieldsMixin
from claims.models import Payer


@admin.register(Payer)
class PayerAdmin(AuditFieldsMixin, admin.ModelAdmin):
    list_display = ("name", "payer_id", "phone", "practice")
    list_select_related = ("practice",)
    search_fields = ("name", "payer_id", "practice__name")
    list_filter = ("practice",)
    raw_id_fields = ("practice",)
