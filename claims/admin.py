from __future__ import annotations

from django.contrib import admin

from billingpulse.admin import AuditFieldsMixin
from claims.models import Claim, ClaimEvent, ClaimImport, ClaimImportError, ClaimLine, InsurancePolicy, Payer


@admin.register(Payer)
class PayerAdmin(AuditFieldsMixin, admin.ModelAdmin):
    list_display = ("name", "payer_id", "phone", "timely_filing_days", "practice")
    list_select_related = ("practice",)
    search_fields = ("name", "payer_id", "practice__name")
    list_filter = ("time_zone",)
    raw_id_fields = ("practice",)


@admin.register(InsurancePolicy)
class InsurancePolicyAdmin(AuditFieldsMixin, admin.ModelAdmin):
    list_display = ("member_id", "patient", "payer", "priority", "practice")
    list_select_related = ("patient", "payer", "practice")
    search_fields = ("member_id", "patient__last_name", "payer__name")
    list_filter = ("priority",)
    raw_id_fields = ("practice", "patient", "payer")


class ClaimLineInline(admin.TabularInline):
    model = ClaimLine
    extra = 0


class ClaimEventInline(admin.TabularInline):
    model = ClaimEvent
    extra = 0
    can_delete = False
    readonly_fields = ("kind", "from_status", "to_status", "message", "actor", "source", "created_at")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Claim)
class ClaimAdmin(AuditFieldsMixin, admin.ModelAdmin):
    list_display = ("claim_number", "patient", "payer", "status", "total_charge", "service_date_from", "practice")
    list_select_related = ("patient", "payer", "practice")
    list_filter = ("status", "claim_type")
    search_fields = ("claim_number", "patient__last_name", "denial_code", "call_reference_number")
    raw_id_fields = ("practice", "patient", "provider", "payer", "policy")
    readonly_fields = ("timely_filing_deadline", "status_changed_at")
    inlines = [ClaimLineInline, ClaimEventInline]


class ClaimImportErrorInline(admin.TabularInline):
    model = ClaimImportError
    extra = 0
    can_delete = False
    readonly_fields = ("row_number", "column", "value", "message")


@admin.register(ClaimImport)
class ClaimImportAdmin(AuditFieldsMixin, admin.ModelAdmin):
    list_display = ("original_name", "status", "imported_count", "updated_count", "rejected_count", "practice")
    list_select_related = ("practice",)
    list_filter = ("status",)
    search_fields = ("original_name", "practice__name")
    raw_id_fields = ("practice", "uploaded_by", "default_payer")
    readonly_fields = ("started_at", "finished_at", "processed_rows", "total_rows")
    inlines = [ClaimImportErrorInline]
