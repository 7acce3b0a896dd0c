"""billingpulse.lib.unique: a unique constraint's refusal, told apart from every other, on either database."""

from __future__ import annotations

import pytest
from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import IntegrityError
from rest_framework import serializers

from billingpulse.lib import unique
from billingpulse.lib.unique import Duplicate, api_unique_errors, unique_errors
from billingpulse.models import EMAIL_TAKEN, Patient, Provider, User
from billingpulse.tests.factories import PatientFactory, ProviderFactory, UserFactory
from claims.models import Claim, InsurancePolicy
from claims.tests.factories import ClaimFactory, InsurancePolicyFactory
from telephony.models import CallEvent
from telephony.tests.factories import CallEventFactory

pytestmark = pytest.mark.django_db


def _duplicate(create) -> Duplicate:
    with pytest.raises(Duplicate) as raised, unique_errors():
        create()
    return raised.value


def test_it_reports_a_duplicate_on_the_constraints_field_with_its_message():
    claim = ClaimFactory(claim_number="CLM-1")

    error = _duplicate(
        lambda: ClaimFactory(practice=claim.practice, patient=claim.patient, payer=claim.payer, claim_number="CLM-1")
    )

    assert error.message_dict == {"claim_number": ["Another claim in this practice has this claim number."]}
    assert error.error_dict["claim_number"][0].code == "unique"
    assert (error.rule.model, error.rule.name) == (Claim, "claim_number_unique_per_practice")


def test_it_knows_a_partial_unique_constraint():
    patient = PatientFactory(account_number="A-7")

    error = _duplicate(lambda: PatientFactory(practice=patient.practice, account_number="A-7"))

    assert error.message_dict == {"account_number": ["Another patient in this practice has this account number."]}


def test_it_reports_a_constraint_over_several_fields_above_the_fields():
    policy = InsurancePolicyFactory()

    error = _duplicate(
        lambda: InsurancePolicy.objects.create(
            practice=policy.practice, patient=policy.patient, payer=policy.payer, member_id=policy.member_id
        )
    )

    assert error.message_dict == {
        NON_FIELD_ERRORS: ["This patient already has a policy with this payer and member ID."]
    }


@pytest.mark.parametrize("email", ["dana@example.com", "DANA@example.com"])
def test_it_knows_the_email_rules_whether_the_field_or_the_expression_index_refuses(email):
    UserFactory(email="dana@example.com")

    # The same spelling may meet the field's own unique index first; another case only the Lower() one.
    error = _duplicate(lambda: User.objects.create(email=email))

    assert error.message_dict == {"email": [EMAIL_TAKEN]}


def test_it_knows_a_fields_own_unique():
    event = CallEventFactory(dedupe_key="status-update:1")

    error = _duplicate(lambda: CallEvent.objects.create(call=event.call, kind="x", dedupe_key="status-update:1"))

    assert error.rule.name == "dedupe_key"
    assert list(error.message_dict) == ["dedupe_key"]


def test_it_does_not_disguise_another_integrity_error():
    claim = ClaimFactory()

    with pytest.raises(IntegrityError), unique_errors():
        Claim.objects.filter(pk=claim.pk).update(claim_number=None)  # NOT NULL


def test_it_leaves_the_surrounding_transaction_usable():
    provider = ProviderFactory()

    _duplicate(
        lambda: Provider.objects.create(practice=provider.practice, first_name="A", last_name="B", npi=provider.npi)
    )

    # PostgreSQL aborts a whole transaction on an error; the savepoint kept this one alive.
    assert Provider.objects.filter(practice=provider.practice).count() == 1


def test_it_gives_the_pre_checks_their_words():
    assert unique.message(Patient, "patient_account_number_unique_per_practice") == (
        "Another patient in this practice has this account number."
    )
    with pytest.raises(LookupError):
        unique.message(Patient, "no_such_constraint")


def test_it_answers_the_api_with_drf_field_errors():
    policy = InsurancePolicyFactory()

    with pytest.raises(serializers.ValidationError) as raised, api_unique_errors():
        InsurancePolicy.objects.create(
            practice=policy.practice, patient=policy.patient, payer=policy.payer, member_id=policy.member_id
        )

    assert raised.value.detail == {
        "non_field_errors": ["This patient already has a policy with this payer and member ID."]
    }


class _ProviderForm(forms.ModelForm):
    class Meta:
        model = Provider
        fields = ["first_name", "last_name", "npi"]


def test_it_puts_a_duplicate_on_the_forms_field():
    taken = ProviderFactory()
    form = _ProviderForm(
        {"first_name": "Ann", "last_name": "Lee", "npi": taken.npi}, instance=Provider(practice=taken.practice)
    )
    assert form.is_valid()

    assert unique.save_form(form) is False

    assert form.errors == {"npi": ["Another provider in this practice has this NPI."]}
    assert Provider.objects.count() == 1
