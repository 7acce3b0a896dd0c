from __future__ import annotations

import re

import pytest
from django.core import mail
from rest_framework.authtoken.models import Token

from billingpulse import services
from billingpulse.models import User
from billingpulse.tests.factories import UserFactory

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


@pytest.mark.django_db
def test_it_invites_a_staff_member_and_emails_a_password_link(owner_client, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            "/settings/team/invite/", {"full_name": "Eve Newhire", "email": "Eve@Alpha.example", "role": "staff"}
        )

    assert response.status_code == 302
    user = User.objects.get(email="eve@alpha.example")
    assert user.practice == owner.practice
    assert user.role == User.Role.STAFF
    assert not user.has_usable_password()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["eve@alpha.example"]
    assert "/accounts/password/reset/" in mail.outbox[0].body


def _invite(client, email: str):
    return client.post("/settings/team/invite/", {"full_name": "Dana Newhire", "email": email, "role": "staff"})


def _message_after(client, response, email: str) -> str:
    """The message the page after the invite's redirect shows, with the address blanked."""
    page = client.get(response["Location"]).content.decode()
    return re.search(r'<div id="messages".*?</div>', page, re.S).group().replace(email, "EMAIL")


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
        _invite(owner_client, "charlie@bravo.example")

    [notice] = mail.outbox
    assert notice.to == ["charlie@bravo.example"]
    assert notice.subject == "Someone tried to add you to Alpha Family Clinic on BillingPulse"
    assert "Alice Admin tried to add this email address to Alpha Family Clinic" in notice.body
    assert "/accounts/password/reset/" not in notice.body
    assert "Bravo" not in notice.body


@pytest.mark.django_db
def test_it_says_an_address_of_this_practice_is_already_a_member(owner_client, teammate, mailoutbox):
    response = _invite(owner_client, "BOB@alpha.example")

    assert response.status_code == 400
    assert b"bob@alpha.example is already a member of your practice." in response.content
    assert User.objects.get(pk=teammate.pk).full_name == "Bob Biller"
    assert mailoutbox == []


def _taken_right_after_the_look(monkeypatch, **owner):
    """Another request adds the address between invite_member's look-up and its insert."""
    look = services._account
    taken: list[str] = []

    def look_then_lose_the_race(email):
        found = look(email)
        if not taken:
            taken.append(email)
            UserFactory(email=email, full_name="Theirs", **owner)
        return found

    monkeypatch.setattr(services, "_account", look_then_lose_the_race)


@pytest.mark.django_db
def test_an_address_another_practice_took_after_the_check_is_answered_as_a_new_one(
    owner_client, other_practice, monkeypatch, django_capture_on_commit_callbacks
):
    _taken_right_after_the_look(monkeypatch, practice=other_practice)

    with django_capture_on_commit_callbacks(execute=True):
        response = _invite(owner_client, "dana@new.example")

    assert (response.status_code, response["Location"]) == (302, "/settings/team/")
    assert User.objects.get(email="dana@new.example").practice == other_practice
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["dana@new.example"], "Someone tried to add you to Alpha Family Clinic on BillingPulse")
    ]


@pytest.mark.django_db
def test_an_address_a_teammate_invited_after_the_check_is_already_a_member(
    owner_client, practice, monkeypatch, mailoutbox
):
    _taken_right_after_the_look(monkeypatch, practice=practice)

    response = _invite(owner_client, "dana@new.example")

    assert response.status_code == 400
    assert b"dana@new.example is already a member of your practice." in response.content
    assert mailoutbox == []


@pytest.mark.django_db
def test_it_forbids_staff_from_inviting(teammate_client):
    response = teammate_client.post(
        "/settings/team/invite/", {"full_name": "X", "email": "x@y.example", "role": "admin"}
    )

    assert response.status_code == 403
    assert not User.objects.filter(email="x@y.example").exists()


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
