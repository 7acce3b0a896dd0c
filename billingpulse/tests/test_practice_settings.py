from __future__ import annotations

import pytest

URL = "/settings/practice/"
VALID = {
    "name": "Alpha Family Clinic",
    "npi": "1234567893",
    "tax_id": "741234567",
    "address_line1": "1 Main St",
    "address_line2": "",
    "city": "Austin",
    "state": "tx",
    "zip_code": "78701",
    "phone": "(512) 555-0100",
    "time_zone": "America/Chicago",
    "notification_email": "billing@alpha.example",
}


@pytest.mark.django_db
def test_it_saves_and_normalises_practice_details(owner_client, practice):
    response = owner_client.post(URL, VALID)

    assert response.status_code == 302
    practice.refresh_from_db()
    assert practice.npi == "1234567893"
    assert practice.tax_id == "74-1234567"
    assert practice.state == "TX"
    assert practice.phone == "+15125550100"
    assert practice.profile_complete


@pytest.mark.django_db
def test_it_explains_an_npi_with_a_wrong_check_digit(owner_client, practice):
    response = owner_client.post(URL, {**VALID, "npi": "1234567890"})

    assert response.status_code == 200
    assert b"last digit does not match" in response.content
    practice.refresh_from_db()
    assert practice.npi == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("npi", "12345", b"exactly 10 digits"),
        ("tax_id", "12-34", b"9 digits"),
        ("zip_code", "7870", b"5-digit ZIP"),
        ("phone", "555-0100", b"area code"),
        ("time_zone", "Mars/Olympus", b"Select a valid choice"),
        ("name", "", b"This field is required"),
    ],
)
def test_it_rejects_bad_values_with_a_clear_message(owner_client, practice, field, value, message):
    response = owner_client.post(URL, {**VALID, field: value})

    assert response.status_code == 200
    assert message in response.content
    practice.refresh_from_db()
    assert practice.city == ""


@pytest.mark.django_db
def test_it_is_for_admins_only(teammate_client):
    assert teammate_client.get(URL).status_code == 403
    assert teammate_client.post(URL, VALID).status_code == 403


@pytest.mark.django_db
def test_it_changes_only_the_users_own_practice(owner_client, practice, other_practice):
    owner_client.post(URL, {**VALID, "practice": other_practice.pk, "id": other_practice.pk})

    other_practice.refresh_from_db()
    assert other_practice.city == ""
    practice.refresh_from_db()
    assert practice.city == "Austin"


@pytest.mark.django_db
def test_it_sends_anonymous_users_to_sign_in(client):
    assert client.get(URL)["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_it_rejects_other_methods(owner_client):
    assert owner_client.delete(URL).status_code == 405
