from __future__ import annotations

import pytest

from billingpulse.models import EMAIL_TAKEN, Practice, User

URL = "/signup/"
GOOD = {
    "full_name": "Dana Scully",
    "email": "Dana@Example.com",
    "password": "a-long-unusual-passphrase",
    "practice_name": "Northside Pediatrics",
}


@pytest.mark.django_db
def test_it_creates_practice_with_the_user_as_admin_and_signs_in(client):
    response = client.post(URL, GOOD)

    assert response.status_code == 302
    assert response["Location"] == "/"
    user = User.objects.get()
    assert user.email == "dana@example.com"
    assert user.role == User.Role.ADMIN
    assert user.practice.name == "Northside Pediatrics"
    dashboard = client.get("/")
    assert dashboard.status_code == 200
    assert b"Northside Pediatrics" in dashboard.content


@pytest.mark.django_db
def test_it_shows_the_form(client):
    response = client.get(URL)
    assert response.status_code == 200
    assert b"Create your practice account" in response.content


@pytest.mark.django_db
def test_it_rejects_an_existing_email_in_any_case(client, owner):
    response = client.post(URL, {**GOOD, "email": "ALICE@alpha.example"})

    assert response.status_code == 200
    assert b"An account with this email already exists" in response.content
    assert Practice.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1", b"too short"),
        ("password123", b"too common"),
        ("48392018475629", b"entirely numeric"),
    ],
)
def test_it_rejects_a_weak_password_and_creates_nothing(client, password, message):
    response = client.post(URL, {**GOOD, "password": password})

    assert response.status_code == 200
    assert message in response.content
    assert not Practice.objects.exists()
    assert not User.objects.exists()


@pytest.mark.django_db
def test_it_rejects_a_blank_practice_name(client):
    response = client.post(URL, {**GOOD, "practice_name": "   "})

    assert response.status_code == 200
    assert b"This field is required" in response.content or b"Enter your practice" in response.content
    assert not User.objects.exists()


@pytest.mark.django_db
def test_it_ignores_a_forged_practice_id(client, other_practice):
    response = client.post(URL, {**GOOD, "practice": other_practice.pk, "practice_id": other_practice.pk})

    assert response.status_code == 302
    user = User.objects.get(email="dana@example.com")
    assert user.practice != other_practice
    assert other_practice.users.count() == 0


@pytest.mark.django_db
def test_it_redirects_a_signed_in_user_to_the_dashboard(owner_client):
    assert owner_client.get(URL)["Location"] == "/"


@pytest.mark.django_db
def test_it_rejects_other_methods(client):
    assert client.put(URL).status_code == 405


@pytest.mark.django_db
def test_an_email_taken_after_the_form_checked_it_is_a_field_error_and_leaves_nothing(client, owner, monkeypatch):
    # Two sign-ups at once: both pass the form's check, the database refuses the second.
    monkeypatch.setattr("billingpulse.forms._email_taken", lambda email: False)

    response = client.post(URL, {**GOOD, "email": "alice@alpha.example"})

    assert response.status_code == 200
    # The words of the form's own check, on the email field.
    assert response.context["form"].errors == {"email": [EMAIL_TAKEN]}
    assert Practice.objects.count() == 1  # the new practice was rolled back with the user


@pytest.mark.django_db
def test_it_refuses_an_eleventh_attempt_from_one_address_within_the_hour(client, owner):
    for number in range(10):
        response = client.post(URL, {**GOOD, "email": f"someone{number}@example.com", "password": "short"})
        assert response.status_code == 200

    refused = client.post(URL, {**GOOD, "email": "alice@alpha.example"})

    assert refused.status_code == 429
    assert b"Too many sign-up attempts; try again in 60 minutes." in refused.content
    assert 3590 <= int(refused["Retry-After"]) <= 3600
    # Refused before any check: it says nothing about the address.
    assert b"already exists" not in refused.content
    assert b"alice@alpha.example" in refused.content  # what was typed stays in the form
    assert Practice.objects.count() == 1


@pytest.mark.django_db
def test_it_refuses_a_sixth_attempt_for_one_email_from_any_address(client):
    for number in range(5):
        client.post(URL, {**GOOD, "password": "short"}, REMOTE_ADDR=f"10.0.0.{number}")

    refused = client.post(URL, GOOD, REMOTE_ADDR="10.0.0.99")

    assert refused.status_code == 429
    assert not User.objects.exists()
    # Another address from that client is still welcome.
    assert client.post(URL, {**GOOD, "email": "fox@example.com"}, REMOTE_ADDR="10.0.0.99").status_code == 302


@pytest.mark.django_db
def test_it_counts_only_attempts_not_visits(client):
    for _ in range(20):
        client.get(URL)

    assert client.post(URL, GOOD).status_code == 302
