from __future__ import annotations

import pytest
from django.db import connection

from clinical import services
from clinical.models import ClinicalNote, NoteEvent, canonical

pytestmark = pytest.mark.django_db


def _change_behind_the_guards(note, plan):
    """What someone with direct access to the database could do: switch the guard off and edit."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")  # triggers off (superuser only)
        else:
            cursor.execute("DROP TRIGGER clinical_clinicalnote_signed")
        cursor.execute("UPDATE clinical_clinicalnote SET plan = %s WHERE id = %s", [plan, note.pk])
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")


def test_it_finds_every_signature_intact_on_an_untouched_note(signed_note):
    assert [check.intact for check in services.verify(signed_note)] == [True]
    assert not signed_note.events.filter(kind=NoteEvent.Kind.TAMPER).exists()


def test_it_detects_content_changed_behind_the_guards_and_records_it(signed_note, doctor):
    _change_behind_the_guards(signed_note, "Fluids, rest; return if worse. Antibiotics given.")
    note = ClinicalNote.objects.get(pk=signed_note.pk)

    checks = services.verify(note, actor=services.Actor(doctor))

    assert [check.intact for check in checks] == [False]
    event = note.events.get(kind=NoteEvent.Kind.TAMPER)
    assert "does not match the signature of Dana Doctor (author)" in event.message and event.actor == doctor


def test_the_canonical_form_keeps_field_boundaries():
    # Plain concatenation would make these two the same; the canonical form must not.
    assert canonical({"a": "ab", "b": "c"}) != canonical({"a": "a", "b": "bc"})
    assert canonical({"a": ["x,y"]}) != canonical({"a": ["x", "y"]})
