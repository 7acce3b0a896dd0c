from __future__ import annotations

from django.apps import AppConfig


class AIConfig(AppConfig):
    name = "ai"
