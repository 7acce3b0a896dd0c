from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from billingpulse.tests.factories import PatientFactory, ProviderFactory
from claims.models import ClaimEvent
from claims.tests.factories import (
    ClaimEventFactory,
    ClaimFactory,
    ClaimLineFactory,
    InsurancePolicyFactory,
    PayerFactory,
)

TODAY = date(2026, 11, 20)
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel("2026-11-20 18:00:00+00:00", tick=False):
        yield


@pytest.fixture
def claim(practice):
    patient = PatientFactory(
        practice=practice, first_name="Eleanor", last_name="Whitfield", date_of_birth=date(1954, 3, 14)
    )
    payer = PayerFactory(practice=practice, name="Aetna", payer_id="60054", timely_filing_days=90)
    return ClaimFactory(
        practice=practice,
        claim_number="RB-24017",
        patient=patient,
        payer=payer,
        provider=ProviderFactory(practice=practice, first_name="Maya", last_name="Okafor", credentials="MD"),
        policy=InsurancePolicyFactory(practice=practice, patient=patient, payer=payer, member_id="W123456789"),
        service_date_from=TODAY - timedelta(days=78),
        service_date_to=TODAY - timedelta(days=77),
        diagnosis_codes=["E11.9", "I10"],
        total_charge=Decimal("1250.00"),
        allowed_amount=Decimal("900.00"),
        paid_amount=Decimal("500.00"),
        adjustment_amount=Decimal("100.00"),
        balance=Decimal("650.00"),
        status="denied",
        denial_code="CO-16",
        denial_reason="Claim lacks information needed for adjudication.",
        remark_codes=["N290"],
        last_call_outcome="Rep said to resubmit with the referral.",
        call_reference_number="REF-88213",
        next_follow_up_date=TODAY - timedelta(days=3),
    )


def test_it_shows_the_claim(owner_client, claim):
    body = owner_client.get(f"/claims/{claim.pk}/").content.decode()

    for text in [
        "RB-24017",
        "Eleanor Whitfield",
        "DOB 03/14/1954",
        "Aetna",
        "W123456789",
        "Maya Okafor, MD",
        "09/03/2026 – 09/04/2026",
        "$1,250.00",  # charge
        "$900.00",  # allowed
        "$650.00",  # balance: 1250 - 500 - 100
        "40.0% paid",
        "CO-16",
        "Claim lacks information needed for adjudication.",
        "N290",
        "Rep said to resubmit with the referral.",
        "REF-88213",
        "overdue by 3 days",
        "in 12 days",  # the deadline: 78 days since the date of service, of 90
    ]:
        assert text in body, text
    assert '<span class="badge status status-denied">Denied</span>' in body


def test_it_lets_staff_see_a_claim(teammate_client, claim):
    assert teammate_client.get(f"/claims/{claim.pk}/").status_code == 200


def test_it_says_when_the_deadline_has_passed(owner_client, practice):
    claim = ClaimFactory(practice=practice, payer__timely_filing_days=30, service_date_from=TODAY - timedelta(days=35))

    assert b"passed 5 days ago" in owner_client.get(f"/claims/{claim.pk}/").content


def test_it_lists_service_lines_and_diagnosis_pointers(owner_client, claim):
    ClaimLineFactory(
        claim=claim,
        line_number=1,
        procedure_code="99214",
        modifiers=["25"],
        charge=Decimal("310.00"),
        diagnosis_pointers="AB",
    )
    ClaimLineFactory(claim=claim, line_number=2, procedure_code="36415", place_of_service="11")

    body = owner_client.get(f"/claims/{claim.pk}/").content.decode()

    assert "99214" in body and "36415" in body
    assert "$310.00" in body
    assert '<span class="code-pointer">B</span><span class="mono">I10</span>' in body
    assert "No service lines" not in body


def test_it_says_when_there_are_no_service_lines(owner_client, claim):
    assert b"No service lines on this claim" in owner_client.get(f"/claims/{claim.pk}/").content


def test_it_shows_the_timeline_newest_first_in_the_practice_time_zone(owner_client, claim, owner, practice):
    practice.time_zone = "America/Los_Angeles"
    practice.save()
    ClaimEventFactory(claim=claim, kind=ClaimEvent.Kind.NOTE, message="First note", actor=owner)
    ClaimEvent.objects.create(
        claim=claim, kind=ClaimEvent.Kind.STATUS_CHANGED, from_status="submitted", to_status="denied", message="CO-16"
    )

    body = owner_client.get(f"/claims/{claim.pk}/").content.decode()

    assert body.index("Submitted → Denied") < body.index("First note")
    assert "Alice Admin" in body
    assert "Nov 20, 2026, 10:00 AM PST" in body  # 18:00 UTC


def test_it_shows_when_the_practice_was_emailed_in_the_practice_time_zone(owner_client, claim, practice):
    practice.time_zone = "America/Los_Angeles"
    practice.save()
    claim.notified_at = timezone.now()  # 18:00 UTC
    claim.save()

    body = owner_client.get(f"/claims/{claim.pk}/").content.decode()
    emailed = body[body.index("Practice emailed") :]
    emailed = emailed[: emailed.index("</dd>")]

    assert "Nov 20, 10:00 AM PST" in emailed
    assert "6:00 PM" not in emailed


def test_it_hides_another_practices_claim(owner_client, other_practice):
    claim = ClaimFactory(practice=other_practice)

    assert owner_client.get(f"/claims/{claim.pk}/").status_code == 404


def test_it_answers_404_for_an_unknown_claim(owner_client):
    assert owner_client.get("/claims/999999/").status_code == 404


def test_it_rejects_post(owner_client, claim):
    assert owner_client.post(f"/claims/{claim.pk}/").status_code == 405


def test_it_sends_anonymous_users_to_sign_in(client, claim):
    response = client.get(f"/claims/{claim.pk}/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_offers_only_the_moves_the_status_machine_allows(owner_client, practice):
    claim = ClaimFactory(practice=practice, status="paid", status_changed_at=timezone.now())

    body = owner_client.get(f"/claims/{claim.pk}/").content.decode()
    form = body[body.index('id="status-form"') :]
    options = form[: form.index("</select>")]

    assert 'value="reprocessing"' in options
    assert 'value="closed"' in options
    assert 'value="submitted"' not in options
