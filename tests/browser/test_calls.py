"""A biller calls payers from the worklist and watches sandbox calls happen, in a real browser.

No Celery worker runs here (and no global eager mode): placing a call runs in the request
that queued it, the post-call pipeline runs in the webhook request that stored the report,
and the sandbox's scheduling seam is replaced by a thread that posts the call's events,
signed, to the live server's webhook a moment apart. Everything after that, the webhook's
checks, the ingestion, the outcome's extraction and application, and the pages' polling,
is the real code.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
import zoneinfo
from datetime import date, timedelta
from datetime import time as clock
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from billingpulse.models import User
from billingpulse.tests.factories import PatientFactory, PracticeFactory, ProviderFactory, UserFactory
from claims.models import Claim
from claims.tests.factories import ClaimFactory, ClaimLineFactory, InsurancePolicyFactory, PayerFactory
from telephony import pipeline, sandbox, services, webhook
from telephony.models import Call
from telephony.sandbox.script import FAILURES, ClaimFacts, write_call
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EVENT_PAUSE_SECONDS = 0.8
PATIENTS = [
    ("Eleanor", "Whitfield", "W482019375"),
    ("Marcus", "Bell", "H771203948"),
    ("Sofia", "Alvarez", "U339201847"),
]


@pytest.fixture
def telephony(settings, live_server):
    """The webhook at the live server, pacing that lets every call go now, Celery kept out."""
    settings.SITE_URL = live_server.url
    settings.VAPI_WEBHOOK_SECRET = ""
    settings.VAPI_WEBHOOK_HMAC_SECRET = "browser-test-hmac"
    settings.REDIS_URL = ""
    settings.CALL_RATE_LIMIT = 10
    settings.TELEPHONY_PROVIDER = "sandbox"
    threads: list[threading.Thread] = []

    def place_now(call_id: int) -> None:
        services.place_call(call_id)

    def deliver_soon(call_id: int, provider_call_id: str, steps: int) -> None:
        # Bodies are built here, in the server's request thread; the thread only signs and posts.
        bodies = [sandbox.event_body(call_id, provider_call_id, step) for step in range(1, steps + 1)]

        def post_all() -> None:
            for body in bodies:
                time.sleep(EVENT_PAUSE_SECONDS)
                sandbox.send(body, webhook.sign(body))

        thread = threading.Thread(target=post_all, daemon=True)
        threads.append(thread)
        thread.start()

    with (
        mock.patch("telephony.tasks.place_call.delay", side_effect=place_now),
        mock.patch("telephony.tasks.run_post_call_pipeline.delay", side_effect=pipeline.run_post_call_pipeline),
        mock.patch("telephony.tasks.notify_call_outcome.delay", side_effect=pipeline.notify),
        mock.patch.object(sandbox, "schedule", deliver_soon),
    ):
        yield
    for thread in threads:
        thread.join(timeout=10)


@pytest.fixture
def biller():
    practice = PracticeFactory(name="Riverbend Family Medicine", time_zone="America/Chicago", npi="1457392816")
    user = UserFactory(
        email="jordan@riverbend.example", full_name="Jordan Avery", practice=practice, role=User.Role.ADMIN
    )
    provider = ProviderFactory(practice=practice, first_name="Maya", last_name="Okafor", credentials="MD")
    payers = [
        _always_open(PayerFactory(practice=practice, name=name, payer_id=payer_id, phone=phone))
        for name, payer_id, phone in [
            ("Aetna", "60054", "+18005550142"),
            ("UnitedHealthcare", "87726", "+18775550199"),
            ("Cigna", "62308", "+18005550173"),
        ]
    ]
    payers[0].ivr_config = {
        "steps": [
            {
                "prompt": "For eligibility press 1, for claim status press 2",
                "options": {"1": "eligibility", "2": "claims"},
            },
            {"prompt": "Please say the reason for your call", "say": "Claim status"},
        ]
    }
    payers[0].save()
    for n, (first, last, member_id) in enumerate(PATIENTS):
        patient = PatientFactory(
            practice=practice, first_name=first, last_name=last, date_of_birth=date(1954 + 7 * n, 3, 14)
        )
        claim = ClaimFactory(
            practice=practice,
            patient=patient,
            payer=payers[n],
            provider=provider,
            policy=InsurancePolicyFactory(practice=practice, patient=patient, payer=payers[n], member_id=member_id),
            claim_number=f"RB-2401{n + 7}",
            service_date_from=date.today() - timedelta(days=40 + 9 * n),
            total_charge=Decimal("285.00") + 100 * n,
            status="denied" if n == 1 else "submitted",
            denial_code="CO-16" if n == 1 else "",
            denial_reason="Claim lacks information needed for adjudication." if n == 1 else "",
        )
        ClaimLineFactory(claim=claim, line_number=1, procedure_code="99214", charge=claim.total_charge)
    return user


def _always_open(payer):
    """Open every day, in a US time zone where it is not in the last quarter hour before midnight."""
    for zone in ("America/Chicago", "America/New_York", "America/Los_Angeles"):
        if timezone.localtime(timezone=zoneinfo.ZoneInfo(zone)).time() < clock(23, 30):
            break
    payer.time_zone, payer.open_weekdays, payer.opens_at, payer.closes_at = zone, "0123456", clock(0), clock(23, 59)
    payer.save()
    return payer


def _answered_ids(count: int) -> list[uuid.UUID]:
    """Call ids whose simulated call reaches a representative for every claim, so each has a transcript."""
    facts = [ClaimFacts.for_claim(claim) for claim in Claim.objects.all()]
    today = timezone.localdate()
    chosen = []
    for n in range(500):
        candidate = uuid.uuid5(uuid.NAMESPACE_URL, f"browser-test-{n}")
        scripts = [write_call(fact, f"sbx-{candidate}", call_date=today) for fact in facts]
        if all(script.outcome not in FAILURES for script in scripts):
            chosen.append(candidate)
        if len(chosen) == count:
            return chosen
    raise AssertionError("no suitable sandbox call ids")


def test_it_calls_payers_from_the_worklist(page, biller, telephony, screenshot, server_idle):
    ids = iter(_answered_ids(3))
    with mock.patch.object(sandbox, "new_call_id", side_effect=lambda: f"sbx-{next(ids)}"):
        sign_in(page, biller.email)
        page.goto("/claims/")
        expect(page.locator("#claim-table tbody tr")).to_have_count(3)
        page.evaluate("window.__noReload = true")

        # Select two claims and call their payers.
        page.get_by_label("Select claim RB-24017").check()
        page.get_by_label("Select claim RB-24018").check()
        expect(page.locator("[data-selection-count]")).to_have_text("2 selected")
        page.get_by_role("button", name="Call selected").click()

        expect(page.locator("#messages")).to_contain_text("2 calls queued.")
        # The table refreshed itself (no page load) and says calls are under way.
        expect(page.locator("#claim-table")).to_contain_text(re.compile(r"calls? under way"))
        assert page.evaluate("window.__noReload") is True
        expect(page.get_by_label("Select claim RB-24017")).not_to_be_checked()
        with server_idle:  # the sandbox's webhooks are arriving
            assert Call.objects.count() == 2
        screenshot(page, "worklist-calling")

        # The calls list follows the calls until they end.
        page.get_by_role("link", name=re.compile(r"calls? under way")).click()
        expect(page.locator("#call-table tbody tr")).to_have_count(2)
        screenshot(page, "calls-list-live")
        page.get_by_label("Active calls only").uncheck()
        expect(page.locator("#call-table tbody .call-status")).to_have_text(["Ended", "Ended"], timeout=20_000)
        # The status says "ended" first; the transcript and summary come with the report just after.
        expect(page.locator("#call-table .call-summary")).to_have_count(2, timeout=10_000)
        expect(page.locator("#call-table .live-indicator")).to_have_count(0, timeout=10_000)
        expect(page.locator("#call-table")).to_contain_text("RB-24017")
        screenshot(page, "calls-list")

    # A call's page: the transcript by speaker, the summary and the platform's events.
    page.locator("#call-table tbody tr", has_text="RB-24017").get_by_role("link").first.click()
    expect(page.get_by_role("heading", name=re.compile("Call about RB-24017"))).to_be_visible()
    transcript = page.locator(".transcript")
    expect(transcript.locator(".turn-agent").first).to_be_visible()
    expect(transcript).to_contain_text("Eleanor Whitfield")
    expect(transcript).to_contain_text("For eligibility press 1, for claim status press 2")
    expect(transcript.locator(".turn-keys").first).to_contain_text("Pressed 2")
    expect(transcript.locator(".turn-representative").first).to_be_visible()
    expect(page.locator("#summary-title + p")).to_contain_text("RB-24017")
    # The outcome was read from the transcript, with its evidence, and applied to the claim.
    outcome = page.locator("#outcome-title + dl")
    expect(outcome).to_contain_text("Claim status")
    expect(page.locator(".evidence li").first).to_be_visible()
    expect(page.locator(".outcome-source")).to_contain_text("Read by rules")
    with server_idle:  # the other call's report may still be going through the pipeline
        call = Call.objects.get(claim__claim_number="RB-24017")
        claim = Claim.objects.get(claim_number="RB-24017")
    assert call.status == Call.Status.ENDED and call.report_received_at is not None
    assert call.outcome["claim_status"] != "unknown" and call.outcome["evidence"]
    assert claim.status == call.outcome["claim_status"] and claim.last_call_outcome
    screenshot(page, "call-detail")

    # The claim page has the call, and takes a follow-up call.
    page.get_by_role("link", name="RB-24017").first.click()
    card = page.locator("#claim-calls")
    expect(card.locator(".call-history li")).to_have_count(1)
    in_a_week = timezone.localdate() + timedelta(days=7)
    card.get_by_label("Date").fill(in_a_week.isoformat())
    card.get_by_label("Time").fill("09:30")
    card.get_by_label("Purpose").fill("Check that the corrected claim was received")
    card.get_by_role("button", name="Schedule a call").click()
    expect(page.locator("#messages")).to_contain_text("Follow-up call scheduled for")
    expect(card.locator(".followup-list li", has_text="corrected claim was received")).to_have_count(1)
    expect(page.locator("#timeline-events")).to_contain_text("Follow-up call scheduled")
    screenshot(page, "claim-calls-card")

    # Queue and follow-ups.
    page.goto("/calls/queue/")
    expect(page.locator(".queue-table tbody tr")).to_have_count(3)
    expect(page.locator(".queue-table")).to_contain_text("1 of 10")
    screenshot(page, "queue")

    page.goto("/calls/follow-ups/")
    mine = page.locator(".followup-table tbody tr", has_text="Check that the corrected claim was received")
    expect(mine).to_have_count(1)
    screenshot(page, "follow-ups")
    page.get_by_role("button", name="Cancel the follow-up call about RB-24017").click()
    expect(page.locator("#messages")).to_contain_text("Follow-up call about RB-24017 canceled.")
    expect(mine).to_have_count(0)
