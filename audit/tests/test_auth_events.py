"""Sign-in, sign-out, failed sign-ins, lockout, password and role changes land in the log."""

from __future__ import annotations

import pytest
from django.test import Client

import audit
from audit.models import Action
from audit.tests.helpers import entries, last_id, only_entry
from billingpulse.models import User
from billingpulse.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_it_records_a_sign_in_and_a_sign_out(client, owner, practice):
    client.post("/accounts/login/", {"username": owner.email, "password": PASSWORD}, REMOTE_ADDR="10.0.0.7")
    client.post("/accounts/logout/")

    signed_in = only_entry(action=Action.SIGNED_IN)
    signed_out = only_entry(action=Action.SIGNED_OUT)
    assert (signed_in.practice_id, signed_in.actor_id, signed_in.remote_addr) == (practice.pk, owner.pk, "10.0.0.7")
    assert (signed_out.actor_id, signed_out.resource_type, signed_out.resource_id) == (owner.pk, "user", str(owner.pk))


def test_it_records_a_failed_sign_in_in_the_accounts_practice(client, owner, practice):
    client.post("/accounts/login/", {"username": owner.email, "password": "not-the-password"})

    entry = only_entry(action=Action.SIGN_IN_FAILED)
    assert (entry.practice_id, entry.actor_id, entry.resource_id) == (practice.pk, None, str(owner.pk))
    assert "not-the-password" not in str(entry.changes) + entry.message


def test_it_keeps_a_failed_sign_in_for_an_unknown_address_in_the_global_chain(client, practice):
    client.post("/accounts/login/", {"username": "nobody@nowhere.example", "password": "guess-guess"})

    entry = only_entry(action=Action.SIGN_IN_FAILED)
    assert entry.practice_id is None
    assert "nobody@nowhere.example" in entry.message


def test_it_records_a_lockout(client, owner, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for _attempt in range(2):
        client.post("/accounts/login/", {"username": owner.email, "password": "wrong-wrong"})

    entry = only_entry(action=Action.LOCKED_OUT)
    assert (entry.practice_id, entry.resource_id) == (owner.practice_id, str(owner.pk))


def test_it_records_a_password_change_without_copying_the_hash(owner_client, owner):
    owner_client.post(
        "/accounts/password/change/",
        {
            "old_password": PASSWORD,
            "new_password1": "a-brand-new-passphrase",
            "new_password2": "a-brand-new-passphrase",
        },
    )

    entry = only_entry(action=Action.PASSWORD_CHANGED, actor=owner)
    assert (entry.actor_id, entry.resource_id) == (owner.pk, str(owner.pk))
    assert entry.changes == {"password": ["(redacted)", "(redacted)"]}


def test_it_records_a_role_change_with_before_and_after(owner_client, owner, practice):
    member = UserFactory(practice=practice, role=User.Role.STAFF)

    owner_client.post(f"/settings/team/{member.pk}/role/", {"role": "admin"})

    entry = only_entry(action=Action.ROLE_CHANGED)
    assert (entry.actor_id, entry.resource_id, entry.practice_id) == (owner.pk, str(member.pk), practice.pk)
    assert entry.changes == {"role": ["staff", "admin"]}


def test_it_records_what_other_code_reports_through_audit_record(owner, practice):
    entry = audit.record("two_factor_changed", target=owner, actor=owner, detail="Authenticator app added")

    assert (entry.practice_id, entry.resource_type, entry.resource_id) == (practice.pk, "user", str(owner.pk))
    assert entries(action=Action.TWO_FACTOR_CHANGED) == [entry]


def test_it_records_two_factor_being_turned_off_by_an_admin(owner, teammate):
    from billingpulse.security import events

    events.two_factor_changed(teammate, enabled=False, actor=owner)

    entry = only_entry(action=Action.TWO_FACTOR_CHANGED)
    assert (entry.actor_id, entry.resource_id) == (owner.pk, str(teammate.pk))
    assert entry.message == f"reset by {owner.email}"


def test_it_records_the_sign_in_and_nothing_else_about_it(owner):
    before = last_id()
    client = Client()
    client.force_login(owner)

    assert [entry.action for entry in entries(pk__gt=before)] == [Action.SIGNED_IN]
