"""GET /api/v1/codes/icd10: ICD-10-CM codes for a code picker, as JSON."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from billingpulse.tests.icd10 import load_codes

pytestmark = pytest.mark.django_db

URL = "/api/v1/codes/icd10"


@pytest.fixture
def icd10(db):
    load_codes()


def test_it_lists_codes_by_word_prefixes(api, icd10):
    response = api.get(URL, {"q": "type 2 diab", "limit": 50})

    assert response.status_code == 200
    found = response.json()
    assert found[0] == {"code": "E11", "description": "Type 2 diabetes mellitus", "billable": False}
    assert {"code": "E11.9", "description": "Type 2 diabetes mellitus without complications", "billable": True} in found


def test_it_lists_codes_by_prefix(teammate_api, icd10, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):  # the token, the search
        response = teammate_api.get(URL, {"q": "u07"})

    assert [item["code"] for item in response.json()] == ["U07", "U07.0", "U07.1"]


def test_it_answers_an_empty_list_for_an_empty_query(api, icd10):
    assert api.get(URL).json() == []
    assert api.get(URL, {"q": "  "}).json() == []


def test_it_answers_field_errors_for_bad_parameters(api, icd10):
    too_long = api.get(URL, {"q": "a" * 101})
    bad_limit = api.get(URL, {"q": "diab", "limit": "0"})
    null = api.get(URL, {"q": "di\x00ab"})

    assert too_long.status_code == 400
    assert too_long.json() == {"q": ["Ensure this field has no more than 100 characters."]}
    assert bad_limit.status_code == 400
    assert list(bad_limit.json()) == ["limit"]
    assert null.status_code == 400  # the query-string middleware refuses it before the view


def test_it_needs_a_sign_in(icd10):
    assert APIClient().get(URL, {"q": "diab"}).status_code == 401


def test_it_answers_only_get(api):
    assert api.post(URL, {"q": "diab"}, format="json").status_code == 405
