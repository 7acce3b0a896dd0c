"""Items open on the events that hand work to a person, and on refresh; they close themselves."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command

from ai.outcome import CallOutcome
from billing.era.demo import ClaimPaid, build_835
from billing.era.posting import held_queue, post_held, post_remittance, preview
from billing.tests.factories import ExpectedPaymentFactory, insurance_payment, posted_claim
from billingpulse.tests.factories import UserFactory
from claims import services as claim_services
from claims.models import Claim
from claims.tests.factories import ClaimFactory, PayerFactory
from inbox import selectors, services
from inbox.models import ActionItem
from telephony import pipeline
from telephony import services as telephony
from telephony.models import Call, CallEvent
from telephony.status import FailureCategory
from telephony.tests.factories import CallFactory

pytestmark = pytest.mark.django_db
R = ActionItem.Reason
# Wednesday 18 Nov 2026, 15:00 UTC: mid-morning in New York.
NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _wednesday():
    with time_machine.travel(NOW, tick=False):
        yield


def _open(**lookup) -> list[ActionItem]:
    return list(ActionItem.objects.filter(status="open", **lookup))


# ---------------------------------------------------------------------------- claim statuses


@pytest.mark.parametrize(
    ("status", "reason"), [("denied", R.DENIED), ("not_on_file", R.NOT_ON_FILE), ("pending_info", R.PENDING_INFO)]
)
def test_it_opens_an_item_when_a_claim_moves_to_a_status_that_needs_the_practice(practice, owner, status, reason):
    claim = ClaimFactory(practice=practice, next_steps="Send the operative report.")

    claim_services.change_status(claim, status, actor=owner, reason="Payer said so.")

    [item] = _open(claim=claim)
    assert item.reason == reason and item.practice == practice and item.assignee is None
    assert item.detail
    # Three business days from Wednesday: Monday.
    assert item.due_date == date(2026, 11, 23)


def test_it_is_due_by_the_timely_filing_deadline_when_that_comes_sooner(practice, owner):
    payer = PayerFactory(practice=practice, timely_filing_days=90)
    claim = ClaimFactory(practice=practice, payer=payer, service_date_from=date(2026, 8, 21))
    assert claim.timely_filing_deadline == date(2026, 11, 19)

    claim_services.change_status(claim, "denied", actor=owner, reason="CO-50")

    assert ActionItem.objects.get(claim=claim).due_date == date(2026, 11, 19)


def test_it_keeps_one_open_item_per_claim_and_reason(practice, owner):
    claim = ClaimFactory(practice=practice)
    first = services.open_item(R.DENIED, claim=claim, detail="First word.")
    first.assignee = owner
    first.save()

    again = services.open_item(R.DENIED, claim=claim, detail="Second word.")

    assert again.pk == first.pk and again.assignee == owner and again.detail == "Second word."
    assert ActionItem.objects.count() == 1


def test_the_database_refuses_a_second_open_item_for_the_same_claim_and_reason(practice):
    from django.db import IntegrityError, transaction

    claim = ClaimFactory(practice=practice)
    services.open_item(R.DENIED, claim=claim)
    with pytest.raises(IntegrityError), transaction.atomic():
        ActionItem.objects.create(practice=practice, claim=claim, reason=R.DENIED)
    # A done item does not count: the next event opens a new one.
    ActionItem.objects.update(status="done")
    services.open_item(R.DENIED, claim=claim)
    assert ActionItem.objects.filter(claim=claim).count() == 2


def test_it_closes_the_denied_item_once_the_claim_is_appealed_and_everything_once_paid(practice, owner):
    claim = ClaimFactory(practice=practice, status="denied")
    services.open_item(R.DENIED, claim=claim)
    services.open_item(R.ACTION_REQUIRED, claim=claim, detail="Send records.")

    claim_services.change_status(claim, "appealed", actor=owner)
    assert [item.reason for item in _open(claim=claim)] == [R.ACTION_REQUIRED]
    closed = ActionItem.objects.get(reason=R.DENIED)
    assert (closed.status, closed.resolution) == ("done", "auto")

    claim_services.change_status(claim, "closed", actor=owner, reason="Paid by the patient.")
    assert _open(claim=claim) == []


def test_a_payment_that_settles_the_claim_closes_its_items(practice, owner):
    claim = posted_claim("100.00", practice=practice, status="denied")
    services.open_item(R.DENIED, claim=claim)

    insurance_payment(claim, "100.00")

    claim.refresh_from_db()
    assert claim.status == "paid"
    assert _open(claim=claim) == []


# ---------------------------------------------------------------------------- calls


def _ended(claim, category, attempt=1) -> Call:
    return CallFactory(
        practice=claim.practice, claim=claim, status=Call.Status.FAILED, failure_category=category, attempt=attempt
    )


def test_calls_that_failed_after_their_retries_open_an_item(practice, settings):
    settings.CALL_MAX_ATTEMPTS = 3
    claim = ClaimFactory(practice=practice)
    call = _ended(claim, FailureCategory.NO_ANSWER, attempt=3)

    telephony.handle_call_end(call.pk)
    telephony.handle_call_end(call.pk)

    [item] = _open(claim=claim)
    assert item.reason == R.CALL_FAILED and "Stopped calling" in item.detail


def test_a_call_that_gets_through_closes_the_failed_calls_item(practice):
    claim = ClaimFactory(practice=practice, status="in_process")
    services.open_item(R.CALL_FAILED, claim=claim, detail="No answer.")
    call = CallFactory(practice=practice, claim=claim, report_received_at=NOW)
    outcome = CallOutcome(claim_status="in_process", call_outcome="follow_up", human_reached=True)

    pipeline.follow_up(call, outcome)

    assert _open(claim=claim) == []


def test_a_payer_asking_the_practice_for_something_opens_an_item(practice):
    claim = ClaimFactory(practice=practice, status="in_process")
    call = CallFactory(practice=practice, claim=claim, report_received_at=NOW, ended_at=NOW)
    outcome = CallOutcome(
        claim_status="pending_info",
        call_outcome="action_required",
        human_reached=True,
        next_steps="Fax the itemized bill to 555-0100.",
    )
    Call.objects.filter(pk=call.pk).update(outcome=outcome.to_json())
    CallEvent.objects.create(call=call, kind="pipeline-extract", dedupe_key=pipeline.dedupe_key(call.pk))

    pipeline.run_post_call_pipeline(call.pk)
    pipeline.run_post_call_pipeline(call.pk)

    items = {item.reason: item for item in _open(claim=claim)}
    assert set(items) == {R.ACTION_REQUIRED, R.PENDING_INFO}
    assert "Fax the itemized bill" in items[R.ACTION_REQUIRED].detail
    assert "Fax the itemized bill" in items[R.PENDING_INFO].detail


# ---------------------------------------------------------------------------- ERA


def test_an_era_payment_held_unmatched_opens_an_item_that_posting_it_closes(practice, owner):
    data = build_835(
        [ClaimPaid("NOPE-7", Decimal("50.00"), Decimal("40.00"), adjustments=[("CO", "45", Decimal("10.00"))])],
        trace="T1",
    )
    post_remittance(preview(practice, data), actor=owner, hold_unmatched=True)
    row = held_queue(practice).get()

    [item] = _open(remittance_claim=row)
    assert item.reason == R.UNMATCHED_ERA and item.claim is None and "NOPE-7" in item.detail
    assert services.refresh(practice) == {"opened": 0, "closed": 0}

    claim = posted_claim("50.00", practice=practice)
    post_held(row, claim, actor=owner)
    assert _open(remittance_claim=row) == []


def test_an_era_denial_opens_a_denied_item(practice, owner):
    claim = posted_claim("80.00", practice=practice, claim_number="DEN-1")
    data = build_835(
        [ClaimPaid("DEN-1", Decimal("80.00"), Decimal("0.00"), status="4", adjustments=[("CO", "50", Decimal("80"))])],
        trace="T2",
    )
    post_remittance(preview(practice, data), actor=owner)

    claim.refresh_from_db()
    assert claim.status == "denied"
    [item] = _open(claim=claim)
    assert item.reason == R.DENIED


# ---------------------------------------------------------------------------- refresh


def test_refresh_derives_items_from_the_current_state_once(practice, other_practice):
    denied = ClaimFactory(practice=practice, status="denied", status_changed_at=NOW - timedelta(days=3))
    pending = ClaimFactory(practice=practice, status="pending_info")
    not_on_file = ClaimFactory(practice=other_practice, status="not_on_file")
    ClaimFactory(practice=practice, status="in_process")

    assert services.refresh() == {"opened": 3, "closed": 0}
    assert services.refresh() == {"opened": 0, "closed": 0}

    assert {(i.claim_id, i.reason) for i in ActionItem.objects.all()} == {
        (denied.pk, R.DENIED),
        (pending.pk, R.PENDING_INFO),
        (not_on_file.pk, R.NOT_ON_FILE),
    }


def test_refresh_closes_items_whose_condition_no_longer_holds(practice):
    claim = ClaimFactory(practice=practice, status="denied")
    services.open_item(R.DENIED, claim=claim)
    Claim.objects.filter(pk=claim.pk).update(status="written_off")

    assert services.refresh(practice) == {"opened": 0, "closed": 1}
    assert ActionItem.objects.get().resolution == "auto"


def test_refresh_does_not_reopen_what_a_person_marked_done(practice, owner):
    claim = ClaimFactory(practice=practice, status="denied", status_changed_at=NOW - timedelta(days=1))
    services.refresh(practice)
    services.mark_done(ActionItem.objects.get(), actor=owner)

    assert services.refresh(practice)["opened"] == 0
    # A new denial is a new event.
    Claim.objects.filter(pk=claim.pk).update(status_changed_at=NOW + timedelta(minutes=1))
    with time_machine.travel(NOW + timedelta(minutes=2), tick=False):
        assert services.refresh(practice)["opened"] == 1


def test_refresh_opens_an_item_for_an_expected_payment_overdue_and_closes_it_when_paid(practice):
    claim = posted_claim("112.40", practice=practice, status="in_process")
    ExpectedPaymentFactory(practice=practice, claim=claim, amount=Decimal("112.40"), payment_date=date(2026, 11, 10))
    assert services.refresh(practice)["opened"] == 0  # within the grace period

    with time_machine.travel(NOW + timedelta(days=10), tick=False):
        assert services.refresh(practice)["opened"] == 1
        [item] = _open(claim=claim)
        assert item.reason == R.PAYMENT_OVERDUE and "$112.40" in item.detail

        insurance_payment(claim, "112.40")
        assert _open(claim=claim) == []


def test_the_refresh_command_reports_what_it_did(practice, capsys):
    ClaimFactory(practice=practice, status="denied")
    call_command("refresh_inbox", practice=practice.pk)
    assert "Opened 1 item; closed 0 items." in capsys.readouterr().out


# ---------------------------------------------------------------------------- a person's actions


def test_assign_snooze_and_done(practice, owner, teammate):
    item = services.open_item(R.DENIED, claim=ClaimFactory(practice=practice))

    services.assign(item, teammate, actor=owner)
    assert selectors.nav_count(practice, teammate) == 1 and selectors.nav_count(practice, owner) == 0

    services.snooze(item, date(2026, 11, 21), actor=teammate)
    assert selectors.nav_count(practice, teammate) == 0
    with time_machine.travel(datetime(2026, 11, 21, 15, 0, tzinfo=UTC), tick=False):
        assert selectors.nav_count(practice, teammate) == 1

    services.mark_done(item, actor=teammate)
    item.refresh_from_db()
    assert (item.status, item.resolution, item.done_by) == ("done", "person", teammate)
    with pytest.raises(ValidationError, match="already done"):
        services.mark_done(item, actor=owner)


def test_it_refuses_an_assignee_of_another_practice_and_a_snooze_into_the_past(practice, owner, outsider):
    item = services.open_item(R.DENIED, claim=ClaimFactory(practice=practice))
    with pytest.raises(ValidationError, match="member of your practice"):
        services.assign(item, outsider, actor=owner)
    with pytest.raises(ValidationError, match="after today"):
        services.snooze(item, date(2026, 11, 18), actor=owner)
    inactive = UserFactory(practice=practice, is_active=False)
    with pytest.raises(ValidationError):
        services.assign(item, inactive, actor=owner)
