"""GET /api/v1/audit: the practice's entries for its admins, with the page's filters."""

from __future__ import annotations

import pytest

from audit.models import Action
from audit.tests.factories import AuditEntryFactory
from billingpulse.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/audit"


def test_it_lists_the_practices_entries_newest_first(api, practice, other_practice):
    older = AuditEntryFactory(practice=practice, message="older")
    newer = AuditEntryFactory(practice=practice, message="newer")
    AuditEntryFactory(practice=other_practice, message="Bravo's entry")

    response = api.get(URL, {"resource_type": "claim"})

    assert response.status_code == 200
    results = response.json()["results"]
    assert [item["id"] for item in results] == [newer.pk, older.pk]
    assert set(results[0]) >= {"created_at", "actor", "action", "resource_type", "patient", "changes", "hash"}


def test_it_filters_like_the_page(api, owner, practice):
    patient = PatientFactory(practice=practice)
    wanted = AuditEntryFactory(practice=practice, actor=owner, action=Action.EXPORTED, patient=patient)
    AuditEntryFactory(practice=practice, actor=owner, action=Action.VIEWED, patient=patient)

    response = api.get(URL, {"user": owner.pk, "action": "exported", "patient": patient.pk, "date_from": "2026-01-01"})

    assert [item["id"] for item in response.json()["results"]] == [wanted.pk]


def test_a_bad_filter_is_a_400_naming_the_field(api, other_practice):
    response = api.get(URL, {"action": "teleported", "patient": PatientFactory(practice=other_practice).pk})

    assert response.status_code == 400
    assert set(response.json()) >= {"action", "patient"}


def test_staff_are_refused_and_anonymous_callers_unauthorised(teammate_api, client):
    assert teammate_api.get(URL).status_code == 403
    assert client.get(URL).status_code == 401


def test_reading_the_log_through_the_api_is_recorded(api, owner):
    api.get(URL)

    assert AuditEntryFactory._meta.model.objects.filter(action=Action.API_READ, resource_type="audit_log").count() == 1
