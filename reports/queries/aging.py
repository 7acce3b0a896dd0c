"""AR aging: what is still owed, by payer and by the age of the claim, from the ledger.

A claim's balance is the sum of its ledger entries on the receivable accounts (insurance and
patient), as ``billing`` keeps it; a claim with a credit owes nothing and does not lower what
the others owe. Its age is the days since its date of service, in the buckets the worklist's
"Balance age" filter uses, so each cell links to exactly its claims there. Two queries: one
aggregate over the ledger, one for the payers' names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection

from billing.models import RECEIVABLES, LedgerEntry
from billingpulse.models import Practice
from claims.models import Claim, Payer
from claims.worklist import AGE_BUCKETS, worklist_url
from reports.tables import ZERO, Column, Table, money, percent

BUCKETS = [(key, label) for key, label, _first, _last in AGE_BUCKETS]


@dataclass
class AgingRow:
    payer_id: int
    payer: str
    claims: int = 0
    total: Decimal = ZERO
    # bucket key → {"claims": n, "amount": Decimal, "href": link}
    cells: dict[str, dict] = field(default_factory=dict)
    href: str = ""


@dataclass
class ArAging:
    today: date
    rows: list[AgingRow]
    buckets: list[tuple[str, str]]

    @property
    def totals(self) -> dict[str, Decimal]:
        return {key: sum((row.cells[key]["amount"] for row in self.rows), ZERO) for key, _label in self.buckets}

    @property
    def total(self) -> Decimal:
        return sum((row.total for row in self.rows), ZERO)

    @property
    def claims(self) -> int:
        return sum(row.claims for row in self.rows)

    def summary(self) -> dict:
        totals = self.totals
        over_90 = sum((totals[key] for key in ("91-120", "120+")), ZERO)
        return {
            "outstanding": self.total,
            "claims": self.claims,
            "over_90": over_90,
            "over_90_share": percent(over_90, self.total),
        }

    def tables(self) -> list[Table]:
        columns = [Column("payer", "Payer"), *(Column(key, label, "money") for key, label in self.buckets)]
        columns += [Column("total", "Total", "money"), Column("claims", "Claims", "count")]
        rows = []
        for row in self.rows:
            cells = {"payer": row.payer, "total": row.total, "claims": row.claims, "payer_href": row.href}
            for key, _label in self.buckets:
                cells[key] = row.cells[key]["amount"]
                cells[f"{key}_href"] = row.cells[key]["href"] if row.cells[key]["claims"] else ""
            rows.append(cells)
        links = {"payer": "payer_href", **{key: f"{key}_href" for key, _label in self.buckets}}
        return [Table("by_payer", "Outstanding by payer and age", columns, rows, links=links)]


def aging_worklist_link(payer_id: int, bucket: str) -> str:
    """A cell's claims in the worklist (``bucket`` ``""``: the payer's whole row), closed ones included."""
    return worklist_url(status="all", payer=payer_id, age=bucket)


def ar_aging(practice: Practice, today: date, *, cell_href=None) -> ArAging:
    """``cell_href(payer_id, bucket_key)`` links a cell (``bucket_key`` ``""``: the payer's row)."""
    found: dict[int, dict[str, tuple[int, Decimal]]] = {}
    for payer_id, bucket, claims, amount in _balances(practice, today):
        found.setdefault(payer_id, {})[BUCKETS[bucket][0]] = (claims, money(amount))
    payers = dict(Payer.objects.filter(practice=practice, pk__in=found).values_list("pk", "name"))
    rows = []
    for payer_id, by_bucket in found.items():
        row = AgingRow(payer_id, payers[payer_id], href=cell_href(payer_id, "") if cell_href else "")
        for key, _label in BUCKETS:
            claims, amount = by_bucket.get(key, (0, ZERO))
            href = cell_href(payer_id, key) if cell_href and claims else ""
            row.cells[key] = {"claims": claims, "amount": amount, "href": href}
            row.claims += claims
            row.total += amount
        rows.append(row)
    rows.sort(key=lambda row: (-row.total, row.payer))
    return ArAging(today, rows, BUCKETS)


def _balances(practice: Practice, today: date) -> list[tuple]:
    """(payer id, bucket index, claims, amount owed) for each payer and age with money owed."""
    quote = connection.ops.quote_name
    # The bucket is found by comparing the date of service with each bucket's oldest date, so the
    # SQL needs no date arithmetic (which SQLite and PostgreSQL spell differently).
    whens, params = [], []
    for index, (_key, _label, _first, last) in enumerate(AGE_BUCKETS):
        if last is not None:
            whens.append(f"WHEN c.{quote('service_date_from')} >= %s THEN {index}")
            params.append(today - timedelta(days=last))
    accounts = ", ".join(["%s"] * len(RECEIVABLES))
    sql = f"""
        SELECT c.{quote("payer_id")}, CASE {" ".join(whens)} ELSE {len(AGE_BUCKETS) - 1} END AS bucket,
               COUNT(*), SUM(b.owed)
        FROM (
            SELECT e.{quote("claim_id")} AS claim_id, SUM(e.{quote("amount")}) AS owed
            FROM {quote(LedgerEntry._meta.db_table)} e
            WHERE e.{quote("practice_id")} = %s AND e.{quote("account")} IN ({accounts})
                  AND e.{quote("claim_id")} IS NOT NULL
            GROUP BY e.{quote("claim_id")}
            HAVING SUM(e.{quote("amount")}) > 0
        ) b
        JOIN {quote(Claim._meta.db_table)} c ON c.{quote("id")} = b.claim_id
        GROUP BY 1, 2
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, practice.pk, *RECEIVABLES])
        return cursor.fetchall()
