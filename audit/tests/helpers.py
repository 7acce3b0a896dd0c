"""What the audit tests share: reading the entries back, and tampering with them as an attacker
with database access would (past the model's refusals and PostgreSQL's trigger)."""

from __future__ import annotations

from django.db import connection

from audit.models import AuditEntry


def entries(**filters) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(**filters).order_by("pk"))


def last_id() -> int:
    """The newest entry's id: a test's own entries are those after it (fixtures write some too)."""
    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def only_entry(**filters) -> AuditEntry:
    found = entries(**filters)
    assert len(found) == 1, f"expected one entry matching {filters}, found {[str(e) for e in found]}"
    return found[0]


def tamper(sql: str, params: list) -> None:
    """Run ``sql`` on the audit table with its trigger disabled (in the test's transaction)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER audit_auditentry_append_only")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditentry ENABLE TRIGGER audit_auditentry_append_only")
