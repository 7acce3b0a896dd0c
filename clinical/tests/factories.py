from __future__ import annotations

from datetime import date

import factory

from billingpulse.tests.factories import PatientFactory, ProviderFactory, UserFactory
from clinical.models import ClinicalNote, NoteTemplate


class ProviderUserFactory(UserFactory):
    """A practice member who is also one of its providers (and so can sign notes)."""

    provider = factory.RelatedFactory(
        ProviderFactory, factory_related_name="user", practice=factory.SelfAttribute("..practice")
    )


class NoteTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NoteTemplate

    practice = factory.SubFactory("billingpulse.tests.factories.PracticeFactory")
    name = factory.Sequence(lambda n: f"Template {n}")
    sections = {"subjective": "Patient reports ", "plan": "Follow up in "}


class NoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClinicalNote

    practice = factory.SubFactory("billingpulse.tests.factories.PracticeFactory")
    patient = factory.SubFactory(PatientFactory, practice=factory.SelfAttribute("..practice"))
    provider = factory.SubFactory(ProviderFactory, practice=factory.SelfAttribute("..practice"))
    author = factory.SubFactory(UserFactory, practice=factory.SelfAttribute("..practice"))
    note_date = date(2026, 11, 30)
    subjective = "Cough for three days, no fever."
    objective = "Lungs clear. Temp 98.6."
    assessment = "Acute bronchitis."
    plan = "Fluids, rest; return if worse."
    diagnosis_codes = ["J20.9"]
    procedures = [{"code": "99213", "modifiers": [], "units": 1, "pointers": "A"}]
