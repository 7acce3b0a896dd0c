# Claim.search_text, kept by database triggers: see claims/search_text.py. The search no longer reads
# claim_number alone, so its trigram index (0002) goes: one index less to write per claim.

from django.db import migrations, models

from claims import search_text


def create(apps, schema_editor):
    search_text.refresh_all(schema_editor.connection)
    search_text.install(schema_editor.connection)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS claim_number_trgm")


def drop(apps, schema_editor):
    search_text.uninstall(schema_editor.connection)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            'CREATE INDEX IF NOT EXISTS claim_number_trgm ON claims_claim USING gin ((UPPER("claim_number"::text)) gin_trgm_ops)'
        )


class Migration(migrations.Migration):
    dependencies = [
        ("billingpulse", "0009_practice_require_two_factor"),
        ("claims", "0011_worklist_order_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="claim",
            name="search_text",
            field=models.TextField(default="", editable=False),
        ),
        migrations.RunPython(create, drop, elidable=False),
        migrations.RemoveIndex(
            model_name="claim",
            name="claims_clai_practic_429823_idx",
        ),
        migrations.AddIndex(
            model_name="claim",
            index=models.Index(
                fields=["practice", "-service_date_from", "-id"],
                include=("status", "search_text"),
                name="claim_worklist_order",
            ),
        ),
    ]
