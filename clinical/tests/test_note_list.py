from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from billingpulse.tests.factories import PatientFactory, ProviderFactory
from clinical.models import ClinicalNote
from clinical.tests.factories import ClinicalNoteFactory

HX = {"HTTP_HX_REQUEST": "true"}
URL = "/notes/"
pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_it_lists_the_practices_notes(owner_client, note):
    response = owner_client.get(URL)

    assert response.status_code == 200
    assert note.patient.last_name.encode() in response.content
    assert b'id="note-table"' in response.content


def test_it_lets_staff_see_notes(teammate_client, note):
    assert teammate_client.get(URL).status_code == 200


def test_it_hides_another_practices_notes(outsider_client, note):
    response = outsider_client.get(URL)

    assert response.status_code == 200
    assert note.patient.last_name.encode() not in response.content


def test_it_filters_by_status_provider_and_patient(owner_client, note, signed_note, practice):
    other = ClinicalNoteFactory(
        practice=practice,
        patient=PatientFactory(practice=practice, last_name="Zebulon"),
        provider=ProviderFactory(practice=practice),
    )

    assert b"Zebulon" in owner_client.get(URL, {"q": "zebu"}).content
    assert b"Zebulon" not in owner_client.get(URL, {"q": note.patient.last_name}).content
    assert b"Zebulon" not in owner_client.get(URL, {"status": "signed"}).content
    assert b"Zebulon" not in owner_client.get(URL, {"provider": note.provider_id}).content
    assert b"Zebulon" in owner_client.get(URL, {"provider": other.provider_id}).content


def test_it_shows_only_current_versions(owner_client, signed_note, doctor):
    ClinicalNote.objects.filter(pk=signed_note.pk).update(status="amended")

    response = owner_client.get(URL)

    assert b"0 notes" in response.content


def test_it_shows_a_providers_inbox(doctor, note, supervisor, practice):
    stale = ClinicalNoteFactory(practice=practice, provider=doctor.provider, author=doctor)
    ClinicalNote.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(days=2))

    response = _client(doctor).get(URL)

    inbox = response.content.decode().split('id="inbox-title"')[1].split("</section>")[0]
    assert f"/notes/{note.pk}/edit/" in inbox
    assert "Drafts older than a day" in inbox and f"/notes/{stale.pk}/edit/" in inbox
    assert "To co-sign" not in inbox


def test_it_lists_notes_to_co_sign_for_a_supervisor(signed_note, supervisor):
    response = _client(supervisor).get(URL)

    assert f"/notes/{signed_note.pk}/sign/" in response.content.decode()


def test_it_leaves_the_inbox_out_for_non_providers(owner_client, note):
    assert b'id="inbox-title"' not in owner_client.get(URL).content


def test_it_returns_the_table_alone_for_htmx(owner_client, note):
    response = owner_client.get(URL, {"q": "x"}, **HX)

    assert b'id="note-table"' in response.content
    assert b"<html" not in response.content


def test_it_refuses_post(owner_client):
    assert owner_client.post(URL).status_code == 405


def test_it_sends_anonymous_users_to_sign_in(client):
    response = client.get(URL)

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
