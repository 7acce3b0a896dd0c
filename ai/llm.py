"""The one place the ``ai`` app builds a client for the OpenAI API (or a compatible server).

Outcome extraction (``ai.extraction.openai_extractor``) and the knowledge base's embeddings
(``ai.embeddings``) both talk to it through ``client()``, so the key, ``OPENAI_BASE_URL``,
the timeout and the client's own retries are read from settings in one way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    import openai


def client() -> openai.OpenAI:
    """A client for the current settings; use it as a context manager to close its connections."""
    import openai  # here, not at the top: the web process imports the knowledge base without needing it

    return openai.OpenAI(
        # Local OpenAI-compatible servers take any key, but the client insists on one.
        api_key=settings.OPENAI_API_KEY or "not-needed",
        base_url=settings.OPENAI_BASE_URL or None,
        timeout=float(settings.OPENAI_TIMEOUT),
        max_retries=settings.OPENAI_MAX_RETRIES,
    )
