"""The operators' admin site: superusers only, and no request of theirs answers 500."""

from __future__ import annotations

from functools import wraps

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.options import TO_FIELD_VAR
from django.http import HttpRequest, HttpResponseBadRequest


class BillingPulseAdminSite(admin.AdminSite):
    site_header = "BillingPulse operations"
    site_title = "BillingPulse admin"

    def has_permission(self, request: HttpRequest) -> bool:
        # The admin is for operators; practice admins manage their practice in the app.
        return request.user.is_active and request.user.is_superuser

    def admin_view(self, view, cacheable=False):
        guarded = super().admin_view(view, cacheable)

        @wraps(view)
        def inner(request: HttpRequest, *args, **kwargs):
            # Django checks a non-empty ?_to_field= against the allowed fields but looks an
            # empty one up as a field named "" (FieldDoesNotExist): refuse it for every admin.
            if request.GET.get(TO_FIELD_VAR, None) == "" or request.POST.get(TO_FIELD_VAR, None) == "":
                return HttpResponseBadRequest("The _to_field parameter is empty.")
            return guarded(request, *args, **kwargs)

        return inner


class BillingPulseAdminConfig(AdminConfig):
    default_site = "billingpulse.admin_site.BillingPulseAdminSite"
