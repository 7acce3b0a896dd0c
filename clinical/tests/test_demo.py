from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from clinical import services
from clinical.models import Appointment, ClinicalNote, NoteTemplate
from clinical.status import NoteStatus

pytestmark = pytest.mark.django_db


def test_the_demo_has_notes_in_every_state_once_with_intact_signatures_and_a_captured_claim():
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())

    notes = ClinicalNote.objects.all()
    assert set(notes.values_list("status", flat=True)) == {
        NoteStatus.DRAFT,
        NoteStatus.IN_PROGRESS,
        NoteStatus.SIGNED,
        NoteStatus.LOCKED,
        NoteStatus.AMENDED,
    }
    assert notes.filter(signatures__meaning="cosigner").exists()
    assert notes.filter(addenda__isnull=False, amends__isnull=False).exists()
    claim_notes = notes.filter(claim__isnull=False)
    assert claim_notes.count() == 1 and claim_notes.get().claim.status == "draft"
    assert all(check.intact for note in notes for check in services.verify(note))
    assert NoteTemplate.objects.count() == 1 and notes.count() == 7
    # Each note's visit is completed; two visits are still to come.
    assert Appointment.objects.filter(status="completed").count() == 6
    assert Appointment.objects.filter(status="scheduled").count() == 2
