"""/api/v1/ remittance (835) routes: upload, preview, post."""

from __future__ import annotations

# (prefix, viewset, basename) registered on the project's API router; URLS are extra paths.
ROUTES: list = []
URLS: list = []
