"""Invitation requests at the same moment, on PostgreSQL: one row per address, one account per
invitation, and never a 500. Each request runs in its own thread with its own connection."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from django.core import mail
from django.db import connection
from django.test import Client

from billingpulse.models import Invitation, User
from billingpulse.tests.concurrency import at_once
from billingpulse.tests.factories import InvitationFactory

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="Concurrent writers need PostgreSQL."),
    pytest.mark.django_db(transaction=True),
]

N = 6
TOKEN = "the-emailed-token-for-races"
PASSWORD = "a-long-unusual-passphrase"
ACCEPT = {"full_name": "Dana Newhire", "password1": PASSWORD, "password2": PASSWORD}


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_it_keeps_one_invitation_when_an_address_is_invited_many_timesat_once(owner, practice):
    clients = [_signed_in(owner) for _ in range(N)]
    data = {"full_name": "Dana Newhire", "email": "dana@new.example", "role": "staff"}

    responses = at_once([lambda client=client: client.post("/settings/team/invite/", data) for client in clients])

    assert [response.status_code for response in responses] == [302] * N
    assert Invitation.objects.filter(practice=practice, email="dana@new.example").count() == 1
    # An email whose token a later send replaced before it went is not sent; one carries the link that works.
    assert 1 <= len(mail.outbox) <= N
    links = [re.search(r"(/accounts/invitation/[\w-]+/)", message.body).group(1) for message in mail.outbox]
    assert 200 in {Client().get(link).status_code for link in links}
    assert not User.objects.filter(email="dana@new.example").exists()


def test_it_makes_one_account_when_an_invitation_is_accepted_many_timesat_once(practice):
    invitation = InvitationFactory(practice=practice, email="dana@new.example", token=TOKEN)
    clients = [Client() for _ in range(N)]
    responses = at_once(
        [lambda client=client: client.post(f"/accounts/invitation/{TOKEN}/", ACCEPT) for client in clients]
    )

    # One makes the account; the others find the invitation used (404) or, if they looked it up
    # before that commit, the address now taken (409).
    statuses = Counter(response.status_code for response in responses)
    assert statuses[302] == 1
    assert statuses[404] + statuses[409] == N - 1
    assert User.objects.filter(email="dana@new.example", practice=practice).count() == 1
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None


def test_an_invitation_withdrawn_while_it_is_accepted_ends_one_way_or_the_other(owner, practice):
    for round_number in range(5):
        email = f"dana{round_number}@new.example"
        token = f"{TOKEN}-{round_number}"
        invitation = InvitationFactory(practice=practice, email=email, token=token)
        withdraw_url = f"/settings/team/invitations/{invitation.pk}/withdraw/"
        accept_url = f"/accounts/invitation/{token}/"
        admin, invitee = _signed_in(owner), Client()

        at_once(
            [
                lambda admin=admin, url=withdraw_url: admin.post(url),
                lambda invitee=invitee, url=accept_url: invitee.post(url, ACCEPT),
            ]
        )

        invitation.refresh_from_db()
        accepted = User.objects.filter(email=email).exists()
        if accepted:
            assert (invitation.accepted_at is not None, invitation.revoked_at) == (True, None)
        else:
            assert (invitation.accepted_at, invitation.revoked_at is not None) == (None, True)
