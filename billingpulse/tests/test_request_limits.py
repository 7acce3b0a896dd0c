"""Limits every request meets before any view: query string length and NUL characters, the
admin's own parameters."""

from __future__ import annotations

import pytest
from django.test import Client

from billingpulse.models import User
from billingpulse.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client():
    client = Client()
    client.force_login(User.objects.create_superuser("ops@billingpulse.example", "an-operator-password"))
    return client


@pytest.mark.parametrize("url", ["/claims/", "/api/v1/patients", "/admin/billingpulse/patient/", "/accounts/login/"])
def test_it_answers_414_to_a_query_string_longer_than_any_we_build(owner_client, url):
    response = owner_client.get(url, {"q": "a%" * 500_000})

    assert response.status_code == 414
    assert b"too long" in response.content


@pytest.mark.parametrize(
    "url",
    ["/claims/?q=a%00b", "/api/v1/claims?denial_code=%00", "/admin/billingpulse/patient/?sex__exact=F%00", "/?%00=1"],
)
def test_it_answers_400_to_a_nul_character_in_the_query_string(owner_client, url):
    response = owner_client.get(url)

    assert response.status_code == 400
    assert b"NUL character" in response.content


def test_it_still_answers_a_long_but_reasonable_search(owner_client):
    assert owner_client.get("/claims/", {"q": "x" * 1000}).status_code == 200


def test_it_searches_the_admin_with_the_longest_query_string_allowed(superuser_client):
    response = superuser_client.get("/admin/billingpulse/patient/", {"q": "%" * 1300})

    assert response.status_code == 200


def test_it_answers_400_to_an_empty_to_field_on_any_admin_page(superuser_client, practice):
    patient = PatientFactory(practice=practice)

    for url in [
        f"/admin/billingpulse/patient/{patient.pk}/change/?_to_field=",
        f"/admin/billingpulse/patient/{patient.pk}/delete/?_to_field=",
        "/admin/django_celery_beat/periodictask/add/?_to_field=",
    ]:
        assert superuser_client.get(url).status_code == 400, url


def test_it_keeps_the_admin_for_superusers_only(owner_client):
    response = owner_client.get("/admin/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
