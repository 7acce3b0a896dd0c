"""The database itself refuses what the models refuse: a change to a signed note's content, a move
of a signed note's status other than locking or amending, and any change to a signature, an
addendum or a note's audit trail. PostgreSQL also refuses deleting them; SQLite refuses updates
only (Django empties SQLite tables between transactional tests with DELETE, which a trigger
would block; PostgreSQL uses TRUNCATE, which fires no row trigger)."""

from django.db import migrations

SEALED = "('signed', 'locked', 'amended')"
# Columns a signature seals (clinical.models.CONTENT_FIELDS as of this migration: a field added
# later needs a migration that replaces the trigger), and those naming the version signed.
COLUMNS = (
    "patient_id",
    "provider_id",
    "note_type",
    "note_date",
    "chief_complaint",
    "hpi",
    "ros",
    "subjective",
    "physical_exam",
    "objective",
    "labs_imaging",
    "assessment",
    "plan",
    "diagnosis_codes",
    "procedures",
    "medications",
    "orders",
    "practice_id",
    "author_id",
    "version",
    "amends_id",
    "first_version_id",
    "signed_at",
)
ALLOWED_MOVE = (
    "(NEW.status = OLD.status"
    " OR (OLD.status = 'signed' AND NEW.status IN ('locked', 'amended'))"
    " OR (OLD.status = 'locked' AND NEW.status = 'amended'))"
)
APPEND_ONLY = ("clinical_signature", "clinical_addendum", "clinical_noteevent")


def _changed(compare: str) -> str:
    return " OR ".join(f'NEW."{column}" {compare} OLD."{column}"' for column in COLUMNS)


POSTGRESQL = f"""
CREATE OR REPLACE FUNCTION clinical_guard_signed_note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status IN {SEALED} THEN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'clinical note % is signed: a legal record cannot be deleted', OLD.id
                USING ERRCODE = 'restrict_violation';
        END IF;
        IF {_changed("IS DISTINCT FROM")} THEN
            RAISE EXCEPTION 'clinical note % is signed: its content cannot be changed; amend it', OLD.id
                USING ERRCODE = 'restrict_violation';
        END IF;
        IF NOT {ALLOWED_MOVE} THEN
            RAISE EXCEPTION 'clinical note % is signed: status % cannot become %', OLD.id, OLD.status, NEW.status
                USING ERRCODE = 'restrict_violation';
        END IF;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER clinical_clinicalnote_signed BEFORE UPDATE OR DELETE ON clinical_clinicalnote
    FOR EACH ROW EXECUTE FUNCTION clinical_guard_signed_note();
CREATE OR REPLACE FUNCTION clinical_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are never changed or deleted: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END $$;
""" + "".join(
    f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
    "FOR EACH ROW EXECUTE FUNCTION clinical_refuse_change();\n"
    for table in APPEND_ONLY
)
POSTGRESQL_DROP = (
    "DROP TRIGGER IF EXISTS clinical_clinicalnote_signed ON clinical_clinicalnote;\n"
    + "".join(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};\n" for table in APPEND_ONLY)
    + "DROP FUNCTION IF EXISTS clinical_guard_signed_note();\nDROP FUNCTION IF EXISTS clinical_refuse_change();"
)

SQLITE = [
    f"CREATE TRIGGER clinical_clinicalnote_signed BEFORE UPDATE ON clinical_clinicalnote FOR EACH ROW "
    f"WHEN OLD.status IN {SEALED} AND ({_changed('IS NOT')} OR NOT {ALLOWED_MOVE}) "
    "BEGIN SELECT RAISE(ABORT, 'clinical note is signed: its content cannot be changed; amend it'); END",
    *(
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table} FOR EACH ROW "
        f"BEGIN SELECT RAISE(ABORT, '{table} rows are never changed'); END"
        for table in APPEND_ONLY
    ),
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS clinical_clinicalnote_signed",
    *(f"DROP TRIGGER IF EXISTS {table}_append_only" for table in APPEND_ONLY),
]


def add_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL, params=None)  # the function bodies hold a literal %
    elif vendor == "sqlite":
        for statement in SQLITE:
            schema_editor.execute(statement, params=None)


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_DROP, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("clinical", "0001_initial")]

    operations = [migrations.RunPython(add_triggers, drop_triggers)]
