from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from billing.models import Payment
from claims.tests.factories import ClaimFactory
from reports.period import Period
from reports.queries import calling_operations
from reports.tests.helpers import call, days_ago, ledger_claim, local, pay, today_of
from telephony.models import Call
from telephony.tests.factories import ScheduledCallFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls(practice):
    today = today_of(practice)
    period = Period.ending_today(practice, 30)
    claim = ledger_claim(practice, served=days_ago(today, 50), charge="400.00")
    call(claim, created=local(practice, today, 9), status="ended")
    call(claim, created=local(practice, today, 10), status="ended", failure_category="voicemail")
    call(claim, created=local(practice, days_ago(today, 2), 23), status="failed", failure_category="provider_error")
    call(claim, created=local(practice, days_ago(today, 2), 8), status="ended", failure_category="voicemail")
    call(claim, created=local(practice, days_ago(today, 2), 8), status="canceled")
    # The first minute of the period is in it, the minute before is not.
    call(claim, created=period.start, status="ended")
    call(claim, created=period.start - timedelta(minutes=1), status="ended")
    return {"today": today, "period": period, "claim": claim}


def test_it_counts_calls_per_day_on_the_practices_calendar(practice, calls):
    report = calling_operations(practice, calls["period"])

    by_day = {row["day"]: row for row in report.by_day}
    assert len(report.by_day) == 30
    assert (by_day[calls["today"]]["calls"], by_day[calls["today"]]["completed"]) == (2, 1)
    two_days_ago = by_day[days_ago(calls["today"], 2)]
    assert (two_days_ago["calls"], two_days_ago["finished"], two_days_ago["failed"]) == (3, 2, 2)
    assert by_day[calls["period"].first]["calls"] == 1
    assert report.calls == 6
    assert (report.completed, report.finished, report.completion_rate) == (2, 5, Decimal("40.0"))


def test_it_gives_the_reasons_calls_did_not_complete(practice, calls):
    report = calling_operations(practice, calls["period"])

    assert [(row["reason"], row["count"], row["share"]) for row in report.failures] == [
        ("Reached voicemail", 2, Decimal("66.7")),
        ("Voice platform error", 1, Decimal("33.3")),
    ]


def test_it_counts_what_waits_now(practice, calls):
    today = calls["today"]
    ClaimFactory(practice=practice, status="denied", next_follow_up_date=today)
    ClaimFactory(practice=practice, status="in_process", next_follow_up_date=days_ago(today, 5))
    ClaimFactory(practice=practice, status="in_process", next_follow_up_date=today + timedelta(days=1))
    ClaimFactory(practice=practice, status="paid", next_follow_up_date=today)
    ScheduledCallFactory(practice=practice, claim=calls["claim"], call_after=local(practice, today, 23))
    ScheduledCallFactory(
        practice=practice, claim=calls["claim"], call_after=local(practice, today + timedelta(days=1), 0)
    )
    Call.objects.filter(pk=Call.objects.filter(practice=practice).first().pk).update(review_status="pending")

    report = calling_operations(practice, calls["period"])

    assert (report.follow_ups_due, report.scheduled_calls_due, report.review_queue) == (2, 1, 1)


def test_it_counts_payments_within_30_days_after_a_completed_call_as_recovered(practice, calls):
    today = calls["today"]
    called = ledger_claim(practice, served=days_ago(today, 90), charge="300.00")
    call(
        called, created=local(practice, days_ago(today, 40)), ended=local(practice, days_ago(today, 35)), status="ended"
    )
    pay(called, "100.00", days_ago(today, 5))  # 30 days after the call: recovered
    pay(called, "20.00", days_ago(today, 4), source=Payment.Source.PATIENT)  # the patient's: not the calls'
    too_late = ledger_claim(practice, served=days_ago(today, 90), charge="300.00")
    call(
        too_late,
        created=local(practice, days_ago(today, 40)),
        ended=local(practice, days_ago(today, 36)),
        status="ended",
    )
    pay(too_late, "200.00", days_ago(today, 5))  # 31 days after
    before = ledger_claim(practice, served=days_ago(today, 90), charge="300.00")
    call(before, created=local(practice, days_ago(today, 3)), ended=local(practice, days_ago(today, 3)), status="ended")
    pay(before, "50.00", days_ago(today, 4))  # paid before the call
    unanswered = ledger_claim(practice, served=days_ago(today, 90), charge="300.00")
    call(
        unanswered,
        created=local(practice, days_ago(today, 6)),
        ended=local(practice, days_ago(today, 6)),
        status="ended",
        failure_category="no_answer",
    )
    pay(unanswered, "70.00", days_ago(today, 1))  # the call reached nobody

    report = calling_operations(practice, calls["period"])

    assert (report.recovered, report.recovered_payments, report.recovered_claims) == (Decimal("100.00"), 1, 1)


def test_it_never_counts_another_practices_calls(practice, other_practice, calls):
    stranger = ClaimFactory(practice=other_practice, next_follow_up_date=calls["today"])
    call(stranger, created=local(other_practice, calls["today"]), status="ended", review_status="pending")

    report = calling_operations(practice, calls["period"])

    assert (report.calls, report.follow_ups_due, report.review_queue) == (6, 0, 0)


def test_its_query_count_does_not_grow_with_the_calls(practice, calls, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        calling_operations(practice, calls["period"])
    for n in range(12):
        claim = ledger_claim(practice, served=calls["today"], charge="20.00")
        call(
            claim,
            created=local(practice, days_ago(calls["today"], n)),
            ended=local(practice, days_ago(calls["today"], n)),
            status="ended",
        )
        pay(claim, "20.00", calls["today"])

    with django_assert_max_num_queries(6):
        report = calling_operations(practice, calls["period"])
    assert report.calls == 18
    assert report.recovered == Decimal("240.00")
