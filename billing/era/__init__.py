"""X12 835 (electronic remittance advice) reading."""

from __future__ import annotations

from billing.era.reader import (
    Adjustment,
    Claim,
    ERAError,
    Payee,
    Payment,
    ProviderAdjustment,
    Remittance,
    ServiceLine,
    balance_problems,
    read_835,
)

__all__ = [
    "Adjustment",
    "Claim",
    "ERAError",
    "Payee",
    "Payment",
    "ProviderAdjustment",
    "Remittance",
    "ServiceLine",
    "balance_problems",
    "read_835",
]
