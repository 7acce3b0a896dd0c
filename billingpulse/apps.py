from __future__ import annotations

from django.apps import AppConfig
from django.urls import register_converter


class BillingPulseConfig(AppConfig):
    name = "billingpulse"
    verbose_name = "Practices and users"

    def ready(self) -> None:
        from billingpulse.validators import IdConverter

        # Before any URLconf is imported: every app's routes write ids as <id:pk>.
        register_converter(IdConverter, "id")

        from billingpulse.security import signals  # noqa: F401 - connects the sign-in receiver
