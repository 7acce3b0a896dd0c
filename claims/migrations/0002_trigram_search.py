"""Trigram indexes for the worklist search on PostgreSQL (no-op on SQLite).

The worklist searches claim numbers and patient names with ``icontains``, which Django
writes as ``UPPER(col::text) LIKE UPPER(%s)``; these GIN indexes on exactly those
expressions let PostgreSQL answer such a search without reading every row.
"""

from __future__ import annotations

from django.db import migrations

INDEXES = [
    ("claim_number_trgm", "claims_claim", "claim_number"),
    ("patient_last_name_trgm", "billingpulse_patient", "last_name"),
    ("patient_first_name_trgm", "billingpulse_patient", "first_name"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("claims", "0001_initial"), ("billingpulse", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
