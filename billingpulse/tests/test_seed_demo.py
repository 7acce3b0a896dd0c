from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from billingpulse.models import Patient, Practice, Provider, User
from claims.models import Claim, Payer
from telephony.models import Call


@pytest.mark.django_db
def test_it_creates_the_demo_practice_once_and_prints_a_working_sign_in(client):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=out)

    assert Practice.objects.count() == 1
    practice = Practice.objects.get()
    assert practice.profile_complete
    assert Provider.objects.filter(practice=practice).count() == 4  # one is the admin's own
    assert Patient.objects.filter(practice=practice).count() == 8
    assert set(Payer.objects.filter(practice=practice).values_list("payer_id", flat=True)) == {
        "60054",
        "87726",
        "62308",
        "61101",
        "00590",
    }
    assert User.objects.filter(practice=practice, role=User.Role.ADMIN).count() == 1
    claims = Claim.objects.filter(practice=practice)
    assert claims.count() == 41  # one made from a signed note
    assert {"denied", "submitted", "paid"} <= set(claims.values_list("status", flat=True))
    assert all(claim.lines.exists() and claim.events.exists() for claim in claims)
    # Its ended calls read as calls that happened: placed, answered, then ended.
    for call in Call.objects.filter(practice=practice, status=Call.Status.ENDED):
        assert call.created_at <= call.placed_at <= call.started_at <= call.ended_at
        assert call.duration_seconds
    printed = out.getvalue()
    assert "admin@riverbend.example" in printed
    password = printed.split("password:")[-1].strip()
    # Through the sign-in page: authentication needs the request (django-axes counts failures).
    response = client.post("/accounts/login/", {"username": "admin@riverbend.example", "password": password})
    assert response.status_code == 302
    assert response.url == "/"


@pytest.mark.django_db
def test_it_refuses_to_run_in_production(settings):
    settings.APP_ENV = "production"
    with pytest.raises(CommandError, match="does not run with APP_ENV=production"):
        call_command("seed_demo", stdout=StringIO())
    assert not Practice.objects.exists()
