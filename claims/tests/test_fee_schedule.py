from __future__ import annotations

from decimal import Decimal

import pytest

from claims.fee_schedule import parse_lines
from claims.models import FeeScheduleEntry
from claims.tests.factories import ClaimFactory, ClaimLineFactory, FeeScheduleEntryFactory

pytestmark = pytest.mark.django_db

LIST = "/claims/fee-schedule/"
NEW = "/claims/fee-schedule/new/"
PASTE = "/claims/fee-schedule/paste/"


@pytest.fixture
def entry(practice):
    return FeeScheduleEntryFactory(practice=practice, code="99213", charge=Decimal("110.00"))


# The list


def test_it_lists_the_practices_fees(owner_client, entry, other_practice):
    FeeScheduleEntryFactory(practice=other_practice, code="99499", charge=Decimal("999.00"))

    response = owner_client.get(LIST)

    assert response.status_code == 200
    assert b"99213" in response.content and b"$110.00" in response.content
    assert b"99499" not in response.content
    assert f"/claims/fee-schedule/{entry.pk}/edit/".encode() in response.content


def test_it_shows_staff_the_list_read_only(teammate_client, entry):
    response = teammate_client.get(LIST)

    assert response.status_code == 200 and b"99213" in response.content
    assert f"/claims/fee-schedule/{entry.pk}/edit/".encode() not in response.content
    assert b"Paste from a spreadsheet" not in response.content


def test_it_finds_codes_by_their_start_as_an_htmx_partial(owner_client, entry, practice):
    FeeScheduleEntryFactory(practice=practice, code="J1100", charge=Decimal("12.00"))

    response = owner_client.get(LIST, {"q": "j1"}, headers={"HX-Request": "true"})

    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="fee-table"' in body and "<html" not in body
    assert "J1100" in body and "99213" not in body


def test_it_refuses_a_post_to_the_list(owner_client):
    assert owner_client.post(LIST).status_code == 405


def test_it_sends_anonymous_users_to_sign_in(client):
    response = client.get(LIST)

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# Adding and editing one code


def test_it_adds_a_code_with_a_formatted_charge(owner_client, practice):
    response = owner_client.post(NEW, {"code": "j1100 ", "modifier": "jw", "charge": "$1,250.00"})

    entry = FeeScheduleEntry.objects.get()
    assert response.status_code == 302 and response["Location"] == LIST
    assert (entry.practice, entry.code, entry.modifier, entry.charge) == (practice, "J1100", "JW", Decimal("1250.00"))


def test_it_allows_a_zero_charge(owner_client):
    assert owner_client.post(NEW, {"code": "99211", "modifier": "", "charge": "0"}).status_code == 302


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"code": "9921", "charge": "10"}, b"is not a CPT or HCPCS code"),
        ({"code": "99213", "modifier": "2", "charge": "10"}, b"is not a modifier"),
        ({"code": "99213", "charge": "abc"}, b"abc is not an amount"),
        ({"code": "99213", "charge": "-5.00"}, b"A charge cannot be negative."),
        ({"code": "99213", "charge": "1e400"}, b"is not an amount"),
        ({"code": "99213", "charge": ""}, b"This field is required."),
    ],
)
def test_it_puts_bad_input_on_the_field(owner_client, data, message):
    response = owner_client.post(NEW, data)

    assert response.status_code == 400
    assert message in response.content
    assert not FeeScheduleEntry.objects.exists()


def test_it_rejects_a_code_and_modifier_already_in_the_schedule(owner_client, entry):
    response = owner_client.post(NEW, {"code": "99213", "modifier": "", "charge": "95"})

    assert response.status_code == 400
    assert b"The fee schedule already has a charge for this code and modifier." in response.content
    assert FeeScheduleEntry.objects.count() == 1


def test_it_allows_the_same_code_with_a_modifier(owner_client, entry):
    assert owner_client.post(NEW, {"code": "99213", "modifier": "25", "charge": "130"}).status_code == 302


def test_it_edits_a_charge(owner_client, entry):
    response = owner_client.post(
        f"/claims/fee-schedule/{entry.pk}/edit/", {"code": "99213", "modifier": "", "charge": "115.50"}
    )

    entry.refresh_from_db()
    assert response.status_code == 302 and entry.charge == Decimal("115.50")


def test_it_forbids_staff_from_changing_the_schedule(teammate_client, entry):
    assert teammate_client.get(NEW).status_code == 403
    assert teammate_client.post(NEW, {"code": "99214", "charge": "1"}).status_code == 403
    assert (
        teammate_client.post(f"/claims/fee-schedule/{entry.pk}/edit/", {"code": "99213", "charge": "1"}).status_code
        == 403
    )
    assert teammate_client.post(f"/claims/fee-schedule/{entry.pk}/remove/").status_code == 403
    assert teammate_client.post(PASTE, {"lines": "99214 1"}).status_code == 403
    assert FeeScheduleEntry.objects.count() == 1


def test_it_hides_another_practices_entry(outsider_client, entry):
    assert outsider_client.get(f"/claims/fee-schedule/{entry.pk}/edit/").status_code == 404
    assert outsider_client.post(f"/claims/fee-schedule/{entry.pk}/remove/").status_code == 404
    assert FeeScheduleEntry.objects.filter(pk=entry.pk).exists()


def test_it_answers_404_for_an_unknown_entry(owner_client):
    assert owner_client.get("/claims/fee-schedule/999999/edit/").status_code == 404


def test_it_refuses_delete_on_the_edit_page(owner_client, entry):
    assert owner_client.delete(f"/claims/fee-schedule/{entry.pk}/edit/").status_code == 405


# Removing


def test_it_asks_before_removing(owner_client, entry):
    response = owner_client.get(f"/claims/fee-schedule/{entry.pk}/remove/")

    assert response.status_code == 200 and b"Remove 99213?" in response.content
    assert FeeScheduleEntry.objects.filter(pk=entry.pk).exists()


def test_it_removes_an_entry_and_leaves_claims_as_they_were(owner_client, entry, practice):
    claim = ClaimFactory(practice=practice)
    line = ClaimLineFactory(claim=claim, procedure_code="99213", charge=Decimal("110.00"))

    response = owner_client.post(f"/claims/fee-schedule/{entry.pk}/remove/")

    line.refresh_from_db()
    assert response.status_code == 302 and response["Location"] == LIST
    assert not FeeScheduleEntry.objects.exists()
    assert line.charge == Decimal("110.00")


# Pasting lines


def test_it_saves_pasted_lines_in_every_shape(owner_client, practice):
    text = (
        "Code\tModifier\tCharge\n99213, 110.00\n99213 25 130.00\n99214-25 $165\n"
        "J1100\tJW\t$1,250.00\n\n99215,,200\n99202, 12,500.00\n"
    )

    response = owner_client.post(PASTE, {"lines": text})

    stored = {(e.code, e.modifier): e.charge for e in FeeScheduleEntry.objects.filter(practice=practice)}
    assert response.status_code == 302
    assert stored == {
        ("99213", ""): Decimal("110.00"),
        ("99213", "25"): Decimal("130.00"),
        ("99214", "25"): Decimal("165.00"),
        ("J1100", "JW"): Decimal("1250.00"),
        ("99215", ""): Decimal("200.00"),
        ("99202", ""): Decimal("12500.00"),
    }


def test_it_saves_nothing_when_a_line_is_wrong_and_names_each_bad_line(owner_client):
    response = owner_client.post(PASTE, {"lines": "99213, 110.00\n9921 5.00\n99214 abc\n99213 110\n99215"})

    body = response.content.decode()
    assert response.status_code == 400
    assert "Line 2: 9921 is not a CPT or HCPCS code" in body
    assert "Line 3: abc is not an amount" in body
    assert "Line 4: 99213 is already on line 1." in body
    assert "Line 5: Give a code, an optional modifier and a charge" in body
    assert "4 lines need fixing; nothing was saved." in body
    assert not FeeScheduleEntry.objects.exists()


def test_it_refuses_codes_already_in_the_schedule_unless_told_to_replace(owner_client, entry):
    refused = owner_client.post(PASTE, {"lines": "99213 120.00\n99214 150.00"})

    assert refused.status_code == 400
    assert "Line 1: 99213 is already in the fee schedule at $110.00." in refused.content.decode()
    assert FeeScheduleEntry.objects.count() == 1

    replaced = owner_client.post(PASTE, {"lines": "99213 120.00\n99214 150.00", "replace": "on"})

    entry.refresh_from_db()
    assert replaced.status_code == 302
    assert entry.charge == Decimal("120.00") and FeeScheduleEntry.objects.count() == 2


def test_it_requires_some_lines(owner_client):
    response = owner_client.post(PASTE, {"lines": "  \n"})

    assert response.status_code == 400 and b"Paste at least one line." in response.content


def test_it_shows_the_paste_form(owner_client):
    assert owner_client.get(PASTE).status_code == 200


def test_it_refuses_put_on_paste(owner_client):
    assert owner_client.put(PASTE).status_code == 405


def test_it_reads_a_quoted_csv_amount():
    lines, problems = parse_lines('99213,25,"$1,250.00"\n99214,25,130.00')

    assert problems == []
    assert [(line.code, line.modifier, line.charge) for line in lines] == [
        ("99213", "25", Decimal("1250.00")),
        ("99214", "25", Decimal("130.00")),
    ]


# The Claims tabs


def _claims_tabs(body: str) -> str:
    return body.partition('<nav class="tabs" aria-label="Claims sections">')[2].partition("</nav>")[0]


@pytest.mark.parametrize(
    "url", [LIST, NEW, PASTE, "/claims/fee-schedule/{pk}/edit/", "/claims/fee-schedule/{pk}/remove/"]
)
def test_its_pages_show_the_claims_tabs_with_the_fee_schedule_current(owner_client, entry, url):
    tabs = _claims_tabs(owner_client.get(url.format(pk=entry.pk)).content.decode())

    assert '<a class="tab" href="/claims/fee-schedule/" aria-current="page">Fee schedule</a>' in tabs
    assert '<a class="tab" href="/claims/">Worklist</a>' in tabs and tabs.count('aria-current="page"') == 1


def test_the_other_claims_pages_link_to_the_fee_schedule_without_marking_it(owner_client):
    tabs = _claims_tabs(owner_client.get("/claims/payers/").content.decode())

    assert '<a class="tab" href="/claims/fee-schedule/">Fee schedule</a>' in tabs
    assert '<a class="tab" href="/claims/payers/" aria-current="page">Payers</a>' in tabs
