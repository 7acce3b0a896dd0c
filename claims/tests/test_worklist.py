from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billingpulse.tests.factories import PatientFactory
from claims.importing import values
from claims.models import Claim
from claims.tests.factories import ClaimFactory, PayerFactory
from claims.worklist import normalize_denial_code

HX = {"HTTP_HX_REQUEST": "true"}
TODAY = date(2026, 11, 20)
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen_today():
    # Noon in Chicago (the factories' practice time zone), so "today" is the same everywhere.
    with time_machine.travel("2026-11-20 18:00:00+00:00", tick=False):
        yield


def _numbers(response) -> list[str]:
    """Claim numbers in the table, in order."""
    return re.findall(r'class="claim-link mono" href="/claims/\d+/">([^<]+)</a>', response.content.decode())


def _claim(practice, number: str, **fields) -> Claim:
    return ClaimFactory(practice=practice, claim_number=number, **fields)


# Access


def test_it_lists_the_practices_open_claims(owner_client, practice, other_practice):
    _claim(practice, "A-1")
    _claim(other_practice, "B-1")

    response = owner_client.get("/claims/")

    assert response.status_code == 200
    assert _numbers(response) == ["A-1"]
    assert b"<html" in response.content


def test_it_lets_staff_work_the_list(teammate_client, practice):
    _claim(practice, "A-1")

    response = teammate_client.get("/claims/")

    assert response.status_code == 200
    assert _numbers(response) == ["A-1"]


def test_it_ignores_a_forged_practice_parameter(owner_client, other_practice):
    _claim(other_practice, "B-1")

    response = owner_client.get(f"/claims/?practice={other_practice.pk}&status=all")

    assert _numbers(response) == []


def test_it_rejects_post(owner_client):
    assert owner_client.post("/claims/").status_code == 405


def test_it_sends_anonymous_users_to_sign_in(client):
    response = client.get("/claims/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# HTMX


def test_it_renders_only_the_table_for_htmx(owner_client, practice):
    _claim(practice, "A-1")

    response = owner_client.get("/claims/?q=A-1", **HX)

    body = response.content.decode()
    assert body.lstrip().startswith('<section id="claim-table"')
    assert "<html" not in body
    assert 'id="worklist-filters"' not in body
    assert _numbers(response) == ["A-1"]
    assert "HX-Request" in response["Vary"]


def test_it_renders_the_full_page_to_restore_history(owner_client, practice):
    response = owner_client.get("/claims/", HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HX)

    assert b"<html" in response.content


def test_it_shows_the_same_rows_in_the_page_and_the_partial(owner_client, practice):
    for number in ("A-1", "A-2", "B-3"):
        _claim(practice, number)
    query = "/claims/?q=a-&sort=-claim_number"

    full, partial = owner_client.get(query), owner_client.get(query, **HX)

    assert _numbers(full) == _numbers(partial) == ["A-2", "A-1"]


def test_it_wires_the_filters_to_replace_the_table_and_push_the_url(owner_client, practice):
    _claim(practice, "A-1")

    body = owner_client.get("/claims/").content.decode()

    assert 'hx-target="#claim-table"' in body
    assert 'hx-push-url="true"' in body
    assert 'hx-trigger="input changed delay:300ms, search"' in body


def test_it_only_polls_while_calls_are_in_flight(owner_client, practice):
    _claim(practice, "A-1")

    body = owner_client.get("/claims/").content.decode()

    assert 'hx-trigger="every 5s"' not in body


def test_it_hides_call_selected_until_telephony_is_enabled(owner_client, practice, settings):
    _claim(practice, "A-1")
    settings.TELEPHONY_ENABLED = False
    assert b"Call selected" not in owner_client.get("/claims/").content

    settings.TELEPHONY_ENABLED = True

    assert b"Call selected" in owner_client.get("/claims/").content


# Search


def test_it_searches_claim_numbers_and_patient_names(owner_client, practice):
    jane = PatientFactory(practice=practice, first_name="Jane", last_name="Doe")
    _claim(practice, "CLM-100", patient=jane)
    _claim(practice, "CLM-200", patient=PatientFactory(practice=practice, first_name="John", last_name="Roe"))
    _claim(practice, "XYZ-300", patient=PatientFactory(practice=practice, first_name="Ann", last_name="Janeway"))

    assert _numbers(owner_client.get("/claims/?q=clm-1")) == ["CLM-100"]
    assert _numbers(owner_client.get("/claims/?q=ROE")) == ["CLM-200"]
    assert _numbers(owner_client.get("/claims/?q=jane&sort=claim_number")) == ["CLM-100", "XYZ-300"]


def test_it_needs_every_word_to_match(owner_client, practice):
    jane = PatientFactory(practice=practice, first_name="Jane", last_name="Doe")
    _claim(practice, "CLM-100", patient=jane)
    _claim(practice, "CLM-200", patient=PatientFactory(practice=practice, first_name="Jane", last_name="Smith"))

    assert _numbers(owner_client.get("/claims/?q=jane+doe")) == ["CLM-100"]
    assert _numbers(owner_client.get("/claims/?q=doe+200")) == []
    assert _numbers(owner_client.get("/claims/?q=smith+clm")) == ["CLM-200"]


# Filters


def test_it_shows_open_claims_by_default(owner_client, practice):
    _claim(practice, "OPEN-1", status=Claim.Status.DENIED)
    _claim(practice, "PAID-1", status=Claim.Status.PAID)
    _claim(practice, "DONE-1", status=Claim.Status.CLOSED)

    assert _numbers(owner_client.get("/claims/")) == ["OPEN-1"]
    assert _numbers(owner_client.get("/claims/?status=all&sort=claim_number")) == ["DONE-1", "OPEN-1", "PAID-1"]
    assert _numbers(owner_client.get("/claims/?status=paid")) == ["PAID-1"]


def test_it_falls_back_to_open_claims_for_an_unknown_status(owner_client, practice):
    _claim(practice, "OPEN-1")
    _claim(practice, "PAID-1", status=Claim.Status.PAID)

    assert _numbers(owner_client.get("/claims/?status=bogus")) == ["OPEN-1"]


def test_it_filters_by_payer(owner_client, practice, other_practice):
    aetna = PayerFactory(practice=practice, name="Aetna")
    _claim(practice, "AET-1", payer=aetna)
    _claim(practice, "OTH-1")
    foreign = PayerFactory(practice=other_practice)

    assert _numbers(owner_client.get(f"/claims/?payer={aetna.pk}")) == ["AET-1"]
    # Another practice's payer is not a choice: the filter is dropped, not applied.
    response = owner_client.get(f"/claims/?payer={foreign.pk}&sort=claim_number")
    assert _numbers(response) == ["AET-1", "OTH-1"]
    assert b"Select a valid choice" in response.content


def test_it_filters_by_a_normalized_denial_code(owner_client, practice):
    _claim(practice, "D-16", denial_code="CO-16")
    _claim(practice, "D-97", denial_code="CO-97")

    assert _numbers(owner_client.get("/claims/?denial_code=co16")) == ["D-16"]
    assert _numbers(owner_client.get("/claims/?denial_code=CO+16")) == ["D-16"]


def test_it_explains_a_denial_code_it_cannot_read(owner_client, practice):
    _claim(practice, "D-16", denial_code="CO-16")

    response = owner_client.get("/claims/?denial_code=hello")

    assert b"Write a denial code like CO-16." in response.content
    assert _numbers(response) == ["D-16"]


def test_it_explains_a_bad_denial_code_in_the_htmx_table_too(owner_client, practice):
    # The live filter only swaps the table, so the table says why the code was not applied.
    _claim(practice, "D-16", denial_code="CO-16")

    response = owner_client.get("/claims/?denial_code=hello", **HX)

    body = response.content.decode()
    assert body.lstrip().startswith('<section id="claim-table"')
    assert 'role="alert"' in body
    assert "Denial code: Write a denial code like CO-16." in body
    assert "Showing claims without this filter." in body
    assert _numbers(response) == ["D-16"]
    # The message beside the field is replaced too, out of band, without touching the input.
    assert re.search(
        r'<div id="id_denial_code_error" class="field-errors" hx-swap-oob="true">'
        r'<p class="error">Write a denial code like CO-16.</p></div>',
        body,
    )
    assert 'name="denial_code"' not in body


def test_it_clears_the_fields_error_once_the_code_is_fixed(owner_client, practice):
    _claim(practice, "D-16", denial_code="CO-16")

    response = owner_client.get("/claims/?denial_code=co16", **HX)

    body = response.content.decode()
    assert _numbers(response) == ["D-16"]
    assert "Write a denial code like CO-16." not in body
    assert 'role="alert"' not in body
    assert re.search(r'<div id="id_denial_code_error" class="field-errors" hx-swap-oob="true"></div>', body)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("co16", "CO-16"), ("CO 16", "CO-16"), ("pr-1", "PR-1"), ("oa_23", "OA-23"), ("16", "16"), ("", "")],
)
def test_it_normalizes_denial_codes(value, expected):
    assert normalize_denial_code(value) == expected


@pytest.mark.parametrize("value", ["co/16", "CO016", "co 16", "CO16"])
def test_it_normalizes_denial_codes_as_the_import_does(value):
    assert normalize_denial_code(value) == values.normalize_denial_code(value) == "CO-16"


def test_it_filters_follow_ups_due_and_overdue(owner_client, practice):
    _claim(practice, "PAST", next_follow_up_date=TODAY - timedelta(days=1))
    _claim(practice, "TODAY", next_follow_up_date=TODAY)
    _claim(practice, "LATER", next_follow_up_date=TODAY + timedelta(days=1))
    _claim(practice, "NONE")

    assert _numbers(owner_client.get("/claims/?follow_up=due&sort=claim_number")) == ["PAST", "TODAY"]
    assert _numbers(owner_client.get("/claims/?follow_up=overdue")) == ["PAST"]


def test_it_filters_by_timely_filing_deadline(owner_client, practice):
    payer = PayerFactory(practice=practice, timely_filing_days=90)
    # The deadline is the date of service plus the payer's 90 days.
    _claim(practice, "PASSED", payer=payer, service_date_from=TODAY - timedelta(days=91))
    _claim(practice, "TODAY", payer=payer, service_date_from=TODAY - timedelta(days=90))
    _claim(practice, "IN-30", payer=payer, service_date_from=TODAY - timedelta(days=60))
    _claim(practice, "IN-31", payer=payer, service_date_from=TODAY - timedelta(days=59))

    assert _numbers(owner_client.get("/claims/?deadline=30&sort=deadline")) == ["TODAY", "IN-30"]
    assert _numbers(owner_client.get("/claims/?deadline=past")) == ["PASSED"]
    assert _numbers(owner_client.get("/claims/?deadline=45&sort=deadline")) == ["TODAY", "IN-30", "IN-31"]


def test_it_offers_clear_filters_when_filtered(owner_client, practice):
    _claim(practice, "A-1")

    assert b"Clear filters" not in owner_client.get("/claims/").content
    # In the table, so that an htmx refresh shows or hides it with the filters.
    assert b"Clear filters" in owner_client.get("/claims/?q=A", **HX).content


# Sorting


def test_it_sorts_by_whitelisted_columns_both_ways(owner_client, practice):
    _claim(practice, "MID", total_charge=Decimal("500.00"))
    _claim(practice, "LOW", total_charge=Decimal("20.00"))
    _claim(practice, "HIGH", total_charge=Decimal("1250.00"))

    assert _numbers(owner_client.get("/claims/?sort=amount")) == ["LOW", "MID", "HIGH"]
    assert _numbers(owner_client.get("/claims/?sort=-amount")) == ["HIGH", "MID", "LOW"]


def test_it_sorts_by_patient_and_payer(owner_client, practice):
    _claim(practice, "Z", patient=PatientFactory(practice=practice, last_name="Adams"), payer__name="Zeta Health")
    _claim(practice, "A", patient=PatientFactory(practice=practice, last_name="Young"), payer__name="Alpha Care")

    assert _numbers(owner_client.get("/claims/?sort=patient")) == ["Z", "A"]
    assert _numbers(owner_client.get("/claims/?sort=payer")) == ["A", "Z"]


def test_it_puts_claims_without_a_follow_up_last(owner_client, practice):
    _claim(practice, "NONE")
    _claim(practice, "SOON", next_follow_up_date=TODAY)
    _claim(practice, "LATER", next_follow_up_date=TODAY + timedelta(days=9))

    assert _numbers(owner_client.get("/claims/?sort=follow_up")) == ["SOON", "LATER", "NONE"]
    assert _numbers(owner_client.get("/claims/?sort=-follow_up")) == ["LATER", "SOON", "NONE"]


def test_it_ignores_a_sort_it_does_not_know(owner_client, practice):
    _claim(practice, "OLD", service_date_from=date(2026, 1, 5))
    _claim(practice, "NEW", service_date_from=date(2026, 6, 5))

    response = owner_client.get("/claims/?sort=patient__ssn")

    assert response.status_code == 200
    assert _numbers(response) == ["NEW", "OLD"]


def test_it_marks_the_sorted_column_and_links_to_the_reverse_order(owner_client, practice):
    _claim(practice, "A-1")

    body = owner_client.get("/claims/?sort=amount&status=all").content.decode()

    assert 'aria-sort="ascending"' in body
    assert 'href="?status=all&amp;sort=-amount"' in body


# Pagination and totals


def _link(response, rel: str) -> str | None:
    """The href of the pager's "next" or "prev" link, unescaped, or None when there is none."""
    found = re.search(rf'href="(\?[^"]+)"[^>]*rel="{rel}"', response.content.decode())
    return found and found.group(1).replace("&amp;", "&")


def test_it_pages_fifty_claims_at_a_time_with_links_that_name_a_claim(owner_client, practice):
    claims = [_claim(practice, f"C-{n:03d}") for n in range(120)]

    first = owner_client.get("/claims/?sort=claim_number")
    second = owner_client.get("/claims/" + _link(first, "next"))
    third = owner_client.get("/claims/" + _link(second, "next"))

    assert _numbers(first) == [f"C-{n:03d}" for n in range(50)]
    assert _link(first, "next") == f"?sort=claim_number&after={claims[49].pk}&start=51"
    assert _link(first, "prev") is None
    assert _numbers(second) == [f"C-{n:03d}" for n in range(50, 100)]
    assert b"Showing 51\xe2\x80\x93100" in second.content
    assert _numbers(third) == [f"C-{n:03d}" for n in range(100, 120)]
    assert _link(third, "next") is None
    back = owner_client.get("/claims/" + _link(third, "prev"))
    assert _numbers(back) == _numbers(second)
    assert _numbers(owner_client.get("/claims/" + _link(back, "prev"))) == _numbers(first)


@pytest.mark.parametrize(
    "sort",
    [
        "-service_date",
        "service_date",
        "follow_up",
        "-follow_up",
        "deadline",
        "-status",
        "status",
        "patient",
        "-patient",
        "amount",
        "-amount",
        "payer",
    ],
)
def test_paging_forwards_and_back_shows_every_claim_once_in_order(owner_client, practice, sort):
    # Few distinct values (ties broken by the claim), and empty follow-ups, in every sort.
    payers = [PayerFactory(practice=practice, timely_filing_days=days) for days in (30, 90)]
    patients = [PatientFactory(practice=practice, last_name=name) for name in ("Abbott", "Zhou", "Moss")]
    for n in range(130):
        _claim(
            practice,
            f"K-{n:03d}",
            payer=payers[n % 2],
            patient=patients[n % 3],
            service_date_from=TODAY - timedelta(days=n % 4),
            total_charge=Decimal(100 + n % 5),
            next_follow_up_date=None if n % 3 == 0 else TODAY + timedelta(days=n % 2),
            status=["submitted", "denied", "appealed"][n % 3],
        )
    from claims.worklist import sort_claims  # the one ordering the pages follow

    expected = list(sort_claims(Claim.objects.filter(practice=practice), sort).values_list("claim_number", flat=True))

    pages = [owner_client.get(f"/claims/?sort={sort}")]
    while next_link := _link(pages[-1], "next"):
        pages.append(owner_client.get("/claims/" + next_link))
    backwards = [pages[-1]]
    while previous := _link(backwards[-1], "prev"):
        backwards.append(owner_client.get("/claims/" + previous))

    assert [number for page in pages for number in _numbers(page)] == expected
    assert [_numbers(page) for page in reversed(backwards)] == [_numbers(page) for page in pages]


def test_the_sort_by_control_shows_the_current_order_and_belongs_to_the_filters(owner_client, practice):
    _claim(practice, "A-1")

    default = owner_client.get("/claims/").content.decode()
    by_amount = owner_client.get("/claims/?sort=-amount").content.decode()

    assert '<select id="worklist-sort" name="sort" form="worklist-filters" data-sort-select>' in default
    assert '<option value="-service_date" selected>Date of service, newest first</option>' in default
    assert '<option value="-amount" selected>Amount, highest first</option>' in by_amount


def test_a_numbered_page_of_an_older_bookmark_still_opens(owner_client, practice):
    for n in range(120):
        _claim(practice, f"C-{n:03d}")

    third = owner_client.get("/claims/?sort=claim_number&page=3")
    past_the_end = owner_client.get("/claims/?sort=claim_number&page=99")

    assert _numbers(third) == [f"C-{n:03d}" for n in range(100, 120)]
    assert _link(third, "prev") == "?sort=claim_number&page=2"
    assert _numbers(past_the_end) == [f"C-{n:03d}" for n in range(50)]


def test_a_page_after_another_practices_claim_is_the_first_page(owner_client, practice, other_practice):
    for n in range(60):
        _claim(practice, f"C-{n:03d}")
    theirs = _claim(other_practice, "C-010")

    response = owner_client.get(f"/claims/?sort=claim_number&after={theirs.pk}")

    assert _numbers(response)[0] == "C-000"


def test_the_totals_follow_the_rows_and_count_what_is_still_owed(owner_client, practice):
    _claim(practice, "A", total_charge=Decimal("1000.00"), paid_amount=Decimal("250.00"))
    _claim(practice, "B", total_charge=Decimal("210.55"), adjustment_amount=Decimal("10.00"))
    # Overpaid claims owe nothing rather than a negative amount.
    _claim(practice, "C", total_charge=Decimal("100.00"), paid_amount=Decimal("120.00"))
    _claim(practice, "D", total_charge=Decimal("5.00"), status="paid")

    page = owner_client.get("/claims/").content.decode()
    body = owner_client.get("/claims/totals/", **HX).content.decode()
    all_statuses = owner_client.get("/claims/totals/?status=all", **HX).content.decode()

    assert 'hx-get="/claims/totals/?"' in page and "Counting matching claims" in page
    assert '<strong data-matching-count="3">3 claims</strong>' in body
    assert "$950.55 outstanding" in body
    assert "4 claims" in all_statuses
    assert owner_client.get("/claims/totals/?status=denied")["Location"] == "/claims/?status=denied"


def test_the_totals_are_the_practices_own(owner_client, practice, other_practice):
    _claim(practice, "A", total_charge=Decimal("10.00"))
    _claim(other_practice, "B", total_charge=Decimal("99.00"))

    body = owner_client.get("/claims/totals/", **HX).content.decode()

    assert "1 claim<" in body and "$10.00 outstanding" in body


def test_it_formats_amounts_and_highlights_dates(owner_client, practice):
    payer = PayerFactory(practice=practice, timely_filing_days=90)
    _claim(
        practice,
        "A-1",
        payer=payer,
        total_charge=Decimal("1250.00"),
        next_follow_up_date=TODAY - timedelta(days=2),
        service_date_from=TODAY - timedelta(days=80),
    )

    body = owner_client.get("/claims/").content.decode()

    assert "$1,250.00" in body
    assert "date-overdue" in body  # the follow-up
    assert "date-soon" in body  # the deadline, 10 days away


def test_it_runs_the_same_queries_for_3_rows_as_for_60(owner_client, practice):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert owner_client.get("/claims/?sort=payer").status_code == 200
        return len(queries)

    for n in range(3):
        _claim(practice, f"A-{n}")
    few = count_queries()
    for n in range(57):
        _claim(practice, f"B-{n}")

    assert count_queries() == few


# Empty states


def test_it_asks_for_a_payer_then_an_import_when_there_is_nothing(owner_client):
    body = owner_client.get("/claims/").content.decode()

    assert "Import your first claims" in body
    assert 'href="/claims/import/"' in body
    assert "Add a payer first" in body
    assert 'href="/claims/payers/new/"' in body


def test_it_asks_for_an_import_or_a_claim_by_hand_once_there_are_payers(owner_client, practice):
    PayerFactory(practice=practice)

    body = owner_client.get("/claims/").content.decode()

    assert "Import your first claims" in body
    assert '<a class="button" href="/claims/new/">Enter a claim by hand</a>' in body
    assert "Add a payer first" not in body


def test_it_hides_the_filters_until_there_are_claims(owner_client, practice):
    body = owner_client.get("/claims/").content.decode()

    assert 'id="worklist-filters"' not in body
    assert "0 claims" not in body


def test_it_says_when_filters_match_nothing(owner_client, practice):
    _claim(practice, "A-1")

    body = owner_client.get("/claims/?q=nomatch").content.decode()

    assert "No claims match these filters" in body
    assert "Import your first claims" not in body


def test_it_sends_no_field_messages_when_the_page_has_no_filter_form(owner_client, practice):
    # No claims yet: the page has no filters, so there is nothing beside which to put a message.
    body = owner_client.get("/claims/?denial_code=hello", **HX).content.decode()

    assert "hx-swap-oob" not in body


@pytest.mark.parametrize(
    "query",
    [
        "after=99999999999999999999999",
        "before=9223372036854775807",
        "page=184467440737095516",
        "start=99999999999999999999",
        "after=-1&before=abc&page=x",
        "before=1&after=2&sort=nonsense",
    ],
)
def test_odd_paging_in_a_link_shows_a_page_never_an_error(owner_client, practice, query):
    for n in range(3):
        _claim(practice, f"C-{n}")

    assert owner_client.get(f"/claims/?{query}").status_code == 200
    assert owner_client.get(f"/claims/totals/?{query}", **HX).status_code == 200
