from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from pypdf import PdfReader

from billingpulse.actor import Actor
from billingpulse.tests.factories import PASSWORD
from clinical import services
from clinical.models import ClinicalNote, NoteEvent
from clinical.pdf import render_note_pdf

pytestmark = pytest.mark.django_db


def _url(note) -> str:
    return f"/notes/{note.pk}/pdf/"


def _text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def _flat(text: str) -> str:
    """The text with every run of whitespace made one space, so a wrapped line still matches."""
    return " ".join(text.split())


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


def test_it_prints_the_signed_note_with_its_signature_manifestation(owner_client, signed_note):
    signature = signed_note.signatures.get()

    response = owner_client.get(_url(signed_note))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="note-{signed_note.pk}-v1.pdf"'
    assert "no-store" in response["Cache-Control"]
    assert response.content.startswith(b"%PDF")
    text = _flat(_text(response.content))
    assert signed_note.patient.full_name in text and "Alpha Family Clinic" in text
    assert "Printed name Dana Doctor" in text and "Meaning Author" in text
    assert services.ATTESTATIONS["author"] in text
    assert f"{signature.signed_at:%Y-%m-%d %H:%M:%S} UTC" in text
    assert signature.content_hash in text
    assert f"SHA-256 of the signed content: {signed_note.content_hash()}" in text
    assert "Signatures verified against the stored content on" in text
    assert "Cough for three days, no fever." in text and "J20.9" in text and "99213" in text
    assert "Page 1 of" in text and "CONFIDENTIAL — contains protected health information" in text
    assert "WARNING" not in text and "DRAFT" not in text


def test_it_lets_staff_print(teammate_client, signed_note):
    response = teammate_client.get(_url(signed_note))

    assert response.status_code == 200 and response.content.startswith(b"%PDF")


def test_it_records_the_print_in_the_audit_trail(owner_client, owner, signed_note):
    owner_client.get(_url(signed_note), REMOTE_ADDR="203.0.113.7")

    event = signed_note.events.get(kind=NoteEvent.Kind.PRINTED)
    assert event.actor == owner and event.ip_address == "203.0.113.7"
    assert event.message == "Version 1 printed as a PDF."


def test_it_warns_when_content_was_changed_behind_the_guards(owner_client, owner, signed_note):
    _change_behind_the_guards(signed_note, "Antibiotics given.")

    response = owner_client.get(_url(signed_note))

    text = _flat(_text(response.content))
    assert response.status_code == 200
    assert "WARNING: the stored content does not match its signature" in text
    assert "DOES NOT MATCH the stored content" in text
    assert "Signatures verified" not in text
    assert signed_note.events.get(kind=NoteEvent.Kind.TAMPER).actor == owner
    assert signed_note.events.filter(kind=NoteEvent.Kind.PRINTED).exists()


def test_it_marks_a_draft_as_not_signed(owner_client, note):
    response = owner_client.get(_url(note))

    text = _flat(_text(response.content))
    assert "DRAFT — NOT SIGNED" in text and "Not signed." in text
    assert f"SHA-256 of the current content (not signed): {note.content_hash()}" in text
    assert "Signatures verified" not in text


def test_it_prints_addenda_and_amendments(owner_client, doctor, signed_note):
    services.add_addendum(signed_note, actor=Actor(doctor), password=PASSWORD, text="Culture negative.")
    draft = services.amend(signed_note, actor=Actor(doctor), reason="Wrong plan recorded")
    services.sign(draft, actor=Actor(doctor), password=PASSWORD, meaning="author")
    addendum_signature = signed_note.signatures.get(addendum__isnull=False)

    old = _flat(_text(owner_client.get(_url(signed_note)).content))
    new = _flat(_text(owner_client.get(_url(draft)).content))

    assert "Culture negative." in old and addendum_signature.content_hash in old
    assert "I wrote this addendum and attest that it is accurate." in old
    assert "Superseded." in old
    assert "Amends version 1: Wrong plan recorded" in new and "Culture negative." not in new


def test_it_renders_the_same_bytes_every_time(signed_note):
    note = ClinicalNote.objects.get(pk=signed_note.pk)
    checks = services.verify(note)

    with time_machine.travel(datetime(2026, 12, 5, 15, 0, tzinfo=UTC), tick=False):
        first, second = render_note_pdf(note, checks), render_note_pdf(note, checks)

    assert first == second


def test_it_hides_another_practices_note(outsider_client, signed_note):
    assert outsider_client.get(_url(signed_note)).status_code == 404
    assert not signed_note.events.filter(kind=NoteEvent.Kind.PRINTED).exists()


def test_it_answers_404_for_an_unknown_note(owner_client):
    assert owner_client.get("/notes/999999/pdf/").status_code == 404


def test_it_refuses_post(owner_client, signed_note):
    assert owner_client.post(_url(signed_note)).status_code == 405


def test_it_sends_anonymous_users_to_sign_in(client, signed_note):
    response = client.get(_url(signed_note))

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_note_page_links_to_the_pdf(owner_client, note):
    assert f'href="/notes/{note.pk}/pdf/"' in owner_client.get(f"/notes/{note.pk}/").content.decode()


def test_loading_the_views_does_not_import_weasyprint():
    # WeasyPrint takes most of a second to import; every web process loads the URLconf.
    code = (
        "import sys, django; django.setup(); import clinical.urls, clinical.pdf; sys.exit('weasyprint' in sys.modules)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "billingpulse.settings"}
    assert subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env).returncode == 0
