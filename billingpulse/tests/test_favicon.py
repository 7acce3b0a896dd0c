"""/favicon.ico: browsers ask for it whatever the page's <link rel=icon> says; it leads to the logo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.templatetags.static import static
from django.test import Client

from audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_it_sends_anyone_to_the_logo_without_sign_in(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 302
    assert response["Location"] == static("img/logo.svg")


def test_it_writes_nothing_to_the_audit_trail(teammate_client):
    before = AuditEntry.objects.count()

    assert teammate_client.get("/favicon.ico").status_code == 302
    assert teammate_client.head("/favicon.ico").status_code == 302

    assert AuditEntry.objects.count() == before


def test_it_answers_a_session_that_still_owes_its_two_factor_setup(teammate_client, practice):
    practice.require_two_factor = True
    practice.save(update_fields=["require_two_factor"])

    assert teammate_client.get("/claims/")["Location"].startswith("/settings/security/two-factor/setup/")
    assert teammate_client.get("/favicon.ico")["Location"] == static("img/logo.svg")


def test_it_does_not_keep_an_idle_session_alive(teammate):
    with time_machine.travel(datetime(2026, 12, 6, 15, 0, tzinfo=UTC), tick=False) as clock:
        client = Client()
        client.force_login(teammate)
        assert client.get("/claims/").status_code == 200
        clock.shift(timedelta(minutes=25))
        client.get("/favicon.ico")  # the browser's own request, not the person's
        clock.shift(timedelta(minutes=6))

        assert client.get("/claims/").status_code == 302


def test_it_allows_only_reads(client):
    assert client.post("/favicon.ico").status_code == 405
