"""A search finds claims by number and by patient name, however the claim or the patient was written.

The search text lives on the claim and database triggers keep it, so these tests write claims and
patients the ways the product does (a save, a bulk insert as the imports do, a queryset update,
a rename) and search afterwards.
"""

from __future__ import annotations

import pytest
from django.db import connection

from billingpulse.tests.factories import PatientFactory
from claims import search_text
from claims.models import Claim
from claims.tests.factories import ClaimFactory, PayerFactory

pytestmark = pytest.mark.django_db


def found(practice, query: str) -> set[str]:
    return set(Claim.objects.filter(practice=practice).search(query.split()).values_list("claim_number", flat=True))


def test_a_claim_is_found_by_any_part_of_its_number_or_its_patients_name(practice):
    ana = PatientFactory(practice=practice, first_name="Ana", last_name="Okafor")
    omar = PatientFactory(practice=practice, first_name="Omar", last_name="Haddad")
    ClaimFactory(practice=practice, claim_number="CLM-2026-0042", patient=ana)
    ClaimFactory(practice=practice, claim_number="CLM-2026-0043", patient=omar)

    assert found(practice, "0042") == {"CLM-2026-0042"}
    assert found(practice, "kaf") == {"CLM-2026-0042"}
    assert found(practice, "OMAR") == {"CLM-2026-0043"}
    # Every word must match: "ana haddad" is nobody.
    assert found(practice, "ana okafor") == {"CLM-2026-0042"}
    assert found(practice, "ana haddad") == set()
    assert found(practice, "clm-2026") == {"CLM-2026-0042", "CLM-2026-0043"}


def test_percent_and_underscore_in_a_search_are_plain_characters(practice):
    ClaimFactory(practice=practice, claim_number="CLM_7", patient__last_name="Lee")
    ClaimFactory(practice=practice, claim_number="CLMX7", patient__last_name="Lee")

    assert found(practice, "clm_7") == {"CLM_7"}
    assert found(practice, "%") == set()


def test_claims_written_in_bulk_are_found_as_the_imports_write_them(practice):
    patient = PatientFactory(practice=practice, first_name="Priya", last_name="Kowalski")
    payer = PayerFactory(practice=practice)
    Claim.objects.bulk_create(
        ClaimFactory.build(practice=practice, patient=patient, payer=payer, claim_number=f"BULK-{n}") for n in range(3)
    )

    assert found(practice, "kowalski") == {"BULK-0", "BULK-1", "BULK-2"}
    assert found(practice, "bulk-1") == {"BULK-1"}


def test_a_renamed_patient_is_found_by_the_new_name_only(practice):
    claim = ClaimFactory(practice=practice, patient__first_name="Mei", patient__last_name="Tanaka")
    ClaimFactory(practice=practice, patient=claim.patient)
    patient = claim.patient

    patient.last_name = "Sato"
    patient.save()

    assert len(found(practice, "mei sato")) == 2
    assert found(practice, "tanaka") == set()


def test_a_claim_moved_to_another_patient_or_renumbered_is_found_by_its_new_values(practice):
    claim = ClaimFactory(practice=practice, claim_number="OLD-1", patient__last_name="Rossi")
    other = PatientFactory(practice=practice, last_name="Dubois")

    claim.patient = other
    claim.save()
    Claim.objects.filter(pk=claim.pk).update(claim_number="NEW-1")

    assert found(practice, "dubois new-1") == {"NEW-1"}
    assert found(practice, "rossi") == set()
    assert found(practice, "old-1") == set()


def test_a_claim_saved_from_an_instance_that_never_read_its_search_text_is_still_found(practice):
    # The factory's instance holds the empty search text it was created with; a save writes every column.
    claim = ClaimFactory(practice=practice, patient__last_name="Singh")
    claim.status = Claim.Status.DENIED
    claim.save()
    # A status change written alone leaves the search text as it is.
    Claim.objects.filter(pk=claim.pk).update(status=Claim.Status.APPEALED)

    assert found(practice, "singh") == {claim.claim_number}


def test_another_practices_claims_are_never_found(practice, other_practice):
    ClaimFactory(practice=other_practice, patient__last_name="Novak", claim_number="THEIRS-1")

    assert found(practice, "novak") == set()
    assert found(practice, "theirs") == set()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite drops a table's triggers when it rebuilds it")
def test_after_a_migration_rebuilds_the_tables_the_triggers_are_back(practice):
    # What a rebuild of claims_claim or billingpulse_patient leaves: the data without its triggers.
    search_text.uninstall(connection)

    search_text.reinstall_after_migrate(sender=None, using="default")
    claim = ClaimFactory(practice=practice, patient__last_name="Cohen")

    assert found(practice, "cohen") == {claim.claim_number}
