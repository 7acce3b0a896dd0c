from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO
from unittest import mock

import pytest
import time_machine
from django.core.management.base import CommandError

from billingpulse.tests.factories import PracticeFactory
from claims.tests.factories import ClaimFactory, PayerFactory
from telephony.management.commands import dispatch_followups, place_call
from telephony.models import Call, ScheduledCall
from telephony.providers import ProviderError
from telephony.tests.factories import ScheduledCallFactory
from telephony.tests.fake_provider import FakeProvider

NOW = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)  # a Tuesday, 09:00 in Chicago


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def provider():
    provider = FakeProvider()
    with mock.patch("telephony.services.get_provider", return_value=provider):
        yield provider


def _place(claim_number: str, practice: str | None = None) -> str:
    out = StringIO()
    place_call.Command(stdout=out).handle(claim_number=claim_number, practice=practice)
    return out.getvalue()


@pytest.mark.django_db
def test_it_places_a_call_about_a_claim_right_away(practice, provider):
    claim = ClaimFactory(practice=practice, claim_number="CLM-77", payer=PayerFactory(practice=practice, name="Aetna"))

    with mock.patch("telephony.tasks.place_call.delay") as delay:
        output = _place("clm-77")

    call = Call.objects.get()
    assert (call.claim, call.status, call.started_by) == (claim, Call.Status.DIALING, None)
    assert provider.started == [call.pk]
    assert output == (
        f"Queued call {call.pk} about claim CLM-77 to Aetna.\nCall {call.pk} placed (sandbox call fake-{call.pk}).\n"
    )
    delay.assert_not_called()


@pytest.mark.django_db
def test_it_says_until_when_a_call_waits(practice, provider):
    ClaimFactory(practice=practice, claim_number="CLM-77")

    with time_machine.travel(NOW - timedelta(hours=2), tick=False), mock.patch("telephony.tasks.place_call.delay"):
        output = _place("CLM-77")

    assert "waits until 2026-11-17 08:00:00 CST because the payer's line is closed." in output
    assert provider.started == []


@pytest.mark.django_db
def test_it_picks_the_practice_when_several_have_the_claim_number(practice, provider):
    other = PracticeFactory(name="Bravo Orthopedics")
    ClaimFactory(practice=practice, claim_number="CLM-77")
    theirs = ClaimFactory(practice=other, claim_number="CLM-77")

    with pytest.raises(CommandError, match="several practices"):
        _place("CLM-77")
    _place("CLM-77", practice="Bravo Orthopedics")
    with pytest.raises(CommandError, match="already queued or in progress"):
        _place("CLM-77", practice=str(other.pk))

    assert Call.objects.get().claim == theirs


@pytest.mark.django_db
def test_it_explains_why_no_call_was_placed(practice, provider):
    ClaimFactory(practice=practice, claim_number="CLM-1", payer=PayerFactory(practice=practice, phone=""))

    with pytest.raises(CommandError, match="No claim numbered CLM-404"):
        _place("CLM-404")
    with pytest.raises(CommandError, match="No practice"):
        _place("CLM-1", practice="Nowhere Clinic")
    with pytest.raises(CommandError, match="Add the payer's claims phone number first"):
        _place("CLM-1")


@pytest.mark.django_db
def test_it_fails_when_the_platform_refuses_the_call(practice, provider):
    ClaimFactory(practice=practice, claim_number="CLM-77")
    provider.error = ProviderError("invalid phone number")

    with pytest.raises(CommandError, match="could not be placed: invalid phone number"):
        _place("CLM-77")


@pytest.mark.django_db
def test_it_dispatches_due_follow_ups(practice):
    ScheduledCallFactory.create_batch(2, practice=practice, call_after=NOW - timedelta(minutes=5))
    ScheduledCallFactory(practice=practice)
    out = StringIO()

    with mock.patch("telephony.tasks.place_call.delay"):
        dispatch_followups.Command(stdout=out).handle()
        dispatch_followups.Command(stdout=out).handle()

    assert out.getvalue() == "Dispatched 2 follow-up calls.\nDispatched 0 follow-up calls.\n"
    assert ScheduledCall.objects.filter(status="dispatched").count() == 2
