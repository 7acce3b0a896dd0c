from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from ai.models import DenialCode, PayerPolicy
from ai.tests.factories import PayerPolicyFactory

pytestmark = pytest.mark.django_db


def _code(practice, code="16") -> DenialCode:
    return DenialCode.objects.get(practice=practice, code=code)


def test_it_lists_the_practices_denial_codes_for_an_admin(owner_client):
    response = owner_client.get("/knowledge/")

    body = response.content.decode()
    assert response.status_code == 200
    assert "Knowledge base" in body
    assert "Timely filing limit passed." in body
    assert 'aria-current="page">Denial codes' in body
    assert (
        body.index(">2</strong>")
        < body.index(">16</strong>")
        < body.index(">197</strong>")
        < body.index(">B7</strong>")
    )


def test_it_shows_the_link_to_every_member(owner_client, teammate_client):
    assert 'href="/knowledge/"' in owner_client.get("/").content.decode()
    assert 'href="/knowledge/"' in teammate_client.get("/").content.decode()


def test_it_lets_staff_read_so_billers_see_each_denials_usual_fix(teammate_client, practice):
    entry = _code(practice)

    response = teammate_client.get("/knowledge/")

    assert response.status_code == 200
    assert entry.remedy in response.content.decode()
    assert f"/knowledge/denial-codes/{entry.pk}/edit/" not in response.content.decode()
    assert "/knowledge/denial-codes/new/" not in response.content.decode()
    assert teammate_client.get("/knowledge/policies/").status_code == 200


def test_it_lets_practice_admins_only_change_it(teammate_client, practice):
    entry = _code(practice)

    for url in ("/knowledge/denial-codes/new/", f"/knowledge/denial-codes/{entry.pk}/edit/"):
        assert teammate_client.get(url).status_code == 403
    assert teammate_client.post(f"/knowledge/denial-codes/{entry.pk}/delete/").status_code == 403
    assert DenialCode.objects.filter(pk=entry.pk).exists()


def test_it_sends_anonymous_visitors_to_sign_in():
    response = Client().get("/knowledge/")

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_it_searches_and_answers_htmx_with_the_results_only(owner_client, practice):
    response = owner_client.get("/knowledge/", {"q": "authorization"}, headers={"HX-Request": "true"})

    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="knowledge-results"' in body
    assert "<html" not in body
    assert "No prior authorization." in body
    assert "Deductible." not in body
    assert "match “authorization”" in body


def test_it_says_when_nothing_matches(owner_client):
    body = owner_client.get("/knowledge/", {"q": "zzzz-nothing"}).content.decode()

    assert "Nothing matches “zzzz-nothing”" in body


def test_it_adds_a_denial_code_without_its_group(owner_client, practice):
    response = owner_client.post(
        "/knowledge/denial-codes/new/",
        {"code": "co-A1", "description": "Claim denied; read the remarks.", "remedy": ""},
    )

    assert response.status_code == 302
    assert response.url == "/knowledge/"
    assert _code(practice, "A1").description == "Claim denied; read the remarks."
    assert "Reason code A1 saved." in owner_client.get("/knowledge/").content.decode()


def test_it_shows_plain_field_errors(owner_client, practice):
    response = owner_client.post("/knowledge/denial-codes/new/", {"code": "16", "description": ""})

    body = response.content.decode()
    assert response.status_code == 200
    assert "This reason code is already in the knowledge base; edit that entry." in body
    assert "This field is required." in body
    assert 'class="message message-error" role="alert"' in body
    assert DenialCode.objects.filter(practice=practice, code="16").count() == 1


def test_it_edits_a_denial_code(owner_client, practice):
    entry = _code(practice)

    form = owner_client.get(f"/knowledge/denial-codes/{entry.pk}/edit/").content.decode()
    response = owner_client.post(
        f"/knowledge/denial-codes/{entry.pk}/edit/", {"code": "16", "description": "Ours now.", "remedy": "Call."}
    )

    assert 'value="16"' in form
    assert response.status_code == 302
    entry.refresh_from_db()
    assert (entry.description, entry.remedy) == ("Ours now.", "Call.")


def test_it_asks_before_deleting_and_then_deletes(owner_client, practice):
    entry = _code(practice, "197")

    confirm = owner_client.get(f"/knowledge/denial-codes/{entry.pk}/delete/")
    assert confirm.status_code == 200
    assert "Delete reason code 197?" in confirm.content.decode()
    assert DenialCode.objects.filter(pk=entry.pk).exists()

    response = owner_client.post(f"/knowledge/denial-codes/{entry.pk}/delete/")

    assert response.status_code == 302
    assert not DenialCode.objects.filter(pk=entry.pk).exists()


def test_it_manages_payer_policies(owner_client, practice):
    created = owner_client.post(
        "/knowledge/policies/new/",
        {
            "payer": "  Aetna  ",
            "title": "Appeals",
            "text": "Within 60 days.",
            "source": "",
            "effective_date": "2026-03-01",
        },
    )
    policy = PayerPolicy.objects.get(practice=practice)
    listing = owner_client.get("/knowledge/policies/").content.decode()
    bad = owner_client.post(
        f"/knowledge/policies/{policy.pk}/edit/", {"payer": "Aetna", "text": "", "effective_date": "3/1/26"}
    )
    deleted = owner_client.post(f"/knowledge/policies/{policy.pk}/delete/")

    assert created.status_code == 302 and created.url == "/knowledge/policies/"
    assert policy.payer == "Aetna"
    assert "Within 60 days." in listing and "Mar 1, 2026" in listing
    assert "Write the date as YYYY-MM-DD." in bad.content.decode()
    assert deleted.status_code == 302
    assert not PayerPolicy.objects.exists()


def test_it_shows_no_other_practices_entries(owner_client, other_practice):
    theirs = _code(other_practice)
    policy = PayerPolicyFactory(practice=other_practice, payer="Bravo Secret Payer")

    assert "Bravo Secret Payer" not in owner_client.get("/knowledge/policies/").content.decode()
    for url in (
        f"/knowledge/denial-codes/{theirs.pk}/edit/",
        f"/knowledge/denial-codes/{theirs.pk}/delete/",
        f"/knowledge/policies/{policy.pk}/edit/",
        f"/knowledge/policies/{policy.pk}/delete/",
    ):
        assert owner_client.get(url).status_code == 404
        assert owner_client.post(url, {"code": "16", "description": "x", "payer": "x", "text": "x"}).status_code == 404
    assert owner_client.get("/knowledge/denial-codes/999999/edit/").status_code == 404
    assert PayerPolicy.objects.filter(pk=policy.pk, payer="Bravo Secret Payer").exists()


def test_it_allows_only_its_methods(owner_client, practice):
    assert owner_client.post("/knowledge/").status_code == 405
    assert owner_client.put(f"/knowledge/denial-codes/{_code(practice).pk}/edit/").status_code == 405


def test_a_code_added_after_the_form_checked_it_is_the_forms_error(owner_client, practice, monkeypatch):
    # Two admins add the same code at once: ours checks, theirs saves, ours saves.
    def check_then_lose_the_race(practice_, code, pk=None):
        DenialCode.objects.create(practice=practice_, code=code, description="Theirs.")
        return False

    monkeypatch.setattr("ai.forms.code_in_use", check_then_lose_the_race)

    response = owner_client.post("/knowledge/denial-codes/new/", {"code": "A1", "description": "Ours."})

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "code": ["This reason code is already in the knowledge base; edit that entry."]
    }
    assert _code(practice, "A1").description == "Theirs."


# Paging and search on the denial codes page


def _codes_on(response) -> list[str]:
    return re.findall(r'<td class="mono nowrap"><strong>([^<]+)</strong>', response.content.decode())


def _in_billers_order(codes) -> list[str]:
    return sorted(codes, key=lambda code: (not code.isdigit(), int(code) if code.isdigit() else 0, code))


def _add_codes(practice, count: int, start: int = 300) -> None:
    DenialCode.objects.bulk_create(
        DenialCode(practice=practice, code=str(number), description=f"Made-up reason {number}.")
        for number in range(start, start + count)
    )


def test_it_pages_denial_codes_fifty_at_a_time_in_billers_order(owner_client, practice):
    _add_codes(practice, 60)
    expected = _in_billers_order(DenialCode.objects.filter(practice=practice).values_list("code", flat=True))
    assert len(expected) > 100

    first, second, third = (owner_client.get("/knowledge/", {"page": n}) for n in (1, 2, 3))

    assert _codes_on(first) == expected[:50]
    assert _codes_on(second) == expected[50:100]
    assert _codes_on(third) == expected[100:]
    body = second.content.decode()
    assert "Page 2 of 3" in body
    assert 'href="?page=1"' in body and 'href="?page=3"' in body
    assert f"<strong>{len(expected)} denial codes</strong>" in body


def test_it_keeps_the_search_in_the_page_links(owner_client, practice):
    _add_codes(practice, 60)

    response = owner_client.get("/knowledge/", {"q": "made-up"}, headers={"HX-Request": "true"})

    body = response.content.decode()
    assert 'id="knowledge-results"' in body and "<html" not in body
    assert _codes_on(response) == [str(number) for number in range(300, 350)]
    assert "<strong>60 of 108</strong>" in body
    assert 'href="?q=made-up&amp;page=2"' in body


def test_it_finds_a_code_written_with_its_group(owner_client, practice):
    response = owner_client.get("/knowledge/", {"q": "co-197"})

    assert _codes_on(response) == ["197"]


def test_it_keeps_edit_links_for_admins_only_on_later_pages(owner_client, teammate_client, practice):
    _add_codes(practice, 60)
    entry = DenialCode.objects.get(practice=practice, code="359")

    as_admin = owner_client.get("/knowledge/", {"page": 3}).content.decode()
    as_staff = teammate_client.get("/knowledge/", {"page": 3}).content.decode()

    assert f"/knowledge/denial-codes/{entry.pk}/edit/" in as_admin
    assert f"/knowledge/denial-codes/{entry.pk}/delete/" in as_admin
    assert ">359</strong>" in as_staff
    assert f"/knowledge/denial-codes/{entry.pk}/edit/" not in as_staff


def test_it_runs_the_same_queries_for_a_short_list_as_for_a_long_one(owner_client, practice):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert owner_client.get("/knowledge/", {"page": 2}).status_code == 200
        return len(queries)

    few = count_queries()
    _add_codes(practice, 400, start=1000)

    assert count_queries() == few
