"""/api/v1/ billing routes: payments, ledger transactions, patient balances."""

from __future__ import annotations

# (prefix, viewset, basename) registered on the project's API router; URLS are extra paths.
ROUTES: list = []
URLS: list = []
