"""Two-factor sign-in: set-up with a QR code, a code after the password, no replays, backup
codes, turning it off, and a practice that requires it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from billingpulse.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

START = datetime(2026, 12, 6, 15, 0, 5, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def _code(device: TOTPDevice) -> str:
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():06d}"


def _set_up(client: Client, user) -> list[str]:
    """Turn two-factor on for ``user`` through the pages; the backup codes shown."""
    client.get("/settings/security/two-factor/setup/")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post("/settings/security/two-factor/setup/", {"code": _code(device)})
    assert response.status_code == 200
    return _backup_codes(response.content.decode())


def _backup_codes(html: str) -> list[str]:
    listing = re.search(r'<ul class="backup-codes[^>]*>(.*?)</ul>', html, re.S)
    return re.findall(r"<li>(\w+)</li>", listing.group(1)) if listing else []


def _sign_in(email: str, password: str = PASSWORD) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": email, "password": password})
    assert response.status_code == 302
    return client


def test_it_sets_up_an_authenticator_app_from_a_qr_code(clock, teammate_client, teammate):
    page = teammate_client.get("/settings/security/two-factor/setup/")
    qr = teammate_client.get("/settings/security/two-factor/qr.svg")
    device = TOTPDevice.objects.get(user=teammate, confirmed=False)

    assert page.status_code == 200
    assert '<img class="two-factor-qr" src="/settings/security/two-factor/qr.svg"' in page.content.decode()
    assert qr["Content-Type"] == "image/svg+xml"
    assert qr.content.lstrip().startswith(b"<?xml") and b"<svg" in qr.content
    assert b"style" not in qr.content and b"<script" not in qr.content

    wrong = teammate_client.post("/settings/security/two-factor/setup/", {"code": "000000"})
    assert wrong.status_code == 400
    assert "That code is not right." in wrong.content.decode()

    clock.shift(timedelta(seconds=30))  # past the wait after a wrong code, into the next code
    done = teammate_client.post("/settings/security/two-factor/setup/", {"code": _code(device)})

    assert done.status_code == 200
    assert "Two-factor sign-in is on." in done.content.decode()
    assert len(_backup_codes(done.content.decode())) == 10  # shown once
    device.refresh_from_db()
    assert device.confirmed
    # The key of a confirmed app is never shown again.
    assert teammate_client.get("/settings/security/two-factor/qr.svg").status_code == 404


def test_it_asks_for_the_code_after_the_password(clock, teammate_client, teammate):
    _set_up(teammate_client, teammate)
    device = TOTPDevice.objects.get(user=teammate)
    clock.shift(timedelta(seconds=30))

    client = _sign_in(teammate.email)

    assert (
        client.get("/claims/?status=denied")["Location"] == "/accounts/two-factor/?next=%2Fclaims%2F%3Fstatus%3Ddenied"
    )
    assert client.get("/api/v1/claims").status_code == 403
    assert client.get("/accounts/two-factor/").status_code == 200
    response = client.post("/accounts/two-factor/", {"code": _code(device), "next": "/claims/?status=denied"})
    assert response.status_code == 302
    assert response.url == "/claims/?status=denied"
    assert client.get("/claims/").status_code == 200
    assert client.get("/api/v1/claims").status_code == 200


def test_it_refuses_a_wrong_code_and_a_replayed_one(clock, teammate_client, teammate):
    _set_up(teammate_client, teammate)
    device = TOTPDevice.objects.get(user=teammate)
    clock.shift(timedelta(seconds=30))
    code = _code(device)
    first = _sign_in(teammate.email)
    assert first.post("/accounts/two-factor/", {"code": code}).status_code == 302

    second = _sign_in(teammate.email)
    replayed = second.post("/accounts/two-factor/", {"code": code})

    assert replayed.status_code == 400
    assert "That code is not right, or was already used." in replayed.content.decode()
    assert second.get("/claims/").status_code == 302


def test_it_takes_each_backup_code_once(clock, teammate_client, teammate):
    codes = _set_up(teammate_client, teammate)
    assert len(codes) == 10

    assert _sign_in(teammate.email).post("/accounts/two-factor/", {"code": codes[0]}).status_code == 302
    clock.shift(timedelta(minutes=1))
    again = _sign_in(teammate.email).post("/accounts/two-factor/", {"code": codes[0]})

    assert again.status_code == 400


def test_it_turns_off_only_with_the_password(clock, teammate_client, teammate):
    _set_up(teammate_client, teammate)

    wrong = teammate_client.post("/settings/security/two-factor/disable/", {"password": "nope-nope-nope"})
    assert wrong.status_code == 400
    assert TOTPDevice.objects.filter(user=teammate).exists()

    teammate_client.post("/settings/security/two-factor/disable/", {"password": PASSWORD})

    assert not TOTPDevice.objects.filter(user=teammate).exists()
    assert _sign_in(teammate.email).get("/claims/").status_code == 200


def test_it_sends_members_of_a_practice_that_requires_it_to_set_it_up(clock, owner_client, teammate, teammate_api):
    owner_client.post("/settings/security/practice/", {"required": "on"})

    client = _sign_in(teammate.email)
    response = client.get("/claims/")

    assert response["Location"] == "/settings/security/two-factor/setup/?next=%2Fclaims%2F"
    page = client.get(response["Location"]).content.decode()
    assert "requires two-factor sign-in for every member" in page
    # API tokens are a credential of their own: unaffected.
    assert teammate_api.get("/api/v1/claims").status_code == 200

    _set_up(client, teammate)
    assert client.get("/claims/").status_code == 200
    refused = client.post("/settings/security/two-factor/disable/", {"password": PASSWORD})
    assert refused.status_code == 400
    assert TOTPDevice.objects.filter(user=teammate).exists()


def test_it_applies_the_requirement_to_sessions_already_open(owner_client, teammate_client):
    assert teammate_client.get("/claims/").status_code == 200

    owner_client.post("/settings/security/practice/", {"required": "on"})

    assert teammate_client.get("/claims/").status_code == 302


def test_it_lets_an_admin_reset_a_members_lost_app(clock, owner_client, teammate_client, teammate):
    _set_up(teammate_client, teammate)

    owner_client.post(f"/settings/security/members/{teammate.pk}/two-factor-reset/")

    assert not TOTPDevice.objects.filter(user=teammate).exists()
    assert _sign_in(teammate.email).get("/claims/").status_code == 200


def test_it_lets_only_admins_require_it(teammate_client, practice):
    assert teammate_client.post("/settings/security/practice/", {"required": "on"}).status_code == 403
    practice.refresh_from_db()
    assert not practice.require_two_factor


def test_it_tells_the_audit_trail(clock, owner_client, owner, teammate_client, teammate):
    from audit.models import Action, AuditEntry

    _set_up(teammate_client, teammate)
    owner_client.post(f"/settings/security/members/{teammate.pk}/two-factor-reset/")
    owner_client.post("/settings/security/practice/", {"required": "on"})

    entries = AuditEntry.objects.filter(action=Action.TWO_FACTOR_CHANGED).order_by("pk")
    assert [(e.actor_id, e.message) for e in entries] == [
        (teammate.pk, "Authenticator app added"),
        (owner.pk, f"reset by {owner.email}"),
        (owner.pk, "Required for every member"),
    ]
