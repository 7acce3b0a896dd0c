from __future__ import annotations

from django.apps import AppConfig


class BillingPulseConfig(AppConfig):
    name = "billingpulse"
    verbose_name = "Practices and users"
