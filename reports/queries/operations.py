"""Calling operations: how the calling went day by day, and what it brought in.

* calls placed (created) each day of the period, by the practice's calendar;
* completion rate: calls that ended with no failure, out of those that finished (ended or
  failed; canceled calls were never placed);
* failure reasons: the failure category of each finished call that did not complete;
* follow-ups due: open claims whose follow-up date is today or earlier, and scheduled calls
  still waiting whose time has come by the end of today;
* the review queue: calls whose outcome waits for a person;
* recovered revenue: insurance payments with a payment date in the period, posted to a claim
  that had a completed call in the 30 days up to the payment date (each payment counted once,
  however many calls; reversed payments left out).

Six queries, however many calls and claims.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, DateField, DecimalField, Exists, OuterRef, Q, Sum, Value
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.utils import timezone

from billing.models import JournalTransaction, Payment
from billingpulse.models import Practice
from claims.models import Claim
from claims.status import OPEN
from reports.period import Period
from reports.tables import Column, Table, money, percent
from telephony.models import Call, ScheduledCall
from telephony.status import CallStatus, FailureCategory

RECOVERY_DAYS = 30
COMPLETED = Q(status=CallStatus.ENDED, failure_category="")
FINISHED = Q(status__in=[CallStatus.ENDED, CallStatus.FAILED])


@dataclass
class CallingOperations:
    period: Period
    by_day: list[dict]
    failures: list[dict]
    follow_ups_due: int
    scheduled_calls_due: int
    review_queue: int
    recovered: Decimal
    recovered_payments: int
    recovered_claims: int

    @property
    def calls(self) -> int:
        return sum(row["calls"] for row in self.by_day)

    @property
    def completed(self) -> int:
        return sum(row["completed"] for row in self.by_day)

    @property
    def finished(self) -> int:
        return sum(row["finished"] for row in self.by_day)

    @property
    def completion_rate(self) -> Decimal | None:
        return percent(self.completed, self.finished)

    def summary(self) -> dict:
        return {
            "calls": self.calls,
            "completed": self.completed,
            "finished": self.finished,
            "completion_rate": self.completion_rate,
            "follow_ups_due": self.follow_ups_due,
            "scheduled_calls_due": self.scheduled_calls_due,
            "review_queue": self.review_queue,
            "recovered": self.recovered,
            "recovered_payments": self.recovered_payments,
            "recovered_claims": self.recovered_claims,
        }

    def tables(self) -> list[Table]:
        return [
            Table(
                "by_day",
                "Calls per day",
                [
                    Column("day", "Day", "date"),
                    Column("calls", "Calls", "count"),
                    Column("completed", "Completed", "count"),
                    Column("failed", "Not completed", "count"),
                    Column("completion_rate", "Completion rate", "percent"),
                ],
                self.by_day,
            ),
            Table(
                "failures",
                "Why calls did not complete",
                [Column("reason", "Reason"), Column("count", "Calls", "count"), Column("share", "Share", "percent")],
                self.failures,
            ),
        ]


def calling_operations(practice: Practice, period: Period) -> CallingOperations:
    calls = Call.objects.filter(practice=practice, created_at__gte=period.start, created_at__lt=period.end).order_by()
    daily = {
        row["day"]: row
        for row in calls.annotate(day=TruncDate("created_at", tzinfo=period.zone))
        .values("day")
        .annotate(calls=Count("pk"), finished=Count("pk", filter=FINISHED), completed=Count("pk", filter=COMPLETED))
    }
    by_day = []
    for day in period.dates():
        row = daily.get(day, {})
        finished, completed = row.get("finished", 0), row.get("completed", 0)
        by_day.append(
            {
                "day": day,
                "calls": row.get("calls", 0),
                "finished": finished,
                "completed": completed,
                "failed": finished - completed,
                "completion_rate": percent(completed, finished),
            }
        )

    not_completed = list(
        calls.filter(FINISHED)
        .exclude(COMPLETED)
        .values("failure_category")
        .annotate(count=Count("pk"))
        .order_by("-count", "failure_category")
    )
    failed = sum(row["count"] for row in not_completed)
    failures = [
        {
            "category": row["failure_category"] or "unknown",
            "reason": _failure_label(row["failure_category"]),
            "count": row["count"],
            "share": percent(row["count"], failed),
        }
        for row in not_completed
    ]

    follow_ups_due = Claim.objects.filter(
        practice=practice, status__in=OPEN, next_follow_up_date__lte=period.last
    ).count()
    scheduled_due = ScheduledCall.objects.filter(
        practice=practice, status=ScheduledCall.Status.PENDING, call_after__lt=period.end
    ).count()
    review_queue = Call.objects.filter(practice=practice, review_status=Call.ReviewStatus.PENDING).count()
    recovered = _recovered(practice, period)
    return CallingOperations(
        period,
        by_day,
        failures,
        follow_ups_due,
        scheduled_due,
        review_queue,
        money(recovered["amount"]),
        recovered["payments"],
        recovered["claims"],
    )


def _failure_label(category: str) -> str:
    if not category:
        return "Ended without a reason given"
    return FailureCategory(category).label if category in FailureCategory.values else category


def _recovered(practice: Practice, period: Period) -> dict:
    # The call's day on the practice's calendar (``__date`` uses the active time zone), from the
    # payment date back RECOVERY_DAYS days. The cast keeps the date arithmetic a date on SQLite too.
    window_start = Cast(OuterRef("effective_date") - timedelta(days=RECOVERY_DAYS), DateField())
    with timezone.override(period.zone):
        called = Call.objects.filter(
            COMPLETED,
            claim=OuterRef("claim"),
            ended_at__date__lte=OuterRef("effective_date"),
            ended_at__date__gte=window_start,
        )
        insurance = Q(payment__isnull=True) | ~Q(payment__source=Payment.Source.PATIENT)
        return (
            JournalTransaction.objects.filter(
                insurance,
                practice=practice,
                kind=JournalTransaction.Kind.PAYMENT,
                claim__isnull=False,
                reversed_by__isnull=True,
                effective_date__range=(period.first, period.last),
            )
            .filter(Exists(called))
            .order_by()
            .aggregate(
                amount=Coalesce(
                    Sum("amount"), Value(Decimal(0)), output_field=DecimalField(max_digits=14, decimal_places=2)
                ),
                payments=Count("pk"),
                claims=Count("claim", distinct=True),
            )
        )
