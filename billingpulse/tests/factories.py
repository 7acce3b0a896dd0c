from __future__ import annotations

import secrets
from datetime import date

import factory

from billingpulse.models import Invitation, Patient, Practice, Provider, User, hash_invitation_token

FIRST_NAMES = ["Olivia", "Liam", "Noah", "Emma", "Elijah", "Ava", "Mateo", "Sophia", "Lucas", "Mia"]
LAST_NAMES = ["Brooks", "Carter", "Dalton", "Ellis", "Foster", "Grant", "Hayes", "Irving", "Keller", "Morgan"]
# Valid NPIs (Luhn over the 80840 prefix), handed out in turn.
VALID_NPIS = ["1234567893", "1987654328", "1456789019", "1678901236", "1345678902"]

# Every factory user signs in with this password.
PASSWORD = "correct-horse-battery"


class PracticeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Practice

    name = factory.Sequence(lambda n: f"Practice {n} Clinic")
    time_zone = "America/Chicago"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    practice = factory.SubFactory(PracticeFactory)
    role = User.Role.STAFF
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805 - factory_boy hook signature
        if create:
            obj.save()


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    practice = factory.SubFactory(PracticeFactory)
    # Fixed lists, not random names: a search test must not match a generated name by chance.
    first_name = factory.Iterator(FIRST_NAMES)
    last_name = factory.Iterator(LAST_NAMES)
    date_of_birth = date(1970, 5, 17)
    account_number = factory.Sequence(lambda n: f"ACCT-{n:05d}")


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider

    practice = factory.SubFactory(PracticeFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    credentials = "MD"
    npi = factory.Sequence(lambda n: VALID_NPIS[n % len(VALID_NPIS)])


class InvitationFactory(factory.django.DjangoModelFactory):
    """A pending invitation; ``InvitationFactory(token="...")`` gives its link that token (else a random one)."""

    class Meta:
        model = Invitation

    class Params:
        token = factory.LazyFunction(lambda: secrets.token_urlsafe(32))

    practice = factory.SubFactory(PracticeFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    full_name = factory.Faker("name")
    role = User.Role.STAFF
    token_hash = factory.LazyAttribute(lambda o: hash_invitation_token(o.token))
