"""What the ledger says a claim's amounts are, summed from its entries by account, for tests
that check a writer kept the claim's columns and its ledger in agreement."""

from __future__ import annotations

from decimal import Decimal

from billing.models import ADJUSTMENTS, MONEY_IN, RECEIVABLES, Account, LedgerEntry
from claims.models import Claim


def ledger_amounts(claim: Claim) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = {}
    for account, amount in LedgerEntry.objects.filter(claim=claim).values_list("account", "amount"):
        sums[account] = sums.get(account, Decimal("0")) + amount

    def total(accounts) -> Decimal:
        return sum((sums.get(account, Decimal("0")) for account in accounts), Decimal("0.00"))

    return {
        "total_charge": -total([Account.CHARGES]),
        "paid_amount": total(MONEY_IN),
        "adjustment_amount": total(ADJUSTMENTS),
        "patient_responsibility": total([Account.PATIENT_AR]),
        "balance": total(RECEIVABLES),
    }


def column_amounts(claim: Claim) -> dict[str, Decimal]:
    claim.refresh_from_db()
    return {name: getattr(claim, name) for name in ledger_amounts(claim)}


def assert_books_agree(claim: Claim) -> None:
    """The claim's money columns equal the sums of its ledger entries."""
    assert column_amounts(claim) == ledger_amounts(claim), claim.claim_number
