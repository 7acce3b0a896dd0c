# The search behind billingpulse.codes.search, on PostgreSQL only: SQLite has no pg_trgm or
# collations to choose, and searches the (small, local) table by scanning it.
#
# - code gets the "C" collation, so the unique (code_set, code) index answers a code prefix
#   (code LIKE 'E11%') as a range and in code order: 20 rows read, whatever the prefix
#   ("Z" alone matches 5% of the table). In the database's own collation a prefix cannot use
#   that index, and the planner either sorts every match or walks the whole index.
#   An AlterField on DiagnosisCode.code would set the column back to the default collation;
#   such a migration must set "C" again.
# - a trigram GIN index on search_text answers the word-prefix filters
#   (search_text LIKE '% diab%'), however rare the word;
# - (code_set, length(code), code) is the picker's order for words (categories, then their
#   subcategories), so for a common word ("fract" matches a fifth of the table) the planner
#   walks it and stops at the 20th match instead of sorting thousands.
# bench/icd10_search.py measures them; bench/RESULTS.md says why these were chosen.

from django.db import migrations

TABLE = "billingpulse_diagnosiscode"
INDEXES = [
    (
        "diagnosis_code_search_trgm",
        f"CREATE INDEX diagnosis_code_search_trgm ON {TABLE} USING gin (search_text gin_trgm_ops)",
    ),
    (
        "diagnosis_code_picker_order",
        f"CREATE INDEX diagnosis_code_picker_order ON {TABLE} (code_set_id, length(code), code)",
    ),
]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(f'ALTER TABLE {TABLE} ALTER COLUMN code TYPE varchar(8) COLLATE "C"')
    for _name, sql in INDEXES:
        schema_editor.execute(sql)


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _sql in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    schema_editor.execute(f'ALTER TABLE {TABLE} ALTER COLUMN code TYPE varchar(8) COLLATE "default"')


class Migration(migrations.Migration):
    dependencies = [
        ("billingpulse", "0007_diagnosiscodeset_diagnosiscode"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
