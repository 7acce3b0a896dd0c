from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from billingpulse import services
from billingpulse.models import INVITATION_EXPIRY, Invitation, User
from billingpulse.tests.factories import InvitationFactory, UserFactory

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.mark.django_db
def test_it_lists_members_of_the_practice_only(owner_client, teammate, outsider):
    response = owner_client.get("/settings/team/")

    assert response.status_code == 200
    assert b"bob@alpha.example" in response.content
    assert b"charlie@bravo.example" not in response.content


@pytest.mark.django_db
def test_it_shows_staff_the_team_without_controls(teammate_client, owner):
    response = teammate_client.get("/settings/team/")

    assert response.status_code == 200
    assert b"alice@alpha.example" in response.content
    assert b"Add a teammate" not in response.content
    assert b"Deactivate" not in response.content


def _invite(client, email: str, full_name: str = "Dana Newhire", role: str = "staff"):
    return client.post("/settings/team/invite/", {"full_name": full_name, "email": email, "role": role})


def _link_in(message) -> str:
    return re.search(r"https?://\S+?(/accounts/invitation/\S+/)", message.body).group(1)


def _message_after(client, response, email: str) -> str:
    """The message the page after the invite's redirect shows, with the address blanked."""
    page = client.get(response["Location"]).content.decode()
    return re.search(r'<div id="messages".*?</div>', page, re.S).group().replace(email, "EMAIL")


def _row(page: str, invitation: Invitation) -> str:
    return re.search(rf'<tr id="invitation-{invitation.pk}">.*?</tr>', page, re.S).group()


@pytest.mark.django_db
def test_it_invites_an_address_without_making_an_account(owner_client, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _invite(owner_client, "Eve@Alpha.example", full_name="Eve Newhire")

    assert (response.status_code, response["Location"]) == (302, "/settings/team/")
    assert not User.objects.filter(email__iexact="eve@alpha.example").exists()
    invitation = Invitation.objects.get()
    assert (invitation.practice, invitation.email, invitation.full_name, invitation.role, invitation.invited_by) == (
        owner.practice,
        "eve@alpha.example",
        "Eve Newhire",
        User.Role.STAFF,
        owner,
    )
    [message] = mail.outbox
    assert message.to == ["eve@alpha.example"]
    assert message.subject == "You are invited to join Alpha Family Clinic on BillingPulse"
    assert "Alice Admin invited you to join Alpha Family Clinic on BillingPulse as staff." in message.body
    assert _link_in(message).startswith("/accounts/invitation/")


@pytest.mark.django_db
def test_it_lists_a_pending_invitation_with_a_withdraw_button(owner_client, practice):
    invitation = InvitationFactory(practice=practice, email="eve@alpha.example", full_name="Eve Newhire")

    row = _row(owner_client.get("/settings/team/").content.decode(), invitation)

    assert "Eve Newhire" in row and "eve@alpha.example" in row
    assert "Invited" in row and "Staff" in row and "Sent " in row
    assert f'hx-post="/settings/team/invitations/{invitation.pk}/withdraw/"' in row
    assert f'action="/settings/team/invitations/{invitation.pk}/withdraw/"' in row


@pytest.mark.django_db
def test_it_shows_staff_pending_invitations_without_controls(teammate_client, practice):
    invitation = InvitationFactory(practice=practice, email="eve@alpha.example")

    row = _row(teammate_client.get("/settings/team/").content.decode(), invitation)

    assert "eve@alpha.example" in row
    assert "Withdraw" not in row


@pytest.mark.django_db
def test_it_marks_an_expired_invitation(owner_client, practice):
    invitation = InvitationFactory(practice=practice, sent_at=timezone.now() - INVITATION_EXPIRY)

    row = _row(owner_client.get("/settings/team/").content.decode(), invitation)

    assert "Expired" in row and "Invited" not in row
    assert "Withdraw" in row


@pytest.mark.django_db
def test_it_lists_an_invite_to_another_practices_user_exactly_like_one_to_a_new_address(
    owner_client, outsider, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _invite(owner_client, "dana@new.example", full_name="Dana Newhire")
        _invite(owner_client, "charlie@bravo.example", full_name="Carl Someone")
    fresh = Invitation.objects.get(email="dana@new.example")
    taken = Invitation.objects.get(email="charlie@bravo.example")

    page = owner_client.get("/settings/team/").content.decode()

    def blanked(invitation: Invitation, name: str) -> str:
        row = _row(page, invitation).replace(invitation.email, "EMAIL").replace(name, "NAME")
        row = row.replace(f"invitation-{invitation.pk}", "invitation-ID").replace(f"/{invitation.pk}/", "/ID/")
        return row.replace(f">{name[0]}</span>", ">N</span>")  # the avatar's initial

    assert blanked(fresh, "Dana Newhire") == blanked(taken, "Carl Someone")
    assert "Invited" in blanked(fresh, "Dana Newhire")


@pytest.mark.django_db
def test_it_answers_an_invite_for_another_practices_user_as_for_a_new_address(
    owner_client, outsider, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        fresh = _invite(owner_client, "dana@new.example")
    fresh_message = _message_after(owner_client, fresh, "dana@new.example")
    with django_capture_on_commit_callbacks(execute=True):
        taken = _invite(owner_client, "charlie@bravo.example")

    assert (taken.status_code, taken["Location"]) == (fresh.status_code, fresh["Location"]) == (302, "/settings/team/")
    assert taken.content == fresh.content
    assert _message_after(owner_client, taken, "charlie@bravo.example") == fresh_message
    assert "Invitation sent to EMAIL." in fresh_message
    outsider_now = User.objects.get(pk=outsider.pk)
    assert (outsider_now.practice, outsider_now.role, outsider_now.full_name, outsider_now.password) == (
        outsider.practice,
        outsider.role,
        outsider.full_name,
        outsider.password,
    )


@pytest.mark.django_db
def test_it_tells_another_practices_user_that_someone_tried_to_add_them(
    owner_client, owner, outsider, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _invite(owner_client, "Charlie@Bravo.example")

    [notice] = mail.outbox
    assert notice.to == ["charlie@bravo.example"]
    assert notice.subject == "Someone tried to add you to Alpha Family Clinic on BillingPulse"
    assert "Alice Admin tried to add this email address to Alpha Family Clinic" in notice.body
    assert "/accounts/invitation/" not in notice.body
    assert "/accounts/password/reset/" not in notice.body
    assert "Bravo" not in notice.body


@pytest.mark.django_db
def test_it_sends_an_operator_the_notice_and_no_link(owner_client, django_capture_on_commit_callbacks):
    User.objects.create_superuser("ops@billingpulse.example", "an-operator-password")

    with django_capture_on_commit_callbacks(execute=True):
        response = _invite(owner_client, "ops@billingpulse.example")

    assert response.status_code == 302
    [notice] = mail.outbox
    assert notice.subject == "Someone tried to add you to Alpha Family Clinic on BillingPulse"
    assert "/accounts/invitation/" not in notice.body
    assert User.objects.get(email="ops@billingpulse.example").practice is None


@pytest.mark.django_db
def test_it_sends_the_notice_to_an_address_another_practice_took_before_the_email_went(
    owner_client, other_practice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _invite(owner_client, "dana@new.example")
    UserFactory(email="dana@new.example", practice=other_practice)
    for callback in callbacks:
        callback()

    assert (response.status_code, response["Location"]) == (302, "/settings/team/")
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["dana@new.example"], "Someone tried to add you to Alpha Family Clinic on BillingPulse")
    ]


@pytest.mark.django_db
def test_it_says_an_address_of_this_practice_is_already_a_member(owner_client, teammate, mailoutbox):
    response = _invite(owner_client, "BOB@alpha.example")

    assert response.status_code == 400
    assert b"bob@alpha.example is already a member of your practice." in response.content
    assert User.objects.get(pk=teammate.pk).full_name == "Bob Biller"
    assert not Invitation.objects.exists()
    assert mailoutbox == []


@pytest.mark.django_db
def test_the_service_refuses_an_address_that_joined_after_the_forms_check(owner, practice, mailoutbox):
    # The form looked before the invitee's account was made; the service looks again under the team lock.
    UserFactory(email="dana@new.example", practice=practice)

    with pytest.raises(ValidationError) as error:
        services.invite_member(
            practice=practice, invited_by=owner, email="dana@new.example", full_name="Dana", role="staff"
        )

    assert error.value.message_dict == {"email": ["dana@new.example is already a member of your practice."]}
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_it_re_sends_a_pending_invitation_without_a_second_row(owner_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _invite(owner_client, "dana@new.example", full_name="Dana Newhire")
    with django_capture_on_commit_callbacks(execute=True):
        response = _invite(owner_client, "DANA@new.example", full_name="Dana N. Newhire", role="admin")

    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.full_name, invitation.role) == ("Dana N. Newhire", User.Role.ADMIN)
    first, second = mail.outbox
    assert first.to == second.to == ["dana@new.example"]
    # Only the newest link works.
    assert owner_client.get(_link_in(first)).status_code == 404
    assert Client().get(_link_in(second)).status_code == 200


@pytest.mark.django_db
def test_it_sends_no_stale_link_when_a_newer_send_overtook_it(owner_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as first_send:
        _invite(owner_client, "dana@new.example")
    with django_capture_on_commit_callbacks(execute=True):
        _invite(owner_client, "dana@new.example")
    for callback in first_send:
        callback()

    [message] = mail.outbox
    assert Client().get(_link_in(message)).status_code == 200


@pytest.mark.django_db
def test_an_invitation_another_request_made_after_the_look_is_re_sent(
    owner, practice, monkeypatch, django_capture_on_commit_callbacks
):
    look = services._open_invitation
    calls: list[str] = []

    def look_then_lose_the_race(practice, email):
        found = look(practice, email)
        if not calls:
            calls.append(email)
            InvitationFactory(practice=practice, email=email, full_name="Theirs")
        return found

    monkeypatch.setattr(services, "_open_invitation", look_then_lose_the_race)

    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invite_member(
            practice=practice, invited_by=owner, email="dana@new.example", full_name="Dana Newhire", role="staff"
        )

    assert list(Invitation.objects.values_list("pk", "full_name")) == [(invitation.pk, "Dana Newhire")]
    [message] = mail.outbox
    assert Client().get(_link_in(message)).status_code == 200


@pytest.mark.django_db
def test_it_invites_again_after_a_withdrawal(owner_client, practice, django_capture_on_commit_callbacks):
    withdrawn = InvitationFactory(practice=practice, email="dana@new.example", revoked_at=timezone.now())

    with django_capture_on_commit_callbacks(execute=True):
        _invite(owner_client, "dana@new.example")

    assert Invitation.objects.open().get().pk != withdrawn.pk
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_it_forbids_staff_from_inviting(teammate_client):
    response = teammate_client.post(
        "/settings/team/invite/", {"full_name": "X", "email": "x@y.example", "role": "admin"}
    )

    assert response.status_code == 403
    assert not User.objects.filter(email="x@y.example").exists()
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_it_still_lists_a_user_invited_before_invitations_as_invited(owner_client, practice):
    legacy = UserFactory(email="old@alpha.example", full_name="Olga Oldflow", practice=practice)
    legacy.set_unusable_password()
    legacy.save()

    page = owner_client.get("/settings/team/").content.decode()

    row = re.search(rf'<tr id="member-{legacy.pk}".*?</tr>', page, re.S).group()
    assert "Invited" in row and "old@alpha.example" in row


@pytest.mark.django_db
def test_it_withdraws_an_invitation(owner_client, practice):
    invitation = InvitationFactory(practice=practice, email="dana@new.example", token="the-emailed-token")

    response = owner_client.post(f"/settings/team/invitations/{invitation.pk}/withdraw/")

    assert (response.status_code, response["Location"]) == (302, "/settings/team/")
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    page = owner_client.get("/settings/team/").content.decode()
    assert "Invitation to dana@new.example withdrawn." in page
    assert f'id="invitation-{invitation.pk}"' not in page
    assert Client().get("/accounts/invitation/the-emailed-token/").status_code == 404


@pytest.mark.django_db
def test_it_withdraws_an_invitation_with_htmx(owner_client, practice):
    invitation = InvitationFactory(practice=practice, email="dana@new.example")

    response = owner_client.post(f"/settings/team/invitations/{invitation.pk}/withdraw/", **HX)

    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="messages"' in body and 'hx-swap-oob="true"' in body
    assert "Invitation to dana@new.example withdrawn." in body
    assert "<tr" not in body and "<html" not in body
    assert Invitation.objects.open().count() == 0


@pytest.mark.django_db
def test_it_withdraws_an_already_withdrawn_invitation_quietly(owner_client, practice):
    invitation = InvitationFactory(practice=practice, revoked_at=timezone.now() - timedelta(days=1))
    before = invitation.revoked_at

    response = owner_client.post(f"/settings/team/invitations/{invitation.pk}/withdraw/")

    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at == before


@pytest.mark.django_db
def test_it_forbids_staff_from_withdrawing(teammate_client, practice):
    invitation = InvitationFactory(practice=practice)

    response = teammate_client.post(f"/settings/team/invitations/{invitation.pk}/withdraw/")

    assert response.status_code == 403
    assert Invitation.objects.open().filter(pk=invitation.pk).exists()


@pytest.mark.django_db
def test_it_hides_another_practices_invitation(owner_client, other_practice):
    invitation = InvitationFactory(practice=other_practice)

    response = owner_client.post(f"/settings/team/invitations/{invitation.pk}/withdraw/")

    assert response.status_code == 404
    assert Invitation.objects.open().filter(pk=invitation.pk).exists()


@pytest.mark.django_db
def test_it_answers_404_for_an_unknown_invitation(owner_client):
    assert owner_client.post("/settings/team/invitations/999999/withdraw/").status_code == 404


@pytest.mark.django_db
def test_it_rejects_get_on_withdraw(owner_client, practice):
    invitation = InvitationFactory(practice=practice)

    assert owner_client.get(f"/settings/team/invitations/{invitation.pk}/withdraw/").status_code == 405


@pytest.mark.django_db
def test_it_sends_anonymous_users_to_sign_in_from_withdraw(client, practice):
    invitation = InvitationFactory(practice=practice)

    response = client.post(f"/settings/team/invitations/{invitation.pk}/withdraw/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert Invitation.objects.open().filter(pk=invitation.pk).exists()


@pytest.mark.django_db
def test_it_changes_a_role_and_returns_the_row_for_htmx(owner_client, teammate):
    response = owner_client.post(f"/settings/team/{teammate.pk}/role/", {"role": "admin"}, **HX)

    assert response.status_code == 200
    teammate.refresh_from_db()
    assert teammate.role == User.Role.ADMIN
    body = response.content.decode()
    assert f'id="member-{teammate.pk}"' in body
    assert 'id="messages"' in body and 'hx-swap-oob="true"' in body
    assert "<html" not in body


@pytest.mark.django_db
def test_it_keeps_at_least_one_active_admin(owner_client, owner, practice):
    UserFactory(practice=practice, role=User.Role.ADMIN, is_active=False)

    response = owner_client.post(f"/settings/team/{owner.pk}/role/", {"role": "staff"}, follow=True)

    owner.refresh_from_db()
    assert owner.role == User.Role.ADMIN
    assert b"at least one active admin" in response.content


@pytest.mark.django_db
def test_it_lets_one_of_two_admins_demote_the_other(owner_client, practice):
    second_admin = UserFactory(practice=practice, role=User.Role.ADMIN)

    owner_client.post(f"/settings/team/{second_admin.pk}/role/", {"role": "staff"})

    second_admin.refresh_from_db()
    assert second_admin.role == User.Role.STAFF


@pytest.mark.django_db
def test_it_refuses_to_deactivate_yourself(owner_client, owner):
    response = owner_client.post(f"/settings/team/{owner.pk}/active/", {"active": "0"}, follow=True)

    owner.refresh_from_db()
    assert owner.is_active
    assert b"cannot deactivate your own account" in response.content


@pytest.mark.django_db
def test_it_deactivates_a_member_and_revokes_their_token(owner_client, teammate):
    Token.objects.create(user=teammate)

    response = owner_client.post(f"/settings/team/{teammate.pk}/active/", {"active": "0"})

    assert response.status_code == 302
    teammate.refresh_from_db()
    assert not teammate.is_active
    assert not Token.objects.filter(user=teammate).exists()


@pytest.mark.django_db
def test_it_reactivates_a_member(owner_client, teammate):
    teammate.is_active = False
    teammate.save()

    owner_client.post(f"/settings/team/{teammate.pk}/active/", {"active": "1"})

    teammate.refresh_from_db()
    assert teammate.is_active


@pytest.mark.django_db
def test_it_forbids_staff_from_changing_roles(teammate_client, owner):
    response = teammate_client.post(f"/settings/team/{owner.pk}/role/", {"role": "staff"})

    assert response.status_code == 403
    owner.refresh_from_db()
    assert owner.role == User.Role.ADMIN


@pytest.mark.django_db
def test_it_hides_another_practices_member(owner_client, outsider):
    response = owner_client.post(f"/settings/team/{outsider.pk}/role/", {"role": "staff"})

    assert response.status_code == 404
    outsider.refresh_from_db()
    assert outsider.role == User.Role.ADMIN


@pytest.mark.django_db
def test_it_rejects_an_unknown_role(owner_client, teammate):
    response = owner_client.post(f"/settings/team/{teammate.pk}/role/", {"role": "superuser"}, follow=True)

    teammate.refresh_from_db()
    assert teammate.role == User.Role.STAFF
    assert b"Choose admin or staff" in response.content


@pytest.mark.django_db
def test_it_answers_404_for_an_unknown_member(owner_client):
    assert owner_client.post("/settings/team/999999/role/", {"role": "staff"}).status_code == 404


@pytest.mark.django_db
def test_it_rejects_get_on_actions(owner_client, teammate):
    assert owner_client.get(f"/settings/team/{teammate.pk}/role/").status_code == 405


@pytest.mark.django_db
def test_it_sends_anonymous_users_to_sign_in(client):
    response = client.get("/settings/team/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
