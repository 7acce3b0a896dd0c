"""The ICD-10-CM code picker page and its HTMX partial, GET /codes/icd10/."""

from __future__ import annotations

import pytest
from django.test import Client

from billingpulse.codes import search_text
from billingpulse.models import DiagnosisCode
from billingpulse.tests.factories import UserFactory
from billingpulse.tests.icd10 import load_codes

pytestmark = pytest.mark.django_db

URL = "/codes/icd10/"
HX = {"HTTP_HX_REQUEST": "true"}
ATTRIBUTION = "ICD-10-CM, National Center for Health Statistics/CDC, FY2026 (April 1, 2026) release"


@pytest.fixture
def icd10(db):
    load_codes()


def test_it_shows_the_page_with_matching_codes_and_the_attribution(owner_client, icd10):
    response = owner_client.get(URL, {"q": "type 2 diab"})

    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" in body
    assert 'role="listbox"' in body
    assert 'data-code="E11.9"' in body
    assert "Type 2 diabetes mellitus without complications" in body
    assert ATTRIBUTION in body


def test_it_answers_htmx_with_the_listbox_alone(teammate_client, icd10, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):  # session, user, practice (the middleware's), the search
        response = teammate_client.get(URL, {"q": "e11"}, **HX)

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="code-results"')
    assert "<html" not in body
    assert 'data-code="E11" data-billable="false"' in body
    assert "category: pick a billable code under it, like E11.9" in body
    assert ATTRIBUTION in body
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_it_escapes_what_it_shows_of_a_code_title(teammate_client, icd10):
    # The titles come from files an operator loads: markup in one is shown as text.
    DiagnosisCode.objects.filter(code="E11.9").update(
        description='Type 2 <b>diabetes</b> & "quoted"', search_text=search_text('Type 2 <b>diabetes</b> & "quoted"')
    )

    body = teammate_client.get(URL, {"q": "E11.9"}, **HX).content.decode()

    assert "Type 2 &lt;b&gt;diabetes&lt;/b&gt; &amp; &quot;quoted&quot;" in body
    assert "<b>" not in body


def test_it_works_for_a_signed_in_operator_without_a_practice(icd10):
    client = Client()
    client.force_login(UserFactory(practice=None, is_staff=True, is_superuser=True))

    response = client.get(URL, {"q": "covid"}, **HX)

    assert response.status_code == 200
    assert 'data-code="U07.1"' in response.content.decode()


def test_it_says_when_nothing_matches(owner_client, icd10):
    response = owner_client.get(URL, {"q": "zzzz"}, **HX)

    assert response.status_code == 200
    assert "No ICD-10-CM codes match “zzzz”" in response.content.decode()


def test_it_shows_an_empty_picker_for_an_empty_query(owner_client, icd10):
    response = owner_client.get(URL)

    assert response.status_code == 200
    assert "Type a code or a few letters of each word." in response.content.decode()


def test_it_says_when_no_code_set_is_loaded(owner_client):
    response = owner_client.get(URL, {"q": "diab"}, **HX)

    assert "The ICD-10-CM code set is not loaded yet" in response.content.decode()


def test_it_refuses_a_query_that_is_too_long(owner_client, icd10):
    response = owner_client.get(URL, {"q": "a" * 101})

    assert response.status_code == 400
    assert "Ensure this value has at most 100 characters" in response.content.decode()


def test_it_refuses_a_null_character(owner_client, icd10):
    response = owner_client.get(URL, {"q": "diab\x00"})

    assert response.status_code == 400


def test_it_sends_anonymous_visitors_to_sign_in(client):
    response = client.get(URL, {"q": "diab"})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_answers_only_get(owner_client):
    assert owner_client.post(URL, {"q": "diab"}).status_code == 405
