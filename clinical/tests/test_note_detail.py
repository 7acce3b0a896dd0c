from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client

from billingpulse.actor import Actor
from billingpulse.tests.factories import PASSWORD
from clinical import services
from clinical.models import ClinicalNote, NoteEvent
from clinical.tests.factories import ClinicalNoteFactory

pytestmark = pytest.mark.django_db


def _url(note) -> str:
    return f"/notes/{note.pk}/"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _change_behind_the_guards(note, plan):
    """What someone with direct access to the database could do: switch the guard off and edit."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        else:
            cursor.execute("DROP TRIGGER clinical_clinicalnote_signed")
        cursor.execute("UPDATE clinical_clinicalnote SET plan = %s WHERE id = %s", [plan, note.pk])
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")


def test_it_shows_the_note_its_codes_and_trail(owner_client, owner, note):
    services.save_draft(note, {"hpi": "Started Monday."}, actor=Actor(owner))

    response = owner_client.get(_url(note))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Cough for three days, no fever." in body and "Acute bronchitis." in body
    assert "J20.9" in body and "99213" in body
    assert ">In progress</span>" in body
    assert 'id="audit-title"' in body and "<strong>Edited</strong>" in body and "Alice Admin" in body
    assert f"/notes/{note.pk}/edit/" in body


def test_it_lets_staff_read_notes_without_signing_buttons(teammate_client, note):
    response = teammate_client.get(_url(note))

    assert response.status_code == 200
    assert f"/notes/{note.pk}/sign/" not in response.content.decode()


def test_it_offers_signing_to_the_notes_provider(doctor, note):
    assert f"/notes/{note.pk}/sign/" in _client(doctor).get(_url(note)).content.decode()


def test_it_shows_the_signature_manifestation(owner_client, signed_note, practice):
    signature = signed_note.signatures.get()

    body = owner_client.get(_url(signed_note)).content.decode()

    assert "Dana Doctor, MD" in body and "Author" in body
    assert services.ATTESTATIONS["author"] in body
    assert f">{signature.content_hash[:12]}</span>" in body
    assert f"{signature.signed_at:%Y-%m-%d %H:%M} UTC" in body
    assert "tamper-warning" not in body
    assert f"/notes/{signed_note.pk}/lock/" in body and f"/notes/{signed_note.pk}/edit/" not in body


def test_it_warns_when_content_was_changed_behind_the_guards(owner_client, owner, signed_note):
    _change_behind_the_guards(signed_note, "Antibiotics given.")

    body = owner_client.get(_url(signed_note)).content.decode()

    assert 'id="tamper-warning"' in body and "does not match its signature" in body
    assert signed_note.events.get(kind=NoteEvent.Kind.TAMPER).actor == owner


def test_it_marks_an_amended_version_and_shows_the_history_with_a_diff(owner_client, doctor, signed_note):
    draft = services.amend(signed_note, actor=Actor(doctor), reason="Wrong plan recorded")
    services.save_draft(
        draft,
        {"plan": "Fluids, rest; antibiotics; return if worse.", "diagnosis_codes": ["J20.9", "R05.1"]},
        actor=Actor(doctor),
    )
    services.sign(draft, actor=Actor(doctor), password=PASSWORD, meaning="author")

    old = owner_client.get(_url(signed_note)).content.decode()
    new = owner_client.get(_url(draft)).content.decode()

    assert ">Amended</span>" in old and f'href="/notes/{draft.pk}/"' in old and "latest version" in old
    assert "Wrong plan recorded" in new and "Version 1" in new and "Version 2" in new
    assert "<ins>antibiotics;</ins>" in new
    assert "Diagnosis codes" in new and "<ins>R05.1</ins>" in new  # codes are compared too


def test_it_shows_addenda_with_their_signatures(owner_client, doctor, signed_note):
    services.add_addendum(signed_note, actor=Actor(doctor), password=PASSWORD, text="Culture negative.")

    body = owner_client.get(_url(signed_note)).content.decode()

    assert "Culture negative." in body and "I wrote this addendum" in body


def test_it_hides_another_practices_note(outsider_client, note):
    assert outsider_client.get(_url(note)).status_code == 404


def test_it_answers_404_for_an_unknown_note(owner_client):
    assert owner_client.get("/notes/999999/").status_code == 404


def test_it_refuses_post(owner_client, note):
    assert owner_client.post(_url(note)).status_code == 405


def test_it_sends_anonymous_users_to_sign_in(client, note):
    response = client.get(_url(note))

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_word_diff_escapes_the_text():
    from clinical.views.notes import word_diff

    assert str(word_diff("a <b> c", "a <i> c")) == "a <del>&lt;b&gt;</del> <ins>&lt;i&gt;</ins> c"


def test_it_lists_every_version_only_for_its_own_practice(owner_client, practice):
    note = ClinicalNoteFactory(practice=practice)

    assert ClinicalNote.objects.count() == 1
    assert "Version 1" in owner_client.get(_url(note)).content.decode()
