"""Deployment checks for documents: the keys files and their search index are encrypted with."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register


@register(deploy=True)
def document_keys(app_configs, **kwargs) -> list[Error]:
    """Outside development the keys must be set: files written without them could not be read."""
    if settings.APP_ENV == "development":
        return []
    errors = []
    if not settings.DOCUMENT_ENCRYPTION_KEYS:
        errors.append(
            Error(
                "DOCUMENT_ENCRYPTION_KEYS is empty: uploaded documents could not be stored.",
                hint="Set one or more keys, newest first: each 32 random bytes in urlsafe base64, such as "
                "python -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())'.",
                id="documents.E001",
            )
        )
    if not settings.DOCUMENT_INDEX_KEY:
        errors.append(
            Error(
                "DOCUMENT_INDEX_KEY is empty: the words of documents could not be indexed for search.",
                hint="Set a long random secret, kept apart from DOCUMENT_ENCRYPTION_KEYS.",
                id="documents.E002",
            )
        )
    return errors
