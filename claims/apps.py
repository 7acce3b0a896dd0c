from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ClaimsConfig(AppConfig):
    name = "claims"

    def ready(self) -> None:
        from claims.search_text import reinstall_after_migrate

        post_migrate.connect(reinstall_after_migrate, sender=self)
