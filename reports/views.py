"""Reports pages: the index and the four reports, each with its charts and tables.

Views parse the period, call the report's query function and turn its rows into charts
(``reports.charts``); every figure comes from ``reports.queries``.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from billingpulse.tenancy import AuthedRequest, member_required
from claims.worklist import worklist_url
from reports import charts, queries
from reports.period import DAY_CHOICES, DEFAULT_DAYS, Period, PeriodForm
from reports.queries.aging import aging_worklist_link

TOP = 12  # bars in a "by …" chart; the table below it lists them all

REPORTS = [
    ("reports:denial_trends", "Denial trends", "Denials by code, payer, CPT and provider, week by week."),
    (
        "reports:payer_performance",
        "Payer performance",
        "Calls, resolution, days to pay, call time and cost, and paid against billed by CPT, per payer.",
    ),
    ("reports:ar_aging", "AR aging", "What is still owed, by payer and age, with each cell opening its claims."),
    (
        "reports:calling_operations",
        "Calling operations",
        "Calls per day, completion, why calls failed, follow-ups due, the review queue and revenue recovered.",
    ),
]


def _period(request: AuthedRequest) -> tuple[Period, PeriodForm]:
    form = PeriodForm(request.GET)
    days = form.cleaned_data["days"] if form.is_valid() else DEFAULT_DAYS
    return Period.ending_today(request.practice, days), form


def _page(request: AuthedRequest, template: str, context: dict) -> HttpResponse:
    context.setdefault("day_choices", DAY_CHOICES)
    return render(request, template, context)


@require_GET
@member_required
def index(request: AuthedRequest) -> HttpResponse:
    reports = [{"url": reverse(name), "title": title, "summary": summary} for name, title, summary in REPORTS]
    return render(request, "reports/index.html", {"reports": reports})


@require_GET
@member_required
def denial_trends(request: AuthedRequest) -> HttpResponse:
    period, form = _period(request)
    report = queries.denial_trends(
        request.practice, period, code_href=lambda code: worklist_url(denial_code=code, status="all")
    )
    days = f"date of service in the last {period.days} days"
    chart_list = [
        charts.bar_chart(
            "denials-by-code",
            "Denied claims by denial code",
            f"Number of denied claims per denial code, {days}. Each bar opens the worklist for that code.",
            [charts.Item(row["code"], row["count"], href=row["href"]) for row in report.by_code[:TOP]],
            value_header="Denied claims",
        ),
        charts.bar_chart(
            "denials-by-week",
            "Denied claims by week of service",
            f"Number of denied claims per week of service, {days}.",
            [charts.Item(f"{row['week']:%b} {row['week'].day}", row["count"]) for row in report.by_week],
            vertical=True,
            value_header="Denied claims",
        ),
        charts.bar_chart(
            "denials-by-payer",
            "Billed amount denied by payer",
            f"Billed charges of denied claims per payer, {days}.",
            [charts.Item(row["payer"], row["amount"]) for row in report.by_payer[:TOP] if row["count"]],
            as_money=True,
            value_header="Billed",
        ),
    ]
    context = {"report": report, "period": period, "form": form, "charts": chart_list, "tables": report.tables()}
    return _page(request, "reports/denial_trends.html", context)


@require_GET
@member_required
def payer_performance(request: AuthedRequest) -> HttpResponse:
    period, form = _period(request)
    report = queries.payer_performance(request.practice, period)
    days = f"last {period.days} days"
    chart_list = [
        charts.bar_chart(
            "payers-days-to-pay",
            "Average days to pay",
            f"Average days from date of service to the payer's payment, for payments dated in the {days}.",
            [
                charts.Item(row["payer"], row["average_days_to_pay"], display=f"{row['average_days_to_pay']} days")
                for row in sorted(report.rows, key=lambda row: -(row["average_days_to_pay"] or 0))
                if row["average_days_to_pay"] is not None
            ][:TOP],
            value_header="Days",
        ),
        charts.bar_chart(
            "payers-resolution",
            "Calls resolved",
            f"Share of finished calls to each payer that resolved the claim's question, {days}.",
            [
                charts.Item(row["payer"], row["resolution_rate"], display=f"{row['resolution_rate']}%")
                for row in report.rows
                if row["resolution_rate"] is not None
            ][:TOP],
            value_header="Resolved",
        ),
    ]
    context = {
        "report": report,
        "totals": report.totals(),
        "period": period,
        "form": form,
        "charts": chart_list,
        "tables": report.tables(),
    }
    return _page(request, "reports/payer_performance.html", context)


@require_GET
@member_required
def ar_aging(request: AuthedRequest) -> HttpResponse:
    today = request.practice.today()

    report = queries.ar_aging(request.practice, today, cell_href=aging_worklist_link)
    chart = charts.stacked_bar_chart(
        "aging-by-payer",
        "Outstanding balance by payer and age",
        "What each payer's claims still owe, split by days since the date of service. "
        "Each part opens those claims in the worklist.",
        [
            (
                row.payer,
                [
                    charts.Item(label, row.cells[key]["amount"], href=row.cells[key]["href"])
                    for key, label in report.buckets
                ],
            )
            for row in report.rows
        ],
        [label for _key, label in report.buckets],
    )
    buckets = [
        {"label": label, "amount": amount, "href": worklist_url(status="all", age=key)}
        for (key, label), amount in zip(report.buckets, report.totals.values(), strict=True)
    ]
    context = {
        "report": report,
        "summary": report.summary(),
        "buckets": buckets,
        "chart": chart,
        "tables": report.tables(),
        "today": today,
    }
    return render(request, "reports/ar_aging.html", context)


@require_GET
@member_required
def calling_operations(request: AuthedRequest) -> HttpResponse:
    period, form = _period(request)
    report = queries.calling_operations(request.practice, period)
    chart_list = [
        charts.line_chart(
            "calls-per-day",
            "Calls per day",
            f"Calls placed each day of the last {period.days} days.",
            [charts.Item(f"{row['day']:%b} {row['day'].day}", row["calls"]) for row in report.by_day],
            value_header="Calls",
        ),
        charts.bar_chart(
            "call-failures",
            "Why calls did not complete",
            f"Calls that finished without completing, by reason, last {period.days} days.",
            [charts.Item(row["reason"], row["count"]) for row in report.failures],
            value_header="Calls",
        ),
    ]
    context = {
        "report": report,
        "summary": report.summary(),
        "period": period,
        "form": form,
        "charts": chart_list,
        # Calls per day are in the chart's own table; a page of 365 rows would bury the rest.
        "tables": [table for table in report.tables() if table.key != "by_day"],
        "follow_ups_url": worklist_url(follow_up="due"),
    }
    return _page(request, "reports/calling_operations.html", context)
