from __future__ import annotations

import pytest

from billingpulse.actor import Actor
from billingpulse.tests.factories import PASSWORD, ProviderFactory, UserFactory
from clinical.tests.factories import ClinicalNoteFactory


@pytest.fixture
def doctor(practice):
    """A provider of practice A with their own sign-in; password ``PASSWORD``."""
    user = UserFactory(email="dana@alpha.example", full_name="Dana Doctor", practice=practice)
    ProviderFactory(practice=practice, user=user, first_name="Dana", last_name="Doctor", credentials="MD")
    return user


@pytest.fixture
def supervisor(practice):
    """A supervising provider of practice A, who may co-sign."""
    user = UserFactory(email="sam@alpha.example", full_name="Sam Supervisor", practice=practice)
    ProviderFactory(practice=practice, user=user, first_name="Sam", last_name="Supervisor", can_cosign=True)
    return user


@pytest.fixture
def note(doctor):
    return ClinicalNoteFactory(practice=doctor.practice, provider=doctor.provider, author=doctor)


@pytest.fixture
def signed_note(note, doctor):
    from clinical import services

    services.sign(note, actor=Actor(doctor), password=PASSWORD, meaning="author")
    note.refresh_from_db()
    return note


__all__ = ["PASSWORD"]
