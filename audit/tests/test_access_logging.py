"""Every read of patient data through a page, a download, an export or the API lands in the log."""

from __future__ import annotations

import pytest

from audit.models import Action
from audit.registry import owners_of
from audit.tests.helpers import entries, only_entry
from billingpulse.tests.factories import PatientFactory
from claims.tests.factories import ClaimFactory, ClaimImportFactory
from clinical.tests.factories import ClinicalNoteFactory
from documents.tests.factories import DocumentFactory
from telephony.tests.factories import CallFactory

pytestmark = pytest.mark.django_db


def test_it_records_a_view_of_a_claim_page_with_who_where_and_which_request(owner_client, owner, practice):
    claim = ClaimFactory(practice=practice)

    response = owner_client.get(f"/claims/{claim.pk}/", HTTP_USER_AGENT="Firefox/140 test", REMOTE_ADDR="10.1.2.3")

    assert response.status_code == 200
    entry = only_entry(action=Action.VIEWED)
    assert (entry.practice_id, entry.actor_id, entry.actor_label) == (practice.pk, owner.pk, owner.email)
    assert (entry.resource_type, entry.resource_id, entry.patient_id) == ("claim", str(claim.pk), claim.patient_id)
    assert entry.remote_addr == "10.1.2.3"
    assert entry.request_id == response["X-Request-ID"]
    assert entry.user_agent == "Firefox/140 test"


@pytest.mark.parametrize(
    "make, url, resource_type",
    [
        (lambda p: CallFactory(practice=p), "/calls/{pk}/", "call"),
        (lambda p: ClinicalNoteFactory(practice=p), "/notes/{pk}/", "note"),
        (lambda p: DocumentFactory(practice=p), "/documents/{pk}/", "document"),
        (lambda p: PatientFactory(practice=p), "/billing/patients/{pk}/", "patient"),
        (lambda p: PatientFactory(practice=p), "/notes/patients/{pk}/encounters/", "patient"),
    ],
    ids=["call", "note", "document", "patient account", "patient chart"],
)
def test_it_records_a_view_of_each_page_holding_patient_data(
    teammate_client, teammate, practice, make, url, resource_type
):
    record = make(practice)
    _practice, patient_id = owners_of(record)

    response = teammate_client.get(url.format(pk=record.pk))

    assert response.status_code == 200
    entry = only_entry(action=Action.VIEWED)
    assert (entry.actor_id, entry.resource_type, entry.resource_id) == (teammate.pk, resource_type, str(record.pk))
    assert entry.patient_id == patient_id


def test_it_records_a_document_download(teammate_client, teammate, practice):
    document = DocumentFactory(practice=practice)

    response = teammate_client.get(f"/documents/{document.pk}/versions/1/download/")

    assert response.status_code == 200
    b"".join(response.streaming_content)
    entry = only_entry(action=Action.DOWNLOADED)
    assert (entry.actor_id, entry.resource_type, entry.resource_id) == (teammate.pk, "document", str(document.pk))
    assert entry.patient_id == document.patient_id


def test_it_records_an_export(owner_client, owner, practice):
    claim_import = ClaimImportFactory(practice=practice)

    response = owner_client.get(f"/claims/import/{claim_import.pk}/rejected-rows.csv")

    assert response.status_code == 200
    entry = only_entry(action=Action.EXPORTED)
    assert (entry.actor_id, entry.resource_type, entry.resource_id) == (owner.pk, "claim_import", str(claim_import.pk))


def test_it_records_api_reads_of_one_record_and_of_a_list(api, owner, practice):
    claim = ClaimFactory(practice=practice)

    assert api.get(f"/api/v1/claims/{claim.pk}").status_code == 200
    assert api.get("/api/v1/patients?q=brooks").status_code == 200

    detail, listing = entries(action=Action.API_READ)
    # The token's user, whom DRF authenticated inside the view.
    assert (detail.actor_id, detail.resource_type, detail.resource_id) == (owner.pk, "claim", str(claim.pk))
    assert detail.patient_id == claim.patient_id
    assert (listing.resource_type, listing.resource_id, listing.message) == ("patient", "", "?q=brooks")


def test_it_does_not_count_a_page_refreshing_itself_as_another_view(teammate_client, practice):
    call = CallFactory(practice=practice)
    url = f"/calls/{call.pk}/"

    teammate_client.get(url)
    teammate_client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=f"http://testserver{url}")

    assert len(entries(action=Action.VIEWED)) == 1


def test_it_counts_htmx_navigation_to_another_page_as_a_view(teammate_client, practice):
    patient = PatientFactory(practice=practice)

    teammate_client.get(
        f"/notes/patients/{patient.pk}/notes/",
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL=f"http://testserver/notes/patients/{patient.pk}/encounters/",
    )

    assert only_entry(action=Action.VIEWED).patient_id == patient.pk


def test_it_records_nothing_for_another_practices_record_or_a_failed_request(
    outsider_client, teammate_client, practice
):
    claim = ClaimFactory(practice=practice)

    assert outsider_client.get(f"/claims/{claim.pk}/").status_code == 404
    assert teammate_client.get("/claims/999999/").status_code == 404

    assert entries(action=Action.VIEWED) == []
