from __future__ import annotations

import pytest

from billingpulse.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):
    user = UserFactory(practice=None, is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


def test_it_shows_a_signed_note_read_only_and_refuses_a_change_posted_anyway(client, operator, signed_note):
    url = f"/admin/clinical/clinicalnote/{signed_note.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200 and b'name="plan"' not in page.content and b"_save" not in page.content

    refused = client.post(url, {"plan": "Changed in the admin."})

    assert refused.status_code == 403
    signed_note.refresh_from_db()
    assert signed_note.plan == "Fluids, rest; return if worse."


def test_it_offers_no_delete_for_notes(client, operator, signed_note):
    assert client.get(f"/admin/clinical/clinicalnote/{signed_note.pk}/delete/").status_code == 403
    listing = client.get("/admin/clinical/clinicalnote/")
    assert listing.status_code == 200 and b"delete_selected" not in listing.content


def test_it_lets_an_operator_fix_a_draft(client, operator, note):
    page = client.get(f"/admin/clinical/clinicalnote/{note.pk}/change/")
    assert page.status_code == 200 and b'name="plan"' in page.content
