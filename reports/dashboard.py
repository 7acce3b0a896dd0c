"""The dashboard's figures: what a biller needs at the start of the day, on one page.

Each figure comes from the code that owns its definition, so the dashboard, the reports and
the inbox never disagree: outstanding AR by payer and age from ``queries.ar_aging`` (the
ledger); follow-ups due, the review queue and revenue recovered from
``queries.calling_operations`` (over this month so far); what needs a person from the inbox's
open items. Two figures are the dashboard's own: denials that arrived this month (claims now
denied whose status changed this month, or that came in denied this month) and today's calls
with the calls under way now, which the page refreshes while any call is queued or on the line.

A fixed number of queries whatever the practice's size; a practice with no claims runs only
the getting-started counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.db.models import Count, DecimalField, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from billingpulse.models import Practice, Provider, User
from claims.models import Claim
from claims.status import ClaimStatus
from claims.worklist import worklist_url
from inbox.selectors import open_items
from reports import charts, queries
from reports.period import Period
from reports.queries.aging import ArAging, aging_worklist_link
from reports.queries.operations import COMPLETED, FINISHED, CallingOperations
from reports.tables import ZERO, money
from telephony.models import Call
from telephony.status import ACTIVE, CallStatus

TOP = 8  # bars in a dashboard chart; the report behind it lists them all
LIVE_SHOWN = 5  # calls on the line listed by name; the count says how many more
ON_THE_LINE = [CallStatus.DIALING, CallStatus.RINGING, CallStatus.IN_PROGRESS]
NO_CODE = "No denial code"


@dataclass
class Setup:
    """The getting-started steps and how far the practice is through them."""

    profile_complete: bool
    providers: int
    team: int
    has_claims: bool

    @property
    def steps_left(self) -> int:
        return sum(not done for done in (self.profile_complete, self.providers, self.team > 1, self.has_claims))


@dataclass
class LiveCalls:
    """Today's calls by result, and the calls waiting or under way now (whenever placed)."""

    completed: int
    not_completed: int
    on_the_line: int
    queued: int
    calls: list[Call] = field(default_factory=list)  # the latest few on the line

    @property
    def today(self) -> int:
        return self.completed + self.not_completed

    @property
    def active(self) -> bool:
        """Whether the page should keep refreshing: a call is queued or on the line."""
        return bool(self.on_the_line or self.queued)


@dataclass
class Dashboard:
    today: date
    setup: Setup
    aging: ArAging | None = None
    denials: list[dict] = field(default_factory=list)
    operations: CallingOperations | None = None
    live: LiveCalls | None = None
    needing_action: int = 0  # open inbox items: claims and payments waiting for a person

    @property
    def denied_this_month(self) -> int:
        return sum(row["count"] for row in self.denials)

    def charts(self) -> dict[str, charts.Chart]:
        """The three charts, each bar linking to the worklist filtered to its claims."""
        return {
            "by_payer": charts.bar_chart(
                "dashboard-ar-payer",
                "Outstanding by payer",
                "What each payer's claims still owe (insurance and patient balances in the ledger), "
                "largest first. Each bar opens that payer's claims in the worklist.",
                [charts.Item(row.payer, row.total, href=row.href) for row in self.aging.rows[:TOP]],
                as_money=True,
                value_header="Outstanding",
            ),
            "by_age": charts.bar_chart(
                "dashboard-ar-age",
                "Outstanding by age",
                "What is still owed, by days since the date of service. "
                "Each bar opens the claims of that age with money owed.",
                [
                    charts.Item(label, self.aging.totals[key], href=worklist_url(status="all", age=key))
                    for key, label in self.aging.buckets
                ],
                as_money=True,
                value_header="Outstanding",
            ),
            "denials": charts.bar_chart(
                "dashboard-denials",
                "Denials this month by code",
                f"Claims denied since {self.today:%B} 1 and still denied, by denial code. "
                "Each bar opens the denied claims with that code.",
                [charts.Item(row["code"], row["count"], href=row["href"]) for row in self.denials[:TOP]],
                value_header="Denied claims",
            ),
        }


def dashboard(practice: Practice, *, today: date | None = None) -> Dashboard:
    """Every figure of the dashboard; a practice with no claims gets only its setup steps."""
    today = today or practice.today()
    claims = Claim.objects.filter(practice=practice)
    setup = Setup(
        profile_complete=practice.profile_complete,
        providers=Provider.objects.filter(practice=practice).count(),
        team=User.objects.filter(practice=practice, is_active=True).count(),
        has_claims=claims.exists(),
    )
    result = Dashboard(today, setup)
    if not setup.has_claims:
        return result

    result.aging = queries.ar_aging(practice, today, cell_href=aging_worklist_link)
    month = Period(days=today.day, first=today.replace(day=1), last=today, zone=ZoneInfo(practice.time_zone))
    result.denials = denials_since(practice, month.start)
    result.operations = queries.calling_operations(practice, month)
    result.live = live_calls(practice, today)
    result.needing_action = open_items(practice).count()
    return result


def denials_since(practice: Practice, start: datetime) -> list[dict]:
    """Claims denied since ``start`` and still denied, by denial code (most first)."""
    rows = (
        Claim.objects.filter(practice=practice, status=ClaimStatus.DENIED)
        # A claim imported already denied has no status change: it arrived denied when it was created.
        .annotate(denied_at=Coalesce("status_changed_at", "created_at"))
        .filter(denied_at__gte=start)
        .order_by()
        .values("denial_code")
        .annotate(
            count=Count("pk"),
            amount=Coalesce(
                Sum("total_charge"), Value(ZERO), output_field=DecimalField(max_digits=14, decimal_places=2)
            ),
        )
        .order_by("-count", "denial_code")
    )
    return [
        {
            "code": row["denial_code"] or NO_CODE,
            "count": row["count"],
            "amount": money(row["amount"]),
            "href": worklist_url(status=ClaimStatus.DENIED.value, denial_code=row["denial_code"]),
        }
        for row in rows
    ]


def live_calls(practice: Practice, today: date | None = None) -> LiveCalls:
    """Today's finished calls by result and the calls queued or on the line now: two queries."""
    today = today or practice.today()
    start = datetime.combine(today, time.min, tzinfo=ZoneInfo(practice.time_zone))
    calls: QuerySet[Call] = Call.objects.filter(practice=practice).order_by()
    placed_today = Q(created_at__gte=start)
    figures = calls.filter(placed_today | Q(status__in=ACTIVE)).aggregate(
        completed=Count("pk", filter=placed_today & COMPLETED),
        not_completed=Count("pk", filter=placed_today & FINISHED & ~COMPLETED),
        on_the_line=Count("pk", filter=Q(status__in=ON_THE_LINE)),
        queued=Count("pk", filter=Q(status=CallStatus.QUEUED)),
    )
    latest = list(
        calls.filter(status__in=ON_THE_LINE)
        .select_related("claim", "payer")
        .only("status", "created_at", "started_at", "claim__claim_number", "payer__name")
        .order_by(F("started_at").desc(nulls_last=True), "-pk")[:LIVE_SHOWN]
    )
    return LiveCalls(calls=latest, **figures)
