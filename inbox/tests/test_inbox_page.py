"""/inbox/: the list, its tabs and filters, and assigning, snoozing and closing an item."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from claims.tests.factories import ClaimFactory
from inbox import services
from inbox.models import ActionItem

pytestmark = pytest.mark.django_db
R = ActionItem.Reason


@pytest.fixture
def item(practice):
    claim = ClaimFactory(practice=practice, claim_number="INB-1", status="denied")
    return services.open_item(R.DENIED, claim=claim, detail="Denied CO-50: not medically necessary.")


def test_it_lists_the_open_items_with_their_reason(owner_client, item):
    response = owner_client.get("/inbox/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "INB-1" in html and "Denied CO-50: not medically necessary." in html
    assert 'class="badge inbox-reason inbox-reason-denied"' in html


def test_a_teammate_sees_the_practices_items_too(teammate_client, item):
    assert "INB-1" in teammate_client.get("/inbox/").content.decode()


def test_it_never_shows_another_practices_items(outsider_client, item):
    html = outsider_client.get("/inbox/?view=all").content.decode()
    assert "INB-1" not in html and "Nothing needs you right now" not in html


def test_the_empty_inbox_says_what_lands_here(owner_client):
    html = owner_client.get("/inbox/").content.decode()
    assert "Nothing needs you right now" in html and "ERA payment matched no claim" in html


def test_tabs_and_reason_filter(owner_client, owner, teammate, practice, item):
    other = services.open_item(R.NOT_ON_FILE, claim=ClaimFactory(practice=practice, claim_number="INB-2"))
    services.assign(other, teammate, actor=owner)

    assert "INB-2" not in owner_client.get("/inbox/").content.decode()  # for me: mine and unassigned
    assert "INB-2" in owner_client.get("/inbox/?view=all").content.decode()
    assert "INB-1" not in owner_client.get("/inbox/?view=mine").content.decode()
    assert "INB-1" in owner_client.get("/inbox/?view=unassigned").content.decode()
    filtered = owner_client.get("/inbox/?view=all&reason=not_on_file").content.decode()
    assert "INB-2" in filtered and "INB-1" not in filtered
    # Unknown values fall back to the defaults instead of failing.
    assert owner_client.get("/inbox/?view=nope&reason=nope&page=zzz").status_code == 200


def test_htmx_filtering_answers_with_the_results_only(owner_client, item):
    html = owner_client.get("/inbox/?view=all", headers={"HX-Request": "true"}).content.decode()
    assert 'id="inbox-results"' in html and "<html" not in html


def test_it_assigns_an_item_to_a_teammate(owner_client, teammate, item):
    response = owner_client.post(f"/inbox/{item.pk}/assign/", {"assignee": teammate.pk, "next": "/inbox/?view=all"})
    assert response.status_code == 302 and response["Location"] == "/inbox/?view=all"
    item.refresh_from_db()
    assert item.assignee == teammate


def test_assigning_with_htmx_answers_with_the_row_messages_and_badge(owner_client, teammate, item):
    response = owner_client.post(f"/inbox/{item.pk}/assign/", {"assignee": teammate.pk}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert f'id="item-{item.pk}"' in html and "<html" not in html
    assert "assigned to Bob Biller" in html
    assert 'id="nav-inbox-count" class="nav-count" hx-swap-oob="true"' in html


def test_it_refuses_an_assignee_of_another_practice_with_a_message(owner_client, outsider, item):
    response = owner_client.post(f"/inbox/{item.pk}/assign/", {"assignee": outsider.pk}, follow=True)
    assert "Choose an active member of your practice." in response.content.decode()
    item.refresh_from_db()
    assert item.assignee is None


def test_it_snoozes_for_some_days_or_until_a_date(owner_client, practice, item):
    today = practice.today()
    owner_client.post(f"/inbox/{item.pk}/snooze/", {"days": "3"})
    item.refresh_from_db()
    assert item.snoozed_until == today + timedelta(days=3)

    until = today + timedelta(days=20)
    owner_client.post(f"/inbox/{item.pk}/snooze/", {"days": "date", "until": until.isoformat()})
    item.refresh_from_db()
    assert item.snoozed_until == until
    row = f'id="item-{item.pk}"'
    assert row not in owner_client.get("/inbox/").content.decode()
    assert row in owner_client.get("/inbox/?view=snoozed").content.decode()

    owner_client.post(f"/inbox/{item.pk}/wake/")
    item.refresh_from_db()
    assert item.snoozed_until is None


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"days": "date", "until": "2026-02-31"}, "Enter the day as YYYY-MM-DD."),
        ({"days": "date"}, "Choose the day the item should come back."),
        ({"days": "date", "until": "2001-01-01"}, "Choose a day after today."),
        ({"days": "99"}, "Select a valid choice."),
    ],
)
def test_a_bad_snooze_gives_a_message_not_an_error(owner_client, item, data, words):
    response = owner_client.post(f"/inbox/{item.pk}/snooze/", data, follow=True)
    assert response.status_code == 200 and words in response.content.decode()
    item.refresh_from_db()
    assert item.snoozed_until is None


def test_it_marks_an_item_done_once(owner_client, owner, item):
    owner_client.post(f"/inbox/{item.pk}/done/")
    item.refresh_from_db()
    assert (item.status, item.done_by) == ("done", owner)

    response = owner_client.post(f"/inbox/{item.pk}/done/", follow=True)
    assert "This item is already done." in response.content.decode()


@pytest.mark.parametrize("action", ["assign", "snooze", "wake", "done"])
def test_another_practices_item_is_not_found(outsider_client, item, action):
    assert outsider_client.post(f"/inbox/{item.pk}/{action}/", {"days": "1"}).status_code == 404
    assert outsider_client.post(f"/inbox/999999/{action}/").status_code == 404
    item.refresh_from_db()
    assert item.status == "open" and item.snoozed_until is None


def test_actions_need_post_and_the_list_needs_a_sign_in(client, owner_client, item):
    assert owner_client.get(f"/inbox/{item.pk}/done/").status_code == 405
    assert owner_client.post("/inbox/").status_code == 405
    response = client.get("/inbox/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_next_address_never_leaves_the_site(owner_client, item):
    response = owner_client.post(f"/inbox/{item.pk}/wake/", {"next": "https://evil.example/"})
    assert response["Location"] == "/inbox/"


def test_the_navigation_shows_the_count_in_one_query(owner_client, owner, teammate, practice, item):
    services.open_item(R.NOT_ON_FILE, claim=ClaimFactory(practice=practice))
    mine = services.open_item(R.PENDING_INFO, claim=ClaimFactory(practice=practice))
    services.assign(mine, owner, actor=owner)
    theirs = services.open_item(R.PAYMENT_OVERDUE, claim=ClaimFactory(practice=practice))
    services.assign(theirs, teammate, actor=owner)
    snoozed = services.open_item(R.CALL_FAILED, claim=ClaimFactory(practice=practice))
    services.snooze(snoozed, practice.today() + timedelta(days=2), actor=owner)

    with CaptureQueriesContext(connection) as queries:
        html = owner_client.get("/claims/").content.decode()
    counts = [q["sql"] for q in queries if "inbox_actionitem" in q["sql"]]
    assert len(counts) == 1 and "COUNT(" in counts[0].upper()
    assert '<span id="nav-inbox-count" class="nav-count">3<span class="visually-hidden"> items need action' in html


def test_the_due_date_is_highlighted_when_overdue(owner_client, item):
    ActionItem.objects.filter(pk=item.pk).update(due_date=date(2020, 1, 6))
    html = owner_client.get("/inbox/").content.decode()
    assert '<span class="date-flag date-overdue">Jan 6<span class="visually-hidden"> (overdue)' in html


def test_the_claim_page_shows_the_claims_open_items(owner_client, item):
    html = owner_client.get(f"/claims/{item.claim_id}/").content.decode()
    assert "Needs action" in html and "Denied CO-50: not medically necessary." in html
    services.mark_done(item, actor=item.claim.practice.users.first())
    assert "Needs action" not in owner_client.get(f"/claims/{item.claim_id}/").content.decode()


def test_the_list_runs_the_same_queries_for_two_items_as_for_twenty(owner_client, owner, teammate, practice):
    def queries_for_the_list() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as queries:
            html = owner_client.get("/inbox/?view=all").content.decode()
        return len(queries), html

    reasons = [R.DENIED, R.NOT_ON_FILE, R.PENDING_INFO, R.PAYMENT_OVERDUE]
    for n in range(2):
        services.assign(services.open_item(reasons[n % 4], claim=ClaimFactory(practice=practice)), owner, actor=owner)
    few, html = queries_for_the_list()
    assert "2 items" in html
    for n in range(18):
        item = services.open_item(reasons[n % 4], claim=ClaimFactory(practice=practice))
        services.assign(item, teammate if n % 2 else owner, actor=owner)

    many, html = queries_for_the_list()
    assert "20 items" in html
    assert many == few
