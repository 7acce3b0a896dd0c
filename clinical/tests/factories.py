from __future__ import annotations

from datetime import UTC, date, datetime

import factory

from billingpulse.models import Provider
from billingpulse.tests.factories import PatientFactory, ProviderFactory, UserFactory
from clinical.models import Addendum, Appointment, ClinicalNote, NoteEvent, NoteTemplate, Signature


def practice_provider(practice) -> Provider:
    """The practice's first provider (made if it has none): NPIs are unique within a practice."""
    return Provider.objects.filter(practice=practice).first() or ProviderFactory(practice=practice)


class AppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Appointment

    practice = factory.SubFactory("billingpulse.tests.factories.PracticeFactory")
    patient = factory.SubFactory(PatientFactory, practice=factory.SelfAttribute("..practice"))
    provider = factory.LazyAttribute(lambda o: practice_provider(o.practice))
    starts_at = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    reason = "Cough"


class NoteTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NoteTemplate

    practice = factory.SubFactory("billingpulse.tests.factories.PracticeFactory")
    name = factory.Sequence(lambda n: f"Template {n}")
    sections = {"subjective": "Patient reports ", "plan": "Follow up in "}


class ClinicalNoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClinicalNote

    practice = factory.SubFactory("billingpulse.tests.factories.PracticeFactory")
    patient = factory.SubFactory(PatientFactory, practice=factory.SelfAttribute("..practice"))
    provider = factory.LazyAttribute(lambda o: practice_provider(o.practice))
    author = factory.SubFactory(UserFactory, practice=factory.SelfAttribute("..practice"))
    note_date = date(2026, 11, 30)
    subjective = "Cough for three days, no fever."
    objective = "Lungs clear. Temp 98.6."
    assessment = "Acute bronchitis."
    plan = "Fluids, rest; return if worse."
    diagnosis_codes = ["J20.9"]
    procedures = [{"code": "99213", "modifiers": [], "units": 1, "pointers": "A"}]


class AddendumFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Addendum

    class Params:
        practice = factory.SubFactory("billingpulse.tests.factories.PracticeFactory")

    note = factory.SubFactory(ClinicalNoteFactory, practice=factory.SelfAttribute("..practice"))
    author = factory.SubFactory(UserFactory, practice=factory.SelfAttribute("..practice"))
    text = "Culture negative on follow-up."


class SignatureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Signature

    class Params:
        practice = factory.SubFactory("billingpulse.tests.factories.PracticeFactory")

    note = factory.SubFactory(ClinicalNoteFactory, practice=factory.SelfAttribute("..practice"))
    signer = factory.SubFactory(UserFactory, practice=factory.SelfAttribute("..practice"))
    printed_name = "Robin Provider"
    meaning = Signature.Meaning.AUTHOR
    attestation = "I am the author of this note."
    content_hash = factory.LazyAttribute(lambda o: o.note.content_hash())


class NoteEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NoteEvent

    class Params:
        practice = factory.SubFactory("billingpulse.tests.factories.PracticeFactory")

    note = factory.SubFactory(ClinicalNoteFactory, practice=factory.SelfAttribute("..practice"))
    kind = NoteEvent.Kind.CREATED
    message = "Started from the clinic template."
