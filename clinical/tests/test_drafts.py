from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from billingpulse.actor import Actor
from billingpulse.tests.factories import PASSWORD, PatientFactory
from clinical import services
from clinical.models import NoteEvent
from clinical.services import EditConflict, NoteActionError
from clinical.status import NoteStatus
from clinical.tests.factories import NoteTemplateFactory

pytestmark = pytest.mark.django_db


def test_it_starts_a_note_from_a_template(practice, doctor, teammate):
    template = NoteTemplateFactory(practice=practice, note_type="progress", sections={"plan": "Recheck in 2 weeks."})
    patient = PatientFactory(practice=practice)

    note = services.start_note(
        practice, patient=patient, provider=doctor.provider, actor=Actor(teammate), template=template
    )

    assert note.note_type == "progress" and note.plan == "Recheck in 2 weeks." and note.status == NoteStatus.DRAFT
    assert note.author == teammate
    assert note.events.get().kind == NoteEvent.Kind.CREATED


def test_it_refuses_a_patient_of_another_practice_and_logs_the_attempt(practice, doctor, other_practice, caplog):
    stranger = PatientFactory(practice=other_practice)
    with pytest.raises(ValidationError):
        services.start_note(practice, patient=stranger, provider=doctor.provider, actor=Actor(doctor))
    assert f"naming Patient {stranger.pk} of another practice" in caplog.text
    assert stranger.last_name not in caplog.text


def test_it_saves_a_draft_and_counts_revisions(note, teammate):
    services.save_draft(
        note, {"plan": "Return in a week.", "diagnosis_codes": "j20.9, r05.9"}, actor=Actor(teammate), revision=1
    )

    note.refresh_from_db()
    assert note.plan == "Return in a week." and note.diagnosis_codes == ["J20.9", "R05.9"]
    assert note.status == NoteStatus.IN_PROGRESS and note.revision == 2


def test_it_refuses_an_autosave_from_an_older_revision(note, teammate, doctor):
    services.save_draft(note, {"plan": "A"}, actor=Actor(doctor), revision=1)
    with pytest.raises(EditConflict, match="Someone else saved this note"):
        services.save_draft(note, {"plan": "B"}, actor=Actor(teammate), revision=1)
    note.refresh_from_db()
    assert note.plan == "A"


def test_it_refuses_an_autosave_of_a_note_signed_meanwhile_and_records_it(note, doctor, teammate):
    services.sign(note, actor=Actor(doctor), password=PASSWORD, meaning="author")

    with pytest.raises(NoteActionError, match="This note was signed by Dana Doctor"):
        services.save_draft(note, {"plan": "Changed after signing"}, actor=Actor(teammate), revision=1)

    note.refresh_from_db()
    assert note.plan == "Fluids, rest; return if worse."
    assert note.events.filter(kind=NoteEvent.Kind.REFUSED, actor=teammate).exists()


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"diagnosis_codes": ["E11.9", "250.00"]}, "diagnosis_codes", "looks like an ICD-9 code"),
        ({"diagnosis_codes": ["XYZ"]}, "diagnosis_codes", "is not an ICD-10 code"),
        ({"procedures": [{"code": "9921"}]}, "procedures", "9921 is not a CPT or HCPCS code"),
        ({"procedures": [{"code": "99213", "modifiers": ["TOOLONG"]}]}, "procedures", "modifiers are up to four"),
        ({"procedures": [{"code": "99213", "units": "0"}]}, "procedures", "units are a whole number"),
        ({"procedures": [{"code": "99213", "pointers": "C"}]}, "procedures", "diagnosis pointers"),
        ({"note_type": "poem"}, "note_type", "Choose a note type"),
    ],
)
def test_it_refuses_bad_codes_with_field_errors_and_saves_nothing(note, doctor, values, field, message):
    with pytest.raises(ValidationError) as refused:
        services.save_draft(note, {"plan": "Changed", **values}, actor=Actor(doctor))

    assert message in " ".join(refused.value.message_dict[field])
    note.refresh_from_db()
    assert note.plan == "Fluids, rest; return if worse." and note.revision == 1
    assert message in note.events.get(kind=NoteEvent.Kind.REFUSED, actor=doctor).message


def test_it_keeps_one_edit_entry_per_stretch_of_autosaves(note, doctor):
    for text in ("a", "ab", "abc"):
        services.save_draft(note, {"plan": text}, actor=Actor(doctor))
    assert note.events.filter(kind=NoteEvent.Kind.EDITED).count() == 1


def test_it_marks_a_note_completed_and_reopens_it(note, doctor):
    services.set_status(note, NoteStatus.COMPLETED, actor=Actor(doctor))
    assert note.status == NoteStatus.COMPLETED
    services.set_status(note, NoteStatus.IN_PROGRESS, actor=Actor(doctor))
    assert note.status == NoteStatus.IN_PROGRESS


def test_it_records_a_repeated_refusal_once(note, doctor):
    for _ in range(3):
        with pytest.raises(ValidationError):
            services.save_draft(note, {"diagnosis_codes": "E1"}, actor=Actor(doctor))
    assert note.events.filter(kind=NoteEvent.Kind.REFUSED).count() == 1


@pytest.mark.parametrize(
    ("code", "message"),
    [("E11", "E11 is a category, not a billable code"), ("E11.99", "E11.99 is not an ICD-10-CM code")],
)
def test_it_refuses_codes_the_loaded_code_set_does_not_bill(note, doctor, code, message):
    from billingpulse.tests.icd10 import load_codes

    load_codes("E11,J20")
    services.save_draft(note, {"diagnosis_codes": ["e119", "J20.9"]}, actor=Actor(doctor))  # billable: kept

    with pytest.raises(ValidationError) as refused:
        services.save_draft(note, {"diagnosis_codes": ["E11.9", code]}, actor=Actor(doctor))

    assert message in " ".join(refused.value.message_dict["diagnosis_codes"])
    note.refresh_from_db()
    assert note.diagnosis_codes == ["E11.9", "J20.9"]
