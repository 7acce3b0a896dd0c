"""PostgreSQL itself refuses deleting an audit entry or changing what it says.

The one update allowed is the chaining step's: filling in an unchained entry's place, previous
hash and hash, once. PostgreSQL only: SQLite drops a table's triggers whenever a migration
rebuilds the table, so there the model's refusals and the hash chain are the protection.
(Emptying tables between tests uses TRUNCATE, which fires no row trigger.)
"""

from __future__ import annotations

from django.db import migrations

# Every column but the chain fields (audit.models.CHAIN_FIELDS) as of this migration: a column
# added later needs a migration that replaces the function.
CONTENT = (
    "id",
    "practice_id",
    "actor_id",
    "actor_label",
    "action",
    "resource_type",
    "resource_id",
    "resource_label",
    "patient_id",
    "changes",
    "message",
    "remote_addr",
    "request_id",
    "user_agent",
    "created_at",
)


def _row(alias: str) -> str:
    return "ROW(" + ", ".join(f'{alias}."{column}"' for column in CONTENT) + ")"


POSTGRESQL = f"""
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit entries are append-only: DELETE of entry % refused', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.sequence IS NOT NULL OR NEW.sequence IS NULL OR NEW.hash = ''
       OR {_row("NEW")} IS DISTINCT FROM {_row("OLD")} THEN
        RAISE EXCEPTION 'audit entries are append-only: UPDATE of entry % refused', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER audit_auditentry_append_only BEFORE UPDATE OR DELETE ON audit_auditentry
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
"""
POSTGRESQL_DROP = """
DROP TRIGGER IF EXISTS audit_auditentry_append_only ON audit_auditentry;
DROP FUNCTION IF EXISTS audit_refuse_change();
"""


def add_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL, params=None)  # the function body holds a literal %


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(add_trigger, drop_trigger)]
