from __future__ import annotations

import pytest
from django.core import mail
from rest_framework.authtoken.models import Token

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


@pytest.mark.django_db
def test_it_rejects_an_invite_for_an_email_in_use(owner_client, outsider):
    response = owner_client.post(
        "/settings/team/invite/", {"full_name": "Dup", "email": "charlie@bravo.example", "role": "staff"}
    )

    assert response.status_code == 400
    assert b"already uses this email" in response.content
    assert User.objects.filter(email="charlie@bravo.example").get().practice == outsider.practice


@pytest.mark.django_db
def test_an_email_taken_after_the_form_checked_it_is_a_field_error(owner_client, outsider, monkeypatch, mailoutbox):
    # Two invitations at once: both pass the form's check, the database refuses the second.
    monkeypatch.setattr("billingpulse.forms._email_taken", lambda email: False)

    response = owner_client.post(
        "/settings/team/invite/", {"full_name": "Dup", "email": "charlie@bravo.example", "role": "staff"}
    )

    assert response.status_code == 400
    assert b"Someone already uses this email address on BillingPulse." in response.content
    assert User.objects.filter(email="charlie@bravo.example").get().practice == outsider.practice
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
