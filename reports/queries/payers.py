"""Payer performance: how each payer answers the phone and how it pays.

Per payer, over the last N days:

* calls placed (created) in the period; completed (ended with no failure) and resolved (the
  outcome says so: `Call.call_outcome`) out of those that finished (ended or failed); average talk time and the
  voice platform's cost, as the call records them. Hold time is **not recorded** on a call
  (only as silences in the transcript), so the report says so instead of a figure.
* insurance payments posted to its claims with a payment date in the period (ledger credits to
  the insurance receivables of payment postings, reversed ones left out), and the average days
  from date of service to payment.
* paid against billed by CPT for its claims served in the period: a line's billed amount is its
  charge; its paid amount is the claim's insurance payments shared out by line charge (payments
  are posted per claim, not per line).

Four aggregate queries and one for the payers' names.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, Sum

from billing.models import INSURANCE_AR, JournalTransaction, LedgerEntry
from billingpulse.models import Practice
from claims.models import Claim, ClaimLine, Payer
from reports.period import Period
from reports.tables import ZERO, Column, Table, money, percent
from telephony.models import Call
from telephony.status import CallStatus

HOLD_TIME_NOTE = (
    "Hold time is not recorded for calls (the voice platform reports only the whole call's length), so it is not shown."
)
FINISHED = [CallStatus.ENDED, CallStatus.FAILED]
PAYMENT = JournalTransaction.Kind.PAYMENT
DAY = Decimal("0.1")


@dataclass
class PayerPerformance:
    period: Period
    rows: list[dict]
    by_cpt: list[dict]
    hold_time_note: str = HOLD_TIME_NOTE

    def totals(self) -> dict:
        calls = sum(row["calls"] for row in self.rows)
        finished = sum(row["finished"] for row in self.rows)
        return {
            "calls": calls,
            "resolution_rate": percent(sum(row["resolved"] for row in self.rows), finished),
            "paid": sum((row["paid"] for row in self.rows), ZERO),
            "call_cost": sum((row["call_cost"] for row in self.rows), ZERO),
        }

    def tables(self) -> list[Table]:
        return [
            Table(
                "by_payer",
                "By payer",
                [
                    Column("payer", "Payer"),
                    Column("calls", "Calls", "count"),
                    Column("completion_rate", "Completed", "percent"),
                    Column("resolution_rate", "Resolved", "percent"),
                    Column("average_duration", "Avg. call", "seconds"),
                    Column("call_cost", "Call cost", "money"),
                    Column("average_call_cost", "Avg. cost", "money"),
                    Column("payments", "Payments", "count"),
                    Column("paid", "Paid", "money"),
                    Column("average_days_to_pay", "Avg. days to pay", "days"),
                ],
                self.rows,
                note=self.hold_time_note,
            ),
            Table(
                "by_cpt",
                "Paid against billed by CPT (claims served in the period)",
                [
                    Column("payer", "Payer"),
                    Column("code", "CPT/HCPCS"),
                    Column("lines", "Lines", "count"),
                    Column("billed", "Billed", "money"),
                    Column("paid", "Paid", "money"),
                    Column("paid_rate", "Paid of billed", "percent"),
                ],
                self.by_cpt,
            ),
        ]


def payer_performance(practice: Practice, period: Period) -> PayerPerformance:
    calls = {row["payer_id"]: row for row in _calls(practice, period)}
    payments = {row["claim__payer_id"]: row for row in _payments(practice, period)}
    by_cpt = _paid_by_cpt(practice, period)
    names = dict(Payer.objects.filter(practice=practice).values_list("pk", "name"))
    payer_ids = set(calls) | set(payments) | {row["payer_id"] for row in by_cpt}
    rows = []
    for payer_id in payer_ids:
        call, paid = calls.get(payer_id, {}), payments.get(payer_id, {})
        finished = call.get("finished", 0)
        wait = paid.get("wait")
        rows.append(
            {
                "payer_id": payer_id,
                "payer": names[payer_id],
                "calls": call.get("calls", 0),
                "finished": finished,
                "completed": call.get("completed", 0),
                "resolved": call.get("resolved", 0),
                "completion_rate": percent(call.get("completed", 0), finished),
                "resolution_rate": percent(call.get("resolved", 0), finished),
                "average_duration": _seconds(call.get("average_duration")),
                "average_hold": None,
                "call_cost": money(call.get("total_cost")),
                "average_call_cost": money(call["total_cost"] / call["costed"]) if call.get("costed") else None,
                "payments": paid.get("payments", 0),
                "paid": -money(paid.get("paid")) if paid.get("paid") else ZERO,
                "average_days_to_pay": _days(wait) if wait is not None else None,
            }
        )
    rows.sort(key=lambda row: (-row["calls"], -row["paid"], row["payer"]))
    for row in by_cpt:
        row["payer"] = names[row["payer_id"]]
    by_cpt.sort(key=lambda row: (row["payer"], -row["billed"], row["code"]))
    return PayerPerformance(period, rows, by_cpt)


def _calls(practice: Practice, period: Period):
    finished = Q(status__in=FINISHED)
    return (
        Call.objects.filter(practice=practice, created_at__gte=period.start, created_at__lt=period.end)
        .order_by()
        .values("payer_id")
        .annotate(
            calls=Count("pk"),
            finished=Count("pk", filter=finished),
            completed=Count("pk", filter=Q(status=CallStatus.ENDED, failure_category="")),
            resolved=Count("pk", filter=finished & Q(call_outcome="resolved")),
            average_duration=Avg("duration_seconds"),
            total_cost=Sum("cost"),
            costed=Count("cost"),
        )
    )


def _payments(practice: Practice, period: Period):
    """Insurance payments by payer: their sum (negative: credits), count and average wait."""
    wait = ExpressionWrapper(
        F("transaction__effective_date") - F("claim__service_date_from"), output_field=DurationField()
    )
    return (
        LedgerEntry.objects.filter(
            practice=practice,
            account__in=INSURANCE_AR,
            amount__lt=0,
            claim__isnull=False,
            transaction__kind=PAYMENT,
            transaction__reversed_by__isnull=True,
            transaction__effective_date__range=(period.first, period.last),
        )
        .order_by()
        .values("claim__payer_id")
        .annotate(paid=Sum("amount"), payments=Count("transaction_id", distinct=True), wait=Avg(wait))
    )


def _paid_by_cpt(practice: Practice, period: Period) -> list[dict]:
    quote = connection.ops.quote_name
    entry, txn = quote(LedgerEntry._meta.db_table), quote(JournalTransaction._meta.db_table)
    claim, line = quote(Claim._meta.db_table), quote(ClaimLine._meta.db_table)
    accounts = ", ".join(["%s"] * len(INSURANCE_AR))
    sql = f"""
        SELECT c.payer_id, l.procedure_code, COUNT(*), SUM(l.charge),
               SUM(CASE WHEN c.total_charge > 0 THEN l.charge * COALESCE(p.paid, 0) / c.total_charge ELSE 0 END)
        FROM {line} l
        JOIN {claim} c ON c.id = l.claim_id
        LEFT JOIN (
            SELECT e.claim_id, -SUM(e.amount) AS paid
            FROM {entry} e JOIN {txn} t ON t.id = e.transaction_id
            WHERE e.practice_id = %s AND e.account IN ({accounts}) AND e.amount < 0 AND t.kind = %s
                  AND NOT EXISTS (SELECT 1 FROM {txn} r WHERE r.reverses_id = t.id)
            GROUP BY e.claim_id
        ) p ON p.claim_id = c.id
        WHERE c.practice_id = %s AND c.service_date_from BETWEEN %s AND %s
        GROUP BY c.payer_id, l.procedure_code
    """
    params = [practice.pk, *INSURANCE_AR, PAYMENT, practice.pk, period.first, period.last]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        {
            "payer_id": payer_id,
            "code": code,
            "lines": lines,
            "billed": money(billed),
            "paid": money(paid),
            "paid_rate": percent(money(paid), money(billed)),
        }
        for payer_id, code, lines, billed, paid in rows
    ]


def _seconds(value) -> int | None:
    return None if value is None else round(value)


def _days(wait) -> Decimal:
    return (Decimal(wait.total_seconds()) / 86400).quantize(DAY)
