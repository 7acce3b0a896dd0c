from __future__ import annotations

import re

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from billingpulse.tests.factories import UserFactory


@pytest.mark.django_db
def test_it_signs_in_with_email_in_any_case(client, owner):
    response = client.post("/accounts/login/", {"username": "ALICE@Alpha.example", "password": "correct-horse-battery"})

    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.mark.django_db
def test_it_explains_a_failed_sign_in(client, owner):
    response = client.post("/accounts/login/", {"username": "alice@alpha.example", "password": "wrong"})

    assert response.status_code == 200
    assert b"do not match an active account" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("username", "password"),
    [("a%" * 500_000, "wrong"), ("alice@alpha.example", "x" * 1_000_000), ("alice@alpha.example\x00", "wrong")],
    ids=["1 MB email of wildcards", "1 MB password", "NUL byte"],
)
def test_it_explains_a_failed_sign_in_with_oversized_or_odd_input(client, owner, username, password):
    response = client.post("/accounts/login/", {"username": username, "password": password})

    assert response.status_code == 200
    assert b"do not match an active account" in response.content


@pytest.mark.django_db
def test_it_refuses_a_deactivated_user(client, owner):
    owner.is_active = False
    owner.save()

    response = client.post("/accounts/login/", {"username": "alice@alpha.example", "password": "correct-horse-battery"})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_it_signs_out_with_post_only(owner_client):
    assert owner_client.get("/accounts/logout/").status_code == 405

    response = owner_client.post("/accounts/logout/")

    assert response["Location"] == "/accounts/login/"
    assert owner_client.get("/")["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_it_changes_the_password(owner_client, owner):
    response = owner_client.post(
        "/accounts/password/change/",
        {
            "old_password": "correct-horse-battery",
            "new_password1": "a-brand-new-passphrase",
            "new_password2": "a-brand-new-passphrase",
        },
    )

    assert response["Location"] == "/accounts/password/change/done/"
    owner.refresh_from_db()
    assert owner.check_password("a-brand-new-passphrase")


@pytest.mark.django_db
def test_it_resets_a_forgotten_password_by_email(client, owner):
    client.post("/accounts/password/reset/", {"email": "alice@alpha.example"})

    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", mail.outbox[0].body).group(1)
    form_url = client.get(link)["Location"]
    new = "reset-to-something-new"
    response = client.post(form_url, {"new_password1": new, "new_password2": new})

    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password(new)


@pytest.mark.django_db
def test_it_still_takes_the_set_password_link_of_a_teammate_added_before_invitations(client, practice):
    # Teammates used to be made at invite time, with no password and this link in their email.
    invited = UserFactory(email="old@alpha.example", practice=practice)
    invited.set_unusable_password()
    invited.save()
    uid, token = urlsafe_base64_encode(force_bytes(invited.pk)), default_token_generator.make_token(invited)

    form_url = client.get(f"/accounts/password/reset/{uid}/{token}/")["Location"]
    new = "an-old-invite-still-works"
    response = client.post(form_url, {"new_password1": new, "new_password2": new})

    assert (response.status_code, response["Location"]) == (302, "/accounts/password/reset/complete/")
    invited.refresh_from_db()
    assert invited.check_password(new)
    assert client.session["_auth_user_id"] == str(invited.pk)


@pytest.mark.django_db
def test_it_reveals_nothing_for_an_unknown_reset_email(client):
    response = client.post("/accounts/password/reset/", {"email": "nobody@nowhere.example"})

    assert response["Location"] == "/accounts/password/reset/sent/"
    assert mail.outbox == []


@pytest.mark.django_db
def test_it_rejects_an_htmx_post_without_a_csrf_token(owner, teammate):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)

    response = client.post(f"/settings/team/{teammate.pk}/role/", {"role": "admin"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 403
    assert b"This form has expired" in response.content
    teammate.refresh_from_db()
    assert teammate.role == "staff"


@pytest.mark.django_db
def test_it_accepts_an_htmx_post_with_the_token_from_the_page_header(owner, teammate):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    page = client.get("/settings/team/").content.decode()
    token = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', page).group(1)

    response = client.post(
        f"/settings/team/{teammate.pk}/role/", {"role": "admin"}, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=token
    )

    assert response.status_code == 200
    teammate.refresh_from_db()
    assert teammate.role == "admin"
