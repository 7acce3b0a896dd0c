"""``Claim.search_text``: the claim number and the patient's name, lower case, kept by the database.

A worklist search is then one condition on the claim table (``search_text LIKE '%word%'``) rather
than a claim number OR a lookup of patients. Triggers keep the column, so that every writer does:
Django saves, the imports' bulk inserts and updates, raw SQL, and a patient's rename (which rewrites
the search text of all their claims). Both sides of a search are lower-cased by the database's own
``lower()``, so they agree whatever its locale.

On PostgreSQL a trigram GIN index on the column finds the claims of a rare word, and the
``claim_worklist_order`` index carries it, so that for a common word the planner walks that index
newest first, reads no table row, and stops at the page's last match (``bench/worklist.py``
measures both; ``claims/tests/test_worklist_plans.py`` holds the planner to them).

Migration 0012 installs the triggers. SQLite drops a table's triggers when a migration rebuilds
the table (most field changes do), so ``install`` also runs after every ``migrate`` there; it
only creates what is missing.
"""

from __future__ import annotations

# The search text of the claim row ``row`` (NEW in a trigger, the table itself in an UPDATE).
_CLAIM = (
    "lower({row}.claim_number || ' ' || coalesce("
    "(SELECT first_name || ' ' || last_name FROM billingpulse_patient WHERE id = {row}.patient_id), ''))"
)
# A rename empties the search text of the patient's claims; the claims' update trigger writes it again.
_RENAMED = "UPDATE claims_claim SET search_text = '' WHERE patient_id = NEW.id;"
_CHANGED = (
    "OLD.claim_number {differs} NEW.claim_number OR OLD.patient_id {differs} NEW.patient_id "
    "OR OLD.search_text {differs} NEW.search_text"
)

_POSTGRESQL = [
    f"""
    CREATE OR REPLACE FUNCTION claims_claim_search_text() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.search_text := {_CLAIM.format(row="NEW")};
        RETURN NEW;
    END
    $$
    """,
    "CREATE OR REPLACE TRIGGER claims_claim_search_text BEFORE INSERT ON claims_claim "
    "FOR EACH ROW EXECUTE FUNCTION claims_claim_search_text()",
    # An update that leaves number, patient and search text as they were (a status change, a
    # re-import's row) costs nothing. A Django save writes every column, the search text too, from a
    # value the instance may have kept since it was created; that differs, and is written again.
    f"""
    CREATE OR REPLACE TRIGGER claims_claim_search_text_update
    BEFORE UPDATE OF claim_number, patient_id, search_text ON claims_claim FOR EACH ROW
    WHEN ({_CHANGED.format(differs="IS DISTINCT FROM")})
    EXECUTE FUNCTION claims_claim_search_text()
    """,
    f"""
    CREATE OR REPLACE FUNCTION billingpulse_patient_search_text() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {_RENAMED}
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE OR REPLACE TRIGGER billingpulse_patient_search_text AFTER UPDATE OF first_name, last_name
    ON billingpulse_patient FOR EACH ROW
    WHEN (OLD.first_name IS DISTINCT FROM NEW.first_name OR OLD.last_name IS DISTINCT FROM NEW.last_name)
    EXECUTE FUNCTION billingpulse_patient_search_text()
    """,
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS claim_search_trgm ON claims_claim USING gin (search_text gin_trgm_ops)",
    # Which of the two the planner takes rests on its estimate of how many claims hold the word, read
    # from a sample of search texts. With the default sample of 100, a surname on one claim in 80 is
    # missing from it about one time in four, and is then read through the trigram index (~34 ms at
    # 200,000 claims instead of ~5). 1,000 holds such a word ~12 times.
    "ALTER TABLE claims_claim ALTER COLUMN search_text SET STATISTICS 1000",
]
_POSTGRESQL_DROP = [
    "DROP INDEX IF EXISTS claim_search_trgm",
    "ALTER TABLE claims_claim ALTER COLUMN search_text SET STATISTICS -1",
    "DROP TRIGGER IF EXISTS billingpulse_patient_search_text ON billingpulse_patient",
    "DROP FUNCTION IF EXISTS billingpulse_patient_search_text()",
    "DROP TRIGGER IF EXISTS claims_claim_search_text_update ON claims_claim",
    "DROP TRIGGER IF EXISTS claims_claim_search_text ON claims_claim",
    "DROP FUNCTION IF EXISTS claims_claim_search_text()",
]

# SQLite triggers cannot assign to NEW: they update the row just written.
_SQLITE_CLAIM = f"BEGIN UPDATE claims_claim SET search_text = {_CLAIM.format(row='NEW')} WHERE id = NEW.id; END"
_SQLITE = [
    f"CREATE TRIGGER IF NOT EXISTS claims_claim_search_text_insert AFTER INSERT ON claims_claim {_SQLITE_CLAIM}",
    "CREATE TRIGGER IF NOT EXISTS claims_claim_search_text_update "
    "AFTER UPDATE OF claim_number, patient_id, search_text ON claims_claim "
    f"WHEN {_CHANGED.format(differs='IS NOT')} {_SQLITE_CLAIM}",
    f"""
    CREATE TRIGGER IF NOT EXISTS billingpulse_patient_search_text
    AFTER UPDATE OF first_name, last_name ON billingpulse_patient
    WHEN OLD.first_name IS NOT NEW.first_name OR OLD.last_name IS NOT NEW.last_name
    BEGIN {_RENAMED} END
    """,
]
_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS billingpulse_patient_search_text",
    "DROP TRIGGER IF EXISTS claims_claim_search_text_update",
    "DROP TRIGGER IF EXISTS claims_claim_search_text_insert",
]


def install(connection) -> None:
    """Create the triggers (and on PostgreSQL the trigram index) where they are missing."""
    with connection.cursor() as cursor:
        for statement in _POSTGRESQL if connection.vendor == "postgresql" else _SQLITE:
            cursor.execute(statement)


def uninstall(connection) -> None:
    with connection.cursor() as cursor:
        for statement in _POSTGRESQL_DROP if connection.vendor == "postgresql" else _SQLITE_DROP:
            cursor.execute(statement)


def refresh_all(connection) -> None:
    """Write every claim's search text (for rows written before the triggers)."""
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE claims_claim SET search_text = {_CLAIM.format(row='claims_claim')}")


def reinstall_after_migrate(sender, using: str = "default", **kwargs) -> None:
    """``post_migrate``: SQLite loses the triggers when a migration rebuilds either table."""
    from django.db import connections

    connection = connections[using]
    if connection.vendor == "sqlite" and {"claims_claim", "billingpulse_patient"} <= set(
        connection.introspection.table_names()
    ):
        install(connection)
