from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEntry
from billingpulse import services
from billingpulse.tests.factories import PracticeFactory, ProviderFactory, UserFactory
from claims.models import Claim
from claims.tests.factories import ClaimFactory, PayerFactory
from inbox.models import ActionItem
from reports.tests.helpers import call, days_ago, ledger_claim, local, pay, today_of
from telephony.models import Call
from telephony.tests.factories import CallFactory


@pytest.mark.django_db
def test_it_tells_a_new_practice_what_to_do_first(owner_client):
    response = owner_client.get("/")

    assert response.status_code == 200
    body = response.content.decode()
    assert "Get your practice ready" in body
    assert "Complete your practice profile" in body
    assert "Add a provider" in body
    assert "has not checked in yet" in body


@pytest.mark.django_db
def test_it_ticks_off_finished_steps(teammate_client, practice, owner):
    ProviderFactory(practice=practice)
    services.record_worker_heartbeat()

    body = teammate_client.get("/").content.decode()

    assert "1 provider on file" in body
    assert "2 active members" in body
    assert "Last check-in" in body
    # Staff see the steps but not the admin-only links.
    assert "/settings/practice/" not in body


@pytest.mark.django_db
def test_it_shows_the_practice_and_user_in_the_shell(owner_client):
    body = owner_client.get("/").content.decode()

    assert "Alpha Family Clinic" in body
    assert "Alice Admin" in body
    assert 'aria-current="page"' in body
    # htmx comes from the installed django-htmx package, never a CDN.
    assert "/static/django_htmx/htmx" in body
    # Every script and stylesheet is served by us: nothing from another host.
    assert re.findall(r'<script[^>]+src="([^"]+)"', body)
    assert all(src.startswith("/static/") for src in re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', body))


@pytest.mark.django_db
def test_it_explains_to_an_operator_without_a_practice(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("ops@billingpulse.example", "operator-pass-1"))

    response = client.get("/")

    assert response.status_code == 403
    assert b"This account has no practice" in response.content


@pytest.mark.django_db
def test_it_sends_anonymous_users_to_sign_in(client):
    assert client.get("/")["Location"] == "/accounts/login/?next=/"


# -- a practice with claims ---------------------------------------------------------------------


def _month_start(today: date) -> date:
    return today.replace(day=1)


@pytest.fixture
def data(practice):
    """Two payers with money owed, denials this month and last, today's calls, a review, a follow-up."""
    today = today_of(practice)
    now = timezone.now()
    aetna = PayerFactory(practice=practice, name="Aetna")
    cigna = PayerFactory(practice=practice, name="Cigna")
    owed_old = ledger_claim(practice, payer=aetna, served=days_ago(today, 45), charge="1250.00")
    ledger_claim(practice, payer=cigna, served=days_ago(today, 5), charge="300.00")
    denied = ClaimFactory(
        practice=practice, payer=aetna, status=Claim.Status.DENIED, denial_code="CO-16", status_changed_at=now
    )
    ActionItem.objects.create(practice=practice, claim=denied, reason=ActionItem.Reason.DENIED)
    ActionItem.objects.create(
        practice=practice, claim=denied, reason=ActionItem.Reason.CALL_FAILED, status=ActionItem.Status.DONE
    )
    ClaimFactory(
        practice=practice,
        payer=aetna,
        status=Claim.Status.DENIED,
        denial_code="CO-97",
        status_changed_at=local(practice, _month_start(today) - timedelta(days=3)),
    )
    ClaimFactory(practice=practice, payer=cigna, next_follow_up_date=today)
    # Paid today after a completed call today: recovered revenue, and a completed call.
    recovered = ledger_claim(practice, payer=cigna, served=days_ago(today, 20), charge="400.00")
    call(recovered, created=now, ended=now, status=Call.Status.ENDED)
    pay(recovered, "400.00", today)
    call(owed_old, created=now, status=Call.Status.FAILED, failure_category="provider_error")
    live = CallFactory(practice=practice, claim=owed_old, status=Call.Status.IN_PROGRESS, started_at=now)
    CallFactory(practice=practice, status=Call.Status.QUEUED)
    call(
        ClaimFactory(practice=practice, payer=aetna),
        created=now - timedelta(days=40),
        ended=now - timedelta(days=40),
        review_status=Call.ReviewStatus.PENDING,
    )
    return {"aetna": aetna, "cigna": cigna, "live": live, "today": today}


def _tiles(body: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


def test_it_shows_a_practice_with_claims_its_day(teammate_client, data):
    response = teammate_client.get("/")

    assert response.status_code == 200
    body = response.content.decode()
    text = _tiles(body)
    assert "Get your practice ready" not in body
    assert "$1,550.00 outstanding on 2 claims" in text
    assert "$400.00 recovered after calls this month (1 payment)" in text
    assert "1 claim with a follow-up due today" in text
    assert "1 call outcome waiting for review" in text
    assert "1 claims and payments needing action" in text
    assert "1 completed 1 not completed 1 on the line now 1 queued" in text
    assert "1 claim denied since" in text
    # Payers by what they owe, the age buckets, and this month's denial codes (not last month's).
    assert "Aetna: $1,250.00" in body and "Cigna: $300.00" in body
    assert "31–60 days: $1,250.00" in body
    assert "CO-16: 1" in body
    assert "CO-97" not in body


def test_it_links_every_bar_and_figure_to_the_worklist_or_its_page(teammate_client, data):
    body = teammate_client.get("/").content.decode()

    assert f'href="/claims/?status=all&amp;payer={data["aetna"].pk}"' in body
    assert 'href="/claims/?status=all&amp;age=31-60"' in body
    assert 'href="/claims/?status=denied&amp;denial_code=CO-16"' in body
    assert 'href="/claims/?follow_up=due"' in body
    assert 'href="/calls/review/"' in body
    assert 'href="/inbox/"' in body
    assert 'href="/reports/ar-aging/"' in body
    assert f'href="/calls/{data["live"].pk}/"' in body


def test_the_linked_worklist_shows_the_bars_claims(teammate_client, data):
    body = teammate_client.get("/claims/?status=denied&denial_code=CO-16").content.decode()

    assert body.count('class="claim-link mono"') == 1


def test_its_charts_are_accessible_and_need_no_inline_style_or_script(teammate_client, data):
    body = teammate_client.get("/").content.decode()

    svgs = re.findall(r"<svg\b.*?</svg>", body, re.S)
    assert len(svgs) == 3
    for svg in svgs:
        assert 'role="img"' in svg and "<title id=" in svg and "<desc id=" in svg
    assert body.count('<details class="chart-table">') == 3
    content = body[body.index("<main") :]
    assert " style=" not in content
    assert "<script>" not in content and "<script " not in re.sub(r'<script[^>]+src="[^"]+"', "", content)


def test_it_keeps_a_short_setup_note_while_steps_remain(teammate_client, owner_client, data):
    staff = teammate_client.get("/").content.decode()
    admin = owner_client.get("/").content.decode()

    assert "Finish setting up" in staff and "An admin completes the practice profile" in staff
    assert 'href="/settings/practice/"' not in staff
    assert 'href="/settings/practice/">Complete your practice profile' in admin


def test_it_never_shows_another_practices_figures(teammate_client, data, other_practice):
    today = today_of(other_practice)
    zeta = PayerFactory(practice=other_practice, name="Zeta Outsider Health")
    ledger_claim(other_practice, payer=zeta, served=days_ago(today, 100), charge="9999.00")
    ClaimFactory(
        practice=other_practice, status=Claim.Status.DENIED, denial_code="CO-50", status_changed_at=timezone.now()
    )
    CallFactory(practice=other_practice, status=Call.Status.IN_PROGRESS)
    CallFactory(practice=other_practice, status=Call.Status.QUEUED)
    for reason in (ActionItem.Reason.DENIED, ActionItem.Reason.NOT_ON_FILE):
        ActionItem.objects.create(practice=other_practice, claim=ClaimFactory(practice=other_practice), reason=reason)

    body = teammate_client.get("/").content.decode()

    assert "Zeta" not in body and "9,999" not in body and "CO-50" not in body
    assert "$1,550.00 outstanding on 2 claims" in _tiles(body)
    assert "1 on the line now 1 queued" in _tiles(body)
    assert "1 claims and payments needing action" in _tiles(body)


def _busy_practice(claims: int):
    """A practice of ``claims`` claims of three payers and all ages, some denied, some called."""
    practice = PracticeFactory()
    today = today_of(practice)
    payers = [PayerFactory(practice=practice) for _ in range(3)]
    now = timezone.now()
    for number in range(claims):
        claim = ledger_claim(practice, payer=payers[number % 3], served=days_ago(today, number * 3 % 200), charge="90")
        if number % 5 == 0:
            Claim.objects.filter(pk=claim.pk).update(
                status=Claim.Status.DENIED, denial_code=f"CO-{16 + number % 4}", status_changed_at=now
            )
        if number % 10 == 0:
            call(claim, created=now, ended=now, status=Call.Status.ENDED)
    CallFactory(practice=practice, status=Call.Status.IN_PROGRESS, claim__payer=payers[0])
    return UserFactory(practice=practice)


def test_it_runs_the_same_few_queries_for_10_or_200_claims(db):
    counts = []
    for size in (10, 200):
        client = Client()
        client.force_login(_busy_practice(size))
        client.get("/")
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/").status_code == 200
        counts.append(len(captured.captured_queries))

    assert counts[0] == counts[1]
    assert counts[0] <= 22


# -- the calls card refreshing itself ----------------------------------------------------------

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/"}


def test_the_calls_card_polls_while_a_call_is_on_the_line(teammate_client, data):
    page = teammate_client.get("/").content.decode()
    response = teammate_client.get("/", **HTMX)

    assert 'hx-trigger="every 5s"' in page
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="dashboard-calls"' in body and "<html" not in body
    assert 'hx-trigger="every 5s"' in body
    assert "1 on the line now" in _tiles(body)


def test_the_calls_card_stops_polling_once_no_call_is_queued_or_on_the_line(teammate_client, data):
    Call.objects.filter(status__in=[Call.Status.IN_PROGRESS, Call.Status.QUEUED]).update(status=Call.Status.ENDED)

    response = teammate_client.get("/", **HTMX)

    assert response.status_code == 286
    body = response.content.decode()
    assert 'id="dashboard-calls"' in body and "hx-trigger" not in body
    assert "0 on the line now 0 queued" in _tiles(body)
    assert 'hx-trigger="every 5s"' not in teammate_client.get("/").content.decode()


def test_the_calls_card_refreshing_is_not_recorded_as_a_page_view(teammate_client, data):
    before = AuditEntry.objects.count()

    for _ in range(3):
        teammate_client.get("/", **HTMX)

    assert AuditEntry.objects.count() == before


def test_the_calls_card_counts_only_the_practices_own_calls(teammate_client, data, other_practice):
    CallFactory.create_batch(2, practice=other_practice, status=Call.Status.IN_PROGRESS)

    body = teammate_client.get("/", **HTMX).content.decode()

    assert "1 on the line now" in _tiles(body)
