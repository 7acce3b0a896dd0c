from __future__ import annotations

import re

import pytest

from billingpulse import services
from billingpulse.tests.factories import ProviderFactory


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
