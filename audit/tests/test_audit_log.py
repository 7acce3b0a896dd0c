"""/audit/: the practice's audit log for its admins, with filters and pages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from audit.models import Action
from audit.tests.factories import AuditEntryFactory
from billingpulse.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
URL = "/audit/"


def rows(response) -> int:
    return response.content.decode().count('id="audit-entry-')


def test_it_shows_the_practices_entries_to_an_admin(owner_client, practice):
    AuditEntryFactory(practice=practice, message="Opened the claim page", actor_label="bob@alpha.example")

    response = owner_client.get(URL)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Opened the claim page" in page and "bob@alpha.example" in page
    assert 'href="/audit/"' in page  # in the navigation


def test_it_never_shows_another_practices_entries(owner_client, other_practice):
    AuditEntryFactory(practice=other_practice, message="Bravo's secret entry")
    AuditEntryFactory(practice=None, message="A global entry")

    page = owner_client.get(URL).content.decode()

    assert "Bravo's secret entry" not in page and "A global entry" not in page


def test_staff_are_refused(teammate_client):
    assert teammate_client.get(URL).status_code == 403
    assert teammate_client.get(URL + "export.csv").status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client):
    assert client.get(URL)["Location"].startswith("/accounts/login/")


def test_it_answers_only_get(owner_client):
    assert owner_client.post(URL).status_code == 405


def test_it_filters_by_user_action_record_type_and_patient(owner_client, owner, teammate, practice):
    patient = PatientFactory(practice=practice)
    AuditEntryFactory(practice=practice, actor=teammate, action=Action.VIEWED, resource_type="claim", patient=patient)
    AuditEntryFactory(practice=practice, actor=teammate, action=Action.EXPORTED, resource_type="claim")
    AuditEntryFactory(practice=practice, actor=owner, action=Action.VIEWED, resource_type="note", patient=patient)

    assert rows(owner_client.get(URL, {"user": teammate.pk, "action": "viewed"})) == 1
    assert rows(owner_client.get(URL, {"resource_type": "note"})) == 1
    assert rows(owner_client.get(URL, {"patient": patient.pk, "action": "viewed"})) == 2
    # The patient's creation is an entry about the patient too.
    assert rows(owner_client.get(URL, {"patient": patient.pk})) == 3


def test_it_filters_by_days_of_the_practices_calendar(owner_client, practice):
    # 23:30 on Oct 1 in Chicago is already Oct 2 in UTC.
    AuditEntryFactory(practice=practice, created_at=datetime(2026, 10, 2, 4, 30, tzinfo=UTC), message="Late evening")
    AuditEntryFactory(practice=practice, created_at=datetime(2026, 10, 2, 15, 0, tzinfo=UTC), message="Next day")

    page = owner_client.get(URL, {"date_from": "2026-10-01", "date_to": "2026-10-01"}).content.decode()

    assert "Late evening" in page and "Next day" not in page


def test_it_explains_a_bad_filter(owner_client, other_practice):
    foreign_patient = PatientFactory(practice=other_practice)

    response = owner_client.get(URL, {"patient": foreign_patient.pk, "date_from": "2026-13-45"})

    assert response.status_code == 400
    page = response.content.decode()
    assert "No patient of this practice has this ID." in page and "Enter a valid date." in page


def test_it_shows_fifty_entries_a_page(owner_client, practice):
    AuditEntryFactory.create_batch(55, practice=practice)

    first, second = owner_client.get(URL), owner_client.get(URL, {"page": 2})

    assert rows(first) == 50 and rows(second) >= 5
    assert "Next →" in first.content.decode()


def test_htmx_gets_the_table_alone(owner_client, practice):
    AuditEntryFactory(practice=practice)

    response = owner_client.get(URL, {"action": "viewed"}, HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert 'id="audit-table"' in body and "<html" not in body
