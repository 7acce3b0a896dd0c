from __future__ import annotations

import re

import pytest

from claims.tests.factories import ClaimFactory, PayerFactory
from reports.tests.helpers import call, days_ago, ledger_claim, local, today_of

pytestmark = pytest.mark.django_db

PAGES = ["/reports/denial-trends/", "/reports/payer-performance/", "/reports/ar-aging/", "/reports/calling-operations/"]


@pytest.fixture
def data(practice):
    today = today_of(practice)
    aetna = PayerFactory(practice=practice, name="Aetna")
    ClaimFactory(practice=practice, payer=aetna, service_date_from=days_ago(today, 5), denial_code="CO-16")
    claim = ledger_claim(practice, payer=aetna, served=days_ago(today, 45), charge="1250.00")
    call(claim, created=local(practice, today), status="ended", failure_category="voicemail")
    return {"aetna": aetna, "claim": claim}


def test_the_nav_goes_to_the_reports_index_with_the_four_reports(teammate_client):
    body = teammate_client.get("/reports/").content.decode()

    assert 'href="/reports/" class="nav-link nav-reports" aria-current="page"' in body
    for page in PAGES:
        assert f'href="{page}"' in body
    assert "Coming soon" not in body


@pytest.mark.parametrize("url", PAGES)
def test_each_report_renders_accessible_charts_for_a_member(teammate_client, data, url):
    response = teammate_client.get(url)

    assert response.status_code == 200
    body = response.content.decode()
    svgs = re.findall(r"<svg\b.*?</svg>", body, re.S)
    assert svgs
    for svg in svgs:
        assert 'role="img"' in svg and "<title id=" in svg and "<desc id=" in svg
    assert body.count('<details class="chart-table">') == len(svgs)
    assert "<table" in body
    # Nothing a strict CSP would block: no inline style or script in what the reports render.
    content = body[body.index("<main") :] if "<main" in body else body
    assert " style=" not in content
    assert "<script>" not in content and "<script " not in re.sub(r'<script[^>]+src="[^"]+"', "", content)


def test_aging_links_each_amount_to_the_filtered_worklist(owner_client, data):
    body = owner_client.get("/reports/ar-aging/").content.decode()

    href = f'href="/claims/?status=all&amp;payer={data["aetna"].pk}&amp;age=31-60"'
    assert href in body
    assert "$1,250.00" in body


def test_denial_codes_link_to_the_worklist(owner_client, data):
    body = owner_client.get("/reports/denial-trends/").content.decode()

    assert 'href="/claims/?denial_code=CO-16&amp;status=all"' in body


def test_the_period_picker_changes_the_period_and_a_bad_period_says_so(owner_client, data):
    body = owner_client.get("/reports/calling-operations/?days=30").content.decode()
    assert 'href="?days=30" aria-current="true"' in body

    response = owner_client.get("/reports/denial-trends/?days=abc")
    assert response.status_code == 200
    assert "Give the number of days as a whole number" in response.content.decode()
    assert 'href="?days=90" aria-current="true"' in response.content.decode()


def test_payer_performance_says_hold_time_is_not_recorded(owner_client, data):
    assert "Hold time is not recorded" in owner_client.get("/reports/payer-performance/").content.decode()


def test_another_practices_figures_never_show(outsider_client, data):
    body = outsider_client.get("/reports/ar-aging/").content.decode()

    assert "Aetna" not in body
    assert "$1,250.00" not in body


@pytest.mark.parametrize("url", ["/reports/", *PAGES])
def test_anonymous_users_are_sent_to_sign_in(client, url):
    assert client.get(url)["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", ["/reports/", *PAGES])
def test_it_only_answers_get(owner_client, url):
    assert owner_client.post(url).status_code == 405


def test_an_empty_practice_sees_empty_reports_not_errors(owner_client):
    for url in PAGES:
        response = owner_client.get(url)
        assert response.status_code == 200
        assert "nothing in this period" in response.content.decode().lower()
