"""/audit/export.csv: the filtered log as a CSV a spreadsheet opens safely."""

from __future__ import annotations

import csv
import io

import pytest

from audit.models import Action
from audit.tests.factories import AuditEntryFactory
from audit.tests.helpers import only_entry

pytestmark = pytest.mark.django_db
URL = "/audit/export.csv"


def read(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_it_exports_the_filtered_entries_of_the_practice_only(owner_client, owner, practice, other_practice):
    AuditEntryFactory(practice=practice, action=Action.VIEWED, message="Looked at a claim")
    AuditEntryFactory(practice=practice, action=Action.DELETED, message="Removed a patient")
    AuditEntryFactory(practice=other_practice, action=Action.VIEWED, message="Bravo's entry")

    table = read(owner_client.get(URL, {"action": "viewed"}))

    assert table[0][:3] == ["When", "User", "Action"]
    assert [row[7] for row in table[1:]] == ["Looked at a claim"]
    # The export itself is recorded.
    assert only_entry(action=Action.EXPORTED, resource_type="audit_log").actor_id == owner.pk


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"])
def test_it_neutralises_cells_a_spreadsheet_would_run(owner_client, practice, text):
    AuditEntryFactory(practice=practice, message=text, actor_label=text)

    (row,) = [row for row in read(owner_client.get(URL)) if row[0] != "When" and row[3] == "claim"]

    assert row[1] == row[7] == "'" + text


def test_it_refuses_a_bad_filter_with_the_page_and_its_message(owner_client):
    response = owner_client.get(URL, {"date_from": "2026-05-02", "date_to": "2026-05-01"})

    assert response.status_code == 400
    assert "The end date is before the start date." in response.content.decode()
