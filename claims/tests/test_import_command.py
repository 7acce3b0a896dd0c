"""manage.py import_claims: a spreadsheet into a practice from the shell."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from billingpulse.tests.factories import PracticeFactory
from claims.models import Claim
from claims.tests.db_faults import fail_database
from claims.tests.factories import PayerFactory

pytestmark = pytest.mark.django_db

CSV = (
    "Claim #,Patient,DOB,DOS,Balance,Denial Code,Payer ID,Member ID\n"
    "CLM-1,Anthony Johnson,1987-04-06,11/29/25,240.00,CO-29,62308,W1\n"
    'CLM-2,Maria Miller,03/15/1981,04/10/2026,"$1,250.00",CO-16,62308,W2\n'
    "CLM-3,Betty Obrien,07/30/1988,13/45/2026,$85.00,,62308,W3\n"
)


@pytest.fixture
def spreadsheet(tmp_path):
    path = tmp_path / "claims.csv"
    path.write_text(CSV)
    return path


def test_it_imports_into_the_named_practice_and_reports_the_rejected_rows(spreadsheet):
    practice = PracticeFactory(name="Riverbend Family Medicine")
    PayerFactory(practice=practice, name="Cigna", payer_id="62308")
    out, err = StringIO(), StringIO()

    call_command("import_claims", str(spreadsheet), "--practice", "Riverbend Family Medicine", stdout=out, stderr=err)

    assert out.getvalue().strip() == "imported 2, updated 0, rejected 1"
    assert "row 4" in err.getvalue()
    assert set(Claim.objects.filter(practice=practice).values_list("claim_number", flat=True)) == {"CLM-1", "CLM-2"}


@pytest.mark.parametrize(
    ("practice", "message"),
    [
        ("Nowhere Clinic", "No practice with id or name 'Nowhere Clinic'"),
        ("Twin Clinic", "Several practices are named"),
    ],
)
def test_a_practice_it_cannot_tell_apart_is_a_clear_error(spreadsheet, practice, message):
    PracticeFactory(name="Twin Clinic")
    PracticeFactory(name="Twin Clinic")

    with pytest.raises(CommandError, match=message):
        call_command("import_claims", str(spreadsheet), "--practice", practice)
    assert not Claim.objects.exists()


def test_it_says_which_rows_were_imported_when_the_database_fails(spreadsheet):
    practice = PracticeFactory(name="Riverbend Family Medicine")
    PayerFactory(practice=practice, name="Cigna", payer_id="62308")
    fail_database("claims_claim", "NEW.claim_number = 'CLM-1'")

    with pytest.raises(CommandError) as caught:
        call_command("import_claims", str(spreadsheet), "--practice", "Riverbend Family Medicine", stderr=StringIO())

    assert str(caught.value) == "The import stopped at row 2 because of an error on our side. Nothing was imported."
    assert not Claim.objects.exists()
