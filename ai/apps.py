from __future__ import annotations

from django.apps import AppConfig


class AIConfig(AppConfig):
    name = "ai"
    verbose_name = "AI and knowledge base"

    def ready(self) -> None:
        from ai import signals  # noqa: F401 - connects the new-practice starter set
