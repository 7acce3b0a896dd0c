"""The reports' figures: one module per report, each a function of a practice and a period
that runs a few aggregate queries and returns plain data (``Decimal`` money, tables of rows)."""

from __future__ import annotations

from reports.queries.aging import ArAging, ar_aging
from reports.queries.denials import DenialTrends, denial_trends
from reports.queries.operations import CallingOperations, calling_operations
from reports.queries.payers import PayerPerformance, payer_performance

__all__ = [
    "ArAging",
    "CallingOperations",
    "DenialTrends",
    "PayerPerformance",
    "ar_aging",
    "calling_operations",
    "denial_trends",
    "payer_performance",
]
