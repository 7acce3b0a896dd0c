from __future__ import annotations

import re

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from billingpulse import services
from billingpulse.models import EMAIL_TAKEN, INVITATION_EXPIRY, Invitation, User
from billingpulse.tests.factories import InvitationFactory, UserFactory

TOKEN = "k3J9-the-emailed-token-Qx81"
URL = f"/accounts/invitation/{TOKEN}/"
UNUSABLE = "This invitation has expired or was withdrawn; ask your admin for a new one."
NEW_PASSWORD = "a-long-unusual-passphrase"


@pytest.fixture
def invitation(practice, owner):
    return InvitationFactory(
        practice=practice, invited_by=owner, email="dana@new.example", full_name="Dana Newhire", token=TOKEN
    )


def _accept(client: Client, url: str = URL, **fields):
    data = {"full_name": "Dana Newhire", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD, **fields}
    return client.post(url, data)


def _assert_unusable(response) -> None:
    assert response.status_code == 404
    assert UNUSABLE in response.content.decode()
    assert b'name="password1"' not in response.content


@pytest.mark.django_db
def test_it_shows_the_practice_the_address_and_a_prefilled_name(client, invitation):
    response = client.get(URL)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Join Alpha Family Clinic" in page
    assert "Alice Admin invited you to BillingPulse as staff." in page
    assert '<strong class="invitation-email">dana@new.example</strong>' in page
    assert 'name="full_name" value="Dana Newhire"' in page
    assert 'name="password1"' in page and 'name="password2"' in page
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_it_makes_the_account_in_the_practice_with_the_role_and_signs_in(client, invitation, practice):
    invitation.role = User.Role.ADMIN
    invitation.save()

    response = _accept(client, full_name="  Dana N. Newhire ")

    assert (response.status_code, response["Location"]) == (302, "/")
    user = User.objects.get(email="dana@new.example")
    assert (user.practice, user.role, user.full_name) == (practice, User.Role.ADMIN, "Dana N. Newhire")
    assert user.check_password(NEW_PASSWORD)
    assert client.session["_auth_user_id"] == str(user.pk)
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    dashboard = client.get("/").content.decode()
    assert "Welcome to BillingPulse. You are now a member of Alpha Family Clinic." in dashboard


@pytest.mark.django_db
def test_it_lists_the_new_member_instead_of_the_invitation(client, owner_client, invitation):
    _accept(client)

    page = owner_client.get("/settings/team/").content.decode()

    assert f'id="invitation-{invitation.pk}"' not in page
    member = User.objects.get(email="dana@new.example")
    assert f'id="member-{member.pk}"' in page


@pytest.mark.django_db
def test_it_checks_the_password_with_the_validators(client, invitation):
    response = _accept(client, password1="123456789012", password2="123456789012")

    assert response.status_code == 200
    assert b"This password is entirely numeric." in response.content
    assert not User.objects.filter(email="dana@new.example").exists()
    assert Invitation.objects.usable().filter(pk=invitation.pk).exists()


@pytest.mark.django_db
def test_it_asks_for_the_same_password_twice(client, invitation):
    response = _accept(client, password2="a-different-passphrase")

    assert response.status_code == 200
    assert b"The two passwords do not match." in response.content
    assert not User.objects.filter(email="dana@new.example").exists()


@pytest.mark.django_db
def test_it_asks_for_a_name(client, invitation):
    response = _accept(client, full_name="   ")

    assert response.status_code == 200
    assert b"Enter your name." in response.content
    assert not User.objects.filter(email="dana@new.example").exists()


@pytest.mark.django_db
def test_it_refuses_an_expired_invitation(client, invitation):
    with time_machine.travel(invitation.sent_at + INVITATION_EXPIRY):
        _assert_unusable(client.get(URL))
        _assert_unusable(_accept(client))

    assert not User.objects.filter(email="dana@new.example").exists()


@pytest.mark.django_db
def test_it_accepts_an_invitation_just_before_it_expires(client, invitation):
    with time_machine.travel(invitation.sent_at + INVITATION_EXPIRY - timezone.timedelta(minutes=1)):
        response = _accept(client)

    assert response.status_code == 302
    assert User.objects.filter(email="dana@new.example").exists()


@pytest.mark.django_db
def test_it_refuses_a_withdrawn_invitation(client, owner_client, invitation):
    owner_client.post(f"/settings/team/invitations/{invitation.pk}/withdraw/")

    _assert_unusable(client.get(URL))
    _assert_unusable(_accept(client))
    assert not User.objects.filter(email="dana@new.example").exists()


@pytest.mark.django_db
def test_it_refuses_a_used_invitation(client, invitation):
    _accept(client)
    again = Client()

    _assert_unusable(again.get(URL))
    _assert_unusable(_accept(again, full_name="Someone Else"))
    assert list(User.objects.filter(email="dana@new.example").values_list("full_name", flat=True)) == ["Dana Newhire"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "token",
    [TOKEN[:-1], TOKEN + "x", TOKEN.upper(), "x", "a" * 2000, "%00", "..", "1"],
    ids=["cut", "extended", "case", "short", "long", "nul", "dots", "an id"],
)
def test_it_refuses_a_tampered_token(client, invitation, token):
    _assert_unusable(client.get(f"/accounts/invitation/{token}/"))
    _assert_unusable(_accept(client, url=f"/accounts/invitation/{token}/"))
    assert not User.objects.filter(email="dana@new.example").exists()


@pytest.mark.django_db
def test_it_stores_only_a_hash_of_the_token(invitation):
    stored = Invitation.objects.filter(pk=invitation.pk).values().get()

    assert TOKEN not in str(stored)


@pytest.mark.django_db
def test_it_refuses_an_address_that_got_an_account_meanwhile(client, invitation, other_practice):
    UserFactory(email="Dana@New.example", practice=other_practice)

    shown = client.get(URL)
    posted = _accept(client)

    for response in (shown, posted):
        assert response.status_code == 409
        assert EMAIL_TAKEN in response.content.decode()
        assert b'name="password1"' not in response.content
    assert User.objects.get(email__iexact="dana@new.example").practice == other_practice
    assert Invitation.objects.usable().filter(pk=invitation.pk).exists()


@pytest.mark.django_db
def test_an_account_made_after_the_check_is_refused_with_the_same_message(
    client, invitation, other_practice, monkeypatch
):
    # Another request makes the account after every look: the unique constraint answers.
    monkeypatch.setattr(services, "_account", lambda email: None)
    UserFactory(email="dana@new.example", practice=other_practice)

    response = _accept(client)

    assert response.status_code == 409
    assert EMAIL_TAKEN in response.content.decode()
    assert User.objects.get(email="dana@new.example").practice == other_practice
    # Nothing was written: the invitation is still open and unaccepted.
    assert Invitation.objects.usable().filter(pk=invitation.pk).exists()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_it_never_lets_an_address_with_an_account_elsewhere_join(client, practice, outsider, other_practice):
    # Such an address is never sent a link; even a known token for it makes nothing.
    InvitationFactory(practice=practice, email=outsider.email, token=TOKEN)

    response = _accept(client)

    assert response.status_code == 409
    outsider.refresh_from_db()
    assert (outsider.practice, outsider.role) == (other_practice, User.Role.ADMIN)
    assert User.objects.filter(email__iexact=outsider.email).count() == 1


@pytest.mark.django_db
def test_a_second_acceptance_at_once_finds_the_invitation_used(invitation):
    services.accept_invitation(invitation=invitation, full_name="Dana", password=NEW_PASSWORD)

    with pytest.raises(services.InvitationUnusable):
        services.accept_invitation(invitation=invitation, full_name="Dana", password=NEW_PASSWORD)

    assert User.objects.filter(email="dana@new.example").count() == 1


@pytest.mark.django_db
def test_it_signs_in_as_the_new_member_when_someone_else_was_signed_in(owner_client, invitation):
    _accept(owner_client)

    assert owner_client.session["_auth_user_id"] == str(User.objects.get(email="dana@new.example").pk)


@pytest.mark.django_db
def test_it_rejects_other_methods(client, invitation):
    assert client.put(URL).status_code == 405
    assert client.delete(URL).status_code == 405


@pytest.mark.django_db
def test_it_follows_the_emailed_link_end_to_end(
    client, owner_client, practice, mailoutbox, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://billing.example"
    invite = {"full_name": "Eve Newhire", "email": "eve@new.example", "role": "staff"}
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post("/settings/team/invite/", invite)
    [message] = mailoutbox
    path = re.search(r"^https://billing\.example(/accounts/invitation/[\w-]+/)$", message.body, re.M).group(1)

    assert client.get(path).status_code == 200
    response = _accept(client, url=path, full_name="Eve Newhire")

    assert response.status_code == 302
    assert User.objects.get(email="eve@new.example").practice == practice
