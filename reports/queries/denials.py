"""Denial trends: which denials come back, from whom, for what, and whether it is getting worse.

The period is by date of service: the claims served in the last N days, and among them those
that carry a denial code (whatever their status now, so a denial later appealed and paid still
counts). Amounts are the billed charges of those claims (of those lines, by CPT). Five
aggregate queries, however many claims.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncWeek

from billingpulse.models import Practice
from claims.models import Claim, ClaimLine
from reports.period import Period
from reports.tables import Column, Table, money, percent

_TOTAL = DecimalField(max_digits=14, decimal_places=2)
DENIED = ~Q(denial_code="")


def _sum(column: str, **kwargs) -> Coalesce:
    return Coalesce(Sum(column, **kwargs), Value(Decimal(0)), output_field=_TOTAL)


@dataclass
class DenialTrends:
    period: Period
    by_code: list[dict]
    by_payer: list[dict]
    by_cpt: list[dict]
    by_provider: list[dict]
    by_week: list[dict]

    @property
    def claims(self) -> int:
        return sum(row["claims"] for row in self.by_week)

    @property
    def denied(self) -> int:
        return sum(row["denied"] for row in self.by_week)

    @property
    def denied_amount(self) -> Decimal:
        return sum((row["amount"] for row in self.by_week), Decimal("0.00"))

    @property
    def denial_rate(self) -> Decimal | None:
        return percent(self.denied, self.claims)

    def summary(self) -> dict:
        return {
            "claims": self.claims,
            "denied": self.denied,
            "denied_amount": self.denied_amount,
            "denial_rate": self.denial_rate,
        }

    def tables(self) -> list[Table]:
        count, amount = Column("count", "Denied claims", "count"), Column("amount", "Billed", "money")
        return [
            Table(
                "by_code",
                "By denial code",
                [Column("code", "Denial code"), count, amount],
                self.by_code,
                links={"code": "href"},
            ),
            Table(
                "by_payer",
                "By payer",
                [
                    Column("payer", "Payer"),
                    Column("claims", "Claims", "count"),
                    count,
                    Column("rate", "Denial rate", "percent"),
                    amount,
                ],
                self.by_payer,
            ),
            Table(
                "by_cpt",
                "By CPT/HCPCS",
                [
                    Column("code", "CPT/HCPCS"),
                    Column("lines", "Denied lines", "count"),
                    Column("amount", "Billed", "money"),
                ],
                self.by_cpt,
            ),
            Table("by_provider", "By provider", [Column("provider", "Provider"), count, amount], self.by_provider),
            Table(
                "by_week",
                "By week of service",
                [
                    Column("week", "Week of", "date"),
                    Column("claims", "Claims", "count"),
                    count,
                    Column("rate", "Denial rate", "percent"),
                    amount,
                ],
                self.by_week,
            ),
        ]


def denial_trends(practice: Practice, period: Period, *, code_href=None) -> DenialTrends:
    """``code_href(code)``, if given, is the link of each denial code's row (the worklist)."""
    served = Claim.objects.filter(practice=practice, service_date_from__range=(period.first, period.last)).order_by()
    denied = served.filter(DENIED)
    figures = {"count": Count("pk"), "amount": _sum("total_charge")}

    by_code = [
        {"code": row["denial_code"], "count": row["count"], "amount": money(row["amount"])}
        for row in denied.values("denial_code").annotate(**figures).order_by("-count", "denial_code")
    ]
    for row in by_code:
        row["href"] = code_href(row["code"]) if code_href else ""

    by_payer = [
        {
            "payer_id": row["payer_id"],
            "payer": row["payer__name"],
            "claims": row["claims"],
            "count": row["count"],
            "rate": percent(row["count"], row["claims"]),
            "amount": money(row["amount"]),
        }
        for row in served.values("payer_id", "payer__name")
        .annotate(claims=Count("pk"), count=Count("pk", filter=DENIED), amount=_sum("total_charge", filter=DENIED))
        .order_by("-count", "payer__name")
    ]

    lines = ClaimLine.objects.filter(
        claim__practice=practice, claim__service_date_from__range=(period.first, period.last)
    ).exclude(claim__denial_code="")
    by_cpt = [
        {"code": row["procedure_code"], "lines": row["lines"], "amount": money(row["amount"])}
        for row in lines.order_by()
        .values("procedure_code")
        .annotate(lines=Count("pk"), amount=_sum("charge"))
        .order_by("-lines", "procedure_code")
    ]

    by_provider = [
        {
            "provider_id": row["provider_id"],
            "provider": _provider_name(row),
            "count": row["count"],
            "amount": money(row["amount"]),
        }
        for row in denied.values("provider_id", "provider__first_name", "provider__last_name", "provider__credentials")
        .annotate(**figures)
        .order_by("-count", "provider__last_name")
    ]

    weekly = {
        row["week"]: row
        for row in served.annotate(week=TruncWeek("service_date_from"))
        .values("week")
        .annotate(claims=Count("pk"), denied=Count("pk", filter=DENIED), amount=_sum("total_charge", filter=DENIED))
    }
    by_week = []
    for week in _weeks(period.first, period.last):
        row = weekly.get(week, {})
        claims, count = row.get("claims", 0), row.get("denied", 0)
        by_week.append(
            {
                "week": week,
                "claims": claims,
                "denied": count,
                "count": count,
                "rate": percent(count, claims),
                "amount": money(row.get("amount")),
            }
        )
    return DenialTrends(period, by_code, by_payer, by_cpt, by_provider, by_week)


def _provider_name(row: dict) -> str:
    if row["provider_id"] is None:
        return "No provider on the claim"
    name = f"{row['provider__first_name']} {row['provider__last_name']}"
    return f"{name}, {row['provider__credentials']}" if row["provider__credentials"] else name


def _weeks(first: date, last: date) -> list[date]:
    """The Mondays of the weeks from ``first`` to ``last`` (weeks start on Monday, as ``TruncWeek``)."""
    monday = first - timedelta(days=first.weekday())
    weeks = []
    while monday <= last:
        weeks.append(monday)
        monday += timedelta(days=7)
    return weeks
