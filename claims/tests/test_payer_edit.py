from __future__ import annotations

import json
from datetime import time

import pytest

from claims.forms import PayerForm
from claims.models import Payer
from claims.tests.factories import PayerFactory

pytestmark = pytest.mark.django_db

MENU = {"steps": [{"prompt": "For claims, press 2", "options": {"2": "claims"}}]}


def _data(**changes) -> dict:
    data = {
        "name": "Aetna",
        "payer_id": "60054",
        "phone": "(800) 555-0111",
        "phone_extension": "",
        "time_zone": "America/New_York",
        "opens_at": "08:00",
        "closes_at": "17:00",
        "open_weekdays": ["0", "1", "2", "3", "4"],
        "timely_filing_days": "120",
        "max_calls_per_window": "",
        "call_window_minutes": "",
        "ivr_config": json.dumps(MENU),
        "ivr_notes": "",
    }
    return {**data, **changes}


# Adding


def test_it_adds_a_payer_to_the_practice(owner_client, practice):
    response = owner_client.post("/claims/payers/new/", _data(open_weekdays=["5", "0", "2"]))

    payer = Payer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/claims/payers/{payer.pk}/"
    assert payer.practice == practice
    assert payer.phone == "+18005550111"
    assert payer.open_weekdays == "025"
    assert payer.ivr_config == MENU
    assert payer.timely_filing_days == 120


def test_it_shows_an_empty_form_with_an_example_menu(owner_client):
    response = owner_client.get("/claims/payers/new/")

    assert response.status_code == 200
    body = response.content.decode()
    assert "Add payer" in body
    assert "For eligibility press 1" in body
    assert body.count('type="checkbox" name="open_weekdays"') == 7


def test_it_forbids_staff_from_adding_payers(teammate_client):
    assert teammate_client.get("/claims/payers/new/").status_code == 403
    assert teammate_client.post("/claims/payers/new/", _data()).status_code == 403
    assert not Payer.objects.exists()


def test_it_rejects_a_payer_id_already_in_the_practice(owner_client, practice):
    PayerFactory(practice=practice, payer_id="60054")

    response = owner_client.post("/claims/payers/new/", _data())

    assert response.status_code == 200
    assert b"Another payer in this practice has this payer ID." in response.content
    assert Payer.objects.count() == 1


def test_it_allows_a_payer_id_used_by_another_practice(owner_client, other_practice):
    PayerFactory(practice=other_practice, payer_id="60054")

    assert owner_client.post("/claims/payers/new/", _data()).status_code == 302


# The phone menu editor


def test_it_points_at_broken_json(owner_client):
    response = owner_client.post("/claims/payers/new/", _data(ivr_config='{"steps": [\n  {"prompt": "x",}\n]}'))

    assert response.status_code == 200
    assert b"This is not valid JSON: Expecting property name enclosed in double quotes at line 2, column 18." in (
        response.content
    )
    assert not Payer.objects.exists()


@pytest.mark.parametrize(
    ("menu", "message"),
    [
        ("[" * 100_000, "The JSON is nested more than 32 levels deep."),
        ('{"steps": [], "x": NaN}', "NaN is not a JSON number."),
    ],
)
def test_it_refuses_a_menu_too_deep_or_with_nan(owner_client, menu, message):
    response = owner_client.post("/claims/payers/new/", _data(ivr_config=menu))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Payer.objects.exists()


def test_it_lists_each_problem_in_the_menu(owner_client):
    menu = {"steps": [{"prompt": "ok"}, {"options": {"9": "claims"}}, {"prompt": "x", "options": {"12345": "y"}}]}

    response = owner_client.post("/claims/payers/new/", _data(ivr_config=json.dumps(menu)))

    body = response.content.decode()
    assert "Step 2: needs a &#x27;prompt&#x27;." in body
    assert "Step 3 options: " in body
    assert not Payer.objects.exists()


def test_it_wants_a_menu_object(owner_client):
    response = owner_client.post("/claims/payers/new/", _data(ivr_config="[1, 2]"))

    assert b"should be a JSON object with a &quot;steps&quot; list" in response.content


def test_it_accepts_an_empty_menu(owner_client):
    owner_client.post("/claims/payers/new/", _data(ivr_config="  "))

    assert Payer.objects.get().ivr_config == {}


# Other rules


def test_it_needs_at_least_one_open_day(owner_client):
    response = owner_client.post("/claims/payers/new/", _data(open_weekdays=[]))

    assert b"Pick at least one day" in response.content


def test_it_needs_the_line_to_close_after_it_opens(owner_client):
    response = owner_client.post("/claims/payers/new/", _data(opens_at="17:00", closes_at="08:00"))

    assert b"close after it opens" in response.content


def test_it_needs_both_call_limits_or_neither(owner_client):
    response = owner_client.post("/claims/payers/new/", _data(max_calls_per_window="5"))

    assert b"Set both the number of calls and the window length, or neither." in response.content


def test_it_explains_a_phone_number_it_cannot_read(owner_client):
    response = owner_client.post("/claims/payers/new/", _data(phone="555-01"))

    assert b"Enter a phone number with area code" in response.content


# Editing


def test_it_edits_a_payer(owner_client, practice):
    payer = PayerFactory(practice=practice, payer_id="60054", phone="+18005550100")

    response = owner_client.post(
        f"/claims/payers/{payer.pk}/edit/", _data(name="Aetna Better Health", opens_at="07:30")
    )

    assert response.status_code == 302
    payer.refresh_from_db()
    assert payer.name == "Aetna Better Health"
    assert payer.opens_at == time(7, 30)


def test_it_shows_the_saved_settings_in_the_form(owner_client, practice):
    payer = PayerFactory(practice=practice, phone="+18005550100", open_weekdays="024", ivr_config=MENU)

    body = owner_client.get(f"/claims/payers/{payer.pk}/edit/").content.decode()

    assert 'value="(800) 555-0100"' in body
    assert body.count("checked") == 3
    assert "&quot;prompt&quot;: &quot;For claims, press 2&quot;" in body
    assert "{\n  &quot;steps&quot;: [" in body  # pretty-printed


def test_it_forbids_staff_from_editing_payers(teammate_client, practice):
    payer = PayerFactory(practice=practice, name="Original")

    assert teammate_client.get(f"/claims/payers/{payer.pk}/edit/").status_code == 403
    assert teammate_client.post(f"/claims/payers/{payer.pk}/edit/", _data()).status_code == 403
    payer.refresh_from_db()
    assert payer.name == "Original"


def test_it_hides_another_practices_payer(owner_client, other_practice):
    payer = PayerFactory(practice=other_practice, name="Theirs")

    assert owner_client.get(f"/claims/payers/{payer.pk}/edit/").status_code == 404
    assert owner_client.post(f"/claims/payers/{payer.pk}/edit/", _data()).status_code == 404
    payer.refresh_from_db()
    assert payer.name == "Theirs"


def test_it_answers_404_for_an_unknown_payer(owner_client):
    assert owner_client.get("/claims/payers/999999/edit/").status_code == 404


def test_it_rejects_other_methods(owner_client, practice):
    payer = PayerFactory(practice=practice)

    assert owner_client.delete(f"/claims/payers/{payer.pk}/edit/").status_code == 405
    assert owner_client.put("/claims/payers/new/").status_code == 405


def test_it_sends_anonymous_users_to_sign_in(client):
    response = client.get("/claims/payers/new/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_payer_id_taken_after_the_form_checked_it_is_the_forms_error(owner_client, practice, monkeypatch):
    # Two admins add the same payer at once: ours checks, theirs saves, ours saves.
    check = PayerForm.clean_payer_id

    def check_then_lose_the_race(form):
        payer_id = check(form)
        PayerFactory(practice=practice, payer_id=payer_id)
        return payer_id

    monkeypatch.setattr(PayerForm, "clean_payer_id", check_then_lose_the_race)

    response = owner_client.post("/claims/payers/new/", _data())

    assert response.status_code == 200
    assert response.context["form"].errors == {"payer_id": ["Another payer in this practice has this payer ID."]}
    assert Payer.objects.count() == 1
