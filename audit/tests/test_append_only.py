"""No edit or delete path: not the ORM, not the admin, and on PostgreSQL not SQL either."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from audit import chain
from audit.models import AppendOnlyError, AuditEntry
from audit.tests.factories import AuditEntryFactory

pytestmark = pytest.mark.django_db


def test_it_refuses_to_change_or_delete_entries_through_the_orm(practice):
    entry = AuditEntryFactory(practice=practice)

    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(message="edited")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    entry.message = "edited"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    assert AuditEntry.objects.get(pk=entry.pk).message != "edited"


def test_the_admin_shows_entries_read_only(admin_client, practice):
    entry = AuditEntryFactory(practice=practice)

    assert admin_client.get("/admin/audit/auditentry/").status_code == 200
    assert admin_client.get(f"/admin/audit/auditentry/{entry.pk}/change/").status_code == 200
    assert admin_client.get("/admin/audit/auditentry/add/").status_code == 403
    assert admin_client.post(f"/admin/audit/auditentry/{entry.pk}/delete/").status_code == 403
    assert admin_client.post(f"/admin/audit/auditentry/{entry.pk}/change/", {"message": "edited"}).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_postgresql_refuses_sql_that_changes_or_deletes_an_entry(practice):
    entry = AuditEntryFactory(practice=practice)
    chain.seal(practice.pk)

    for sql in (
        "UPDATE audit_auditentry SET message = 'edited' WHERE id = %s",
        "UPDATE audit_auditentry SET hash = 'x' WHERE id = %s",
        "DELETE FROM audit_auditentry WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [entry.pk])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_postgresql_lets_the_chaining_step_fill_in_an_entry_once(practice):
    entry = AuditEntryFactory(practice=practice)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditentry SET message = 'edited', sequence = 1, hash = 'h' WHERE id = %s", [entry.pk]
        )

    assert chain.seal(practice.pk) >= 1
    assert chain.verify(practice.pk)[1] is None
