"""The claims app's part of /api/v1/: payers, insurance policies and claims."""

from __future__ import annotations

from claims.api.claims import ClaimViewSet
from claims.api.payers import PayerViewSet
from claims.api.policies import InsurancePolicyViewSet

__all__ = ["ClaimViewSet", "InsurancePolicyViewSet", "PayerViewSet"]
