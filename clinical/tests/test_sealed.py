"""A signed note's content cannot change by any path, and signatures, addenda and the audit trail
cannot change at all: the model, the queryset, bulk operations and the database itself refuse."""

from __future__ import annotations

import importlib

import pytest
from django.db import DatabaseError, connection, transaction

from billingpulse.actor import Actor
from billingpulse.tests.factories import PASSWORD
from clinical import services
from clinical.models import CONTENT_FIELDS, ClinicalNote, NoteEvent, SealedNoteError, Signature
from clinical.status import NoteStatus

pytestmark = pytest.mark.django_db

sealing = importlib.import_module("clinical.migrations.0002_sealed_in_the_database")


def _stored(note):
    return ClinicalNote.objects.values("plan", "status").get(pk=note.pk)


def test_it_refuses_a_content_change_through_the_model(signed_note):
    signed_note.plan = "Quietly changed."
    with pytest.raises(SealedNoteError, match="amend it instead"):
        signed_note.save()
    assert _stored(signed_note)["plan"] == "Fluids, rest; return if worse."


def test_it_refuses_a_status_moved_back_through_the_model(signed_note):
    signed_note.status = NoteStatus.DRAFT
    with pytest.raises(SealedNoteError, match="locking or amending"):
        signed_note.save()
    assert _stored(signed_note)["status"] == NoteStatus.SIGNED


@pytest.mark.parametrize(
    "change",
    [{"plan": "Changed in bulk."}, {"diagnosis_codes": ["R05.9"]}, {"patient": None}, {"status": NoteStatus.DRAFT}],
)
def test_it_refuses_a_change_through_a_queryset_update(signed_note, change):
    with pytest.raises(SealedNoteError):
        ClinicalNote.objects.filter(pk=signed_note.pk).update(**change)
    assert _stored(signed_note) == {"plan": "Fluids, rest; return if worse.", "status": NoteStatus.SIGNED}


def test_it_refuses_a_change_through_bulk_update(signed_note, note):
    signed_note.plan = "Changed in bulk."
    with pytest.raises(SealedNoteError), transaction.atomic():
        ClinicalNote.objects.bulk_update([signed_note], ["plan"])
    assert _stored(signed_note)["plan"] == "Fluids, rest; return if worse."


def test_it_refuses_deleting_a_signed_note(signed_note):
    with pytest.raises(SealedNoteError, match="legal record"):
        signed_note.delete()
    with pytest.raises(SealedNoteError, match="legal record"):
        ClinicalNote.objects.filter(pk=signed_note.pk).delete()
    assert ClinicalNote.objects.filter(pk=signed_note.pk).exists()


def test_it_still_lets_drafts_change_in_bulk(note):
    assert ClinicalNote.objects.filter(pk=note.pk).update(plan="Edited.") == 1


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE clinical_clinicalnote SET plan = 'Changed in SQL' WHERE id = %s",
        "UPDATE clinical_clinicalnote SET diagnosis_codes = '[\"R05.9\"]' WHERE id = %s",
        "UPDATE clinical_clinicalnote SET status = 'draft' WHERE id = %s",
        "UPDATE clinical_clinicalnote SET signed_at = NULL WHERE id = %s",
    ],
)
def test_it_is_refused_by_the_database_itself(signed_note, sql):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [signed_note.pk])
    assert _stored(signed_note) == {"plan": "Fluids, rest; return if worse.", "status": NoteStatus.SIGNED}


def test_the_database_lets_a_signed_note_be_locked(signed_note):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE clinical_clinicalnote SET status = 'locked' WHERE id = %s", [signed_note.pk])
    assert _stored(signed_note)["status"] == NoteStatus.LOCKED


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite's trigger guards updates only")
def test_postgresql_refuses_deleting_a_signed_note_or_a_signature(signed_note):
    for sql in (
        "DELETE FROM clinical_clinicalnote WHERE id = %s",
        "DELETE FROM clinical_signature WHERE note_id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [signed_note.pk])
    assert signed_note.signatures.count() == 1


def test_signatures_addenda_and_the_trail_never_change(signed_note, doctor):
    addendum = services.add_addendum(signed_note, actor=Actor(doctor), password=PASSWORD, text="Added.")
    signature = signed_note.signatures.first()
    for row in (signature, addendum, signed_note.events.first()):
        with pytest.raises(SealedNoteError):
            row.save()
    for queryset, change in (
        (Signature.objects.all(), {"printed_name": "x"}),
        (NoteEvent.objects.all(), {"message": "x"}),
    ):
        with pytest.raises(SealedNoteError):
            queryset.update(**change)
        with pytest.raises(SealedNoteError):
            queryset.delete()
    for sql in (
        "UPDATE clinical_signature SET printed_name = 'Someone Else' WHERE id = %s",
        "UPDATE clinical_addendum SET text = 'Rewritten' WHERE id = %s",
    ):
        row_id = signature.pk if "signature" in sql else addendum.pk
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [row_id])
    signature.refresh_from_db()
    addendum.refresh_from_db()
    assert (signature.printed_name, addendum.text) == ("Dana Doctor", "Added.")


def test_the_database_guards_every_sealed_field():
    # A field added to the sealed content needs a migration that guards it in the database too.
    assert set(CONTENT_FIELDS) <= set(sealing.COLUMNS)


def test_the_database_guards_are_in_place():
    # A migration that rebuilds one of these tables (SQLite remakes a table to alter a column)
    # would drop its trigger silently: such a migration must create the trigger again.
    expected = {"clinical_clinicalnote_signed", *(f"{table}_append_only" for table in sealing.APPEND_ONLY)}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        assert expected <= {row[0] for row in cursor.fetchall()}
