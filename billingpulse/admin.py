from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.http import HttpRequest

from billingpulse.models import Invitation, Patient, Practice, Provider, User


class AuditFieldsMixin:
    audit_fields = ("created_at", "updated_at")

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), *self.audit_fields)


class ReadOnlyAdminMixin:
    """View only: the change page shows every field read-only and offers no save or delete."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_actions(self, request: HttpRequest):
        # "Delete selected" would only be refused; leave it off.
        return {}


@admin.register(Practice)
class PracticeAdmin(AuditFieldsMixin, admin.ModelAdmin):
    list_display = ("name", "npi", "tax_id", "city", "state", "time_zone", "created_at")
    list_filter = ("state", "time_zone")
    search_fields = ("name", "npi", "tax_id", "notification_email")


class UserCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("email",)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = UserCreationForm
    ordering = ("email",)
    list_display = ("email", "full_name", "practice", "role", "is_active", "is_superuser", "last_login")
    list_filter = ("role", "is_active", "is_superuser")
    list_select_related = ("practice",)
    search_fields = ("email", "full_name", "practice__name")
    raw_id_fields = ("practice",)
    readonly_fields = ("last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Practice", {"fields": ("full_name", "practice", "role")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "practice", "role", "password1", "password2", "usable_password"),
            },
        ),
    )


@admin.register(Patient)
class PatientAdmin(AuditFieldsMixin, admin.ModelAdmin):
    list_display = ("last_name", "first_name", "date_of_birth", "account_number", "practice")
    list_filter = ("sex",)
    list_select_related = ("practice",)
    search_fields = ("last_name", "first_name", "account_number", "practice__name")
    raw_id_fields = ("practice",)


@admin.register(Provider)
class ProviderAdmin(AuditFieldsMixin, admin.ModelAdmin):
    list_display = ("last_name", "first_name", "credentials", "npi", "is_active", "practice")
    list_filter = ("is_active", "credentials")
    list_select_related = ("practice",)
    search_fields = ("last_name", "first_name", "npi", "practice__name")
    raw_id_fields = ("practice",)


@admin.register(Invitation)
class InvitationAdmin(AuditFieldsMixin, admin.ModelAdmin):
    """Read-only: invitations are made, re-sent and withdrawn by practice admins on the team page."""

    list_display = ("email", "full_name", "practice", "role", "sent_at", "accepted_at", "revoked_at")
    list_filter = ("role",)
    list_select_related = ("practice",)
    search_fields = ("email", "full_name", "practice__name")
    raw_id_fields = ("practice", "invited_by")
    readonly_fields = ("practice", "email", "full_name", "role", "invited_by", "sent_at", "accepted_at", "revoked_at")
    exclude = ("token_hash",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Invitation | None = None) -> bool:
        # Viewable; nothing to edit (the view page shows every field read-only).
        return False
