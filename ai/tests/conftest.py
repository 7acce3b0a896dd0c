"""Fixtures for the knowledge-base tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def knowledge_index(settings, tmp_path):
    """A fresh embedded Chroma in the test's own folder, with the local embedding; the index
    updates that the worker makes after a commit run in-process."""
    from ai import knowledge

    settings.CHROMA_PATH = tmp_path / "chroma"
    settings.CHROMA_URL = ""
    settings.EMBEDDINGS = "local"
    knowledge.reset_clients()
    yield knowledge
    knowledge.reset_clients()
