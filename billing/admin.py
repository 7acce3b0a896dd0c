"""The billing models in the operators' admin: every one read-only.

Money is written only by ``billing.posting`` (through ``billing.services``), so the admin
shows the books and never changes them: no add, change or delete on ledger rows, patient
accounts, payments, remittances or expected payments. A mistake is corrected by a reversal
posted from the practice's pages.
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from billing.models import (
    ExpectedPayment,
    JournalTransaction,
    LedgerEntry,
    PatientAccount,
    Payment,
    Remittance,
    RemittanceClaim,
)
from billingpulse.admin import AuditFieldsMixin, ReadOnlyAdminMixin


class LedgerEntryInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = LedgerEntry
    fields = ("account", "amount", "claim", "patient")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(JournalTransaction)
class JournalTransactionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "kind", "source", "amount", "claim", "patient", "effective_date", "created_at", "practice")
    list_select_related = ("claim", "patient", "practice")
    list_filter = ("kind", "source")
    # Not the memo: it is encrypted (billingpulse.encryption), so the database cannot search it.
    search_fields = ("idempotency_key", "claim__claim_number", "patient__last_name", "practice__name")
    raw_id_fields = ("practice", "claim", "patient", "payment", "remittance", "reverses", "created_by")
    readonly_fields = ("reversed_by_link",)
    date_hierarchy = "created_at"
    inlines = [LedgerEntryInline]

    @admin.display(description="Reversed by")
    def reversed_by_link(self, obj: JournalTransaction) -> str:
        reversal = getattr(obj, "reversed_by", None)
        if reversal is None:
            return "—"
        url = reverse("admin:billing_journaltransaction_change", args=[reversal.pk])
        return format_html('<a href="{}">{}</a>', url, reversal)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "transaction", "account", "amount", "claim", "patient", "practice")
    list_select_related = ("transaction", "claim", "patient", "practice")
    list_filter = ("account",)
    search_fields = ("claim__claim_number", "patient__last_name", "practice__name")
    raw_id_fields = ("practice", "transaction", "claim", "patient")


@admin.register(PatientAccount)
class PatientAccountAdmin(AuditFieldsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("patient", "insurance_balance", "patient_balance", "credit", "balance", "practice")
    list_select_related = ("patient", "practice")
    search_fields = ("patient__last_name", "patient__first_name", "patient__account_number", "practice__name")
    raw_id_fields = ("practice", "patient")


@admin.register(Payment)
class PaymentAdmin(AuditFieldsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "amount",
        "refunded_amount",
        "method",
        "source",
        "status",
        "payment_date",
        "patient",
        "practice",
    )
    list_select_related = ("patient", "practice")
    list_filter = ("status", "method", "source")
    search_fields = ("reference", "patient__last_name", "payer__name", "practice__name")
    raw_id_fields = ("practice", "patient", "payer", "remittance", "created_by")
    date_hierarchy = "payment_date"


class RemittanceClaimInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = RemittanceClaim
    fields = ("position", "claim_number", "claim", "status", "charge", "paid", "patient_responsibility", "posted_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Remittance)
class RemittanceAdmin(AuditFieldsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "payer_name",
        "trace_number",
        "payment_amount",
        "status",
        "claim_count",
        "posted_at",
        "practice",
    )
    list_select_related = ("practice",)
    list_filter = ("status",)
    search_fields = ("trace_number", "payer_name", "file_name", "practice__name")
    raw_id_fields = ("practice", "payer", "uploaded_by", "posted_by")
    # The file itself can be large and holds patient data; the admin shows what was read from it.
    exclude = ("content",)
    inlines = [RemittanceClaimInline]


@admin.register(RemittanceClaim)
class RemittanceClaimAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "claim_number", "status", "charge", "paid", "remittance", "claim")
    list_select_related = ("remittance", "claim")
    list_filter = ("status",)
    search_fields = ("claim_number", "patient_name", "payer_claim_number")
    raw_id_fields = ("remittance", "claim")


@admin.register(ExpectedPayment)
class ExpectedPaymentAdmin(AuditFieldsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "claim", "amount", "reference", "payment_date", "status", "received_amount", "practice")
    list_select_related = ("claim", "practice")
    list_filter = ("status",)
    search_fields = ("reference", "claim__claim_number", "practice__name")
    raw_id_fields = ("practice", "claim", "call", "matched_transaction")
