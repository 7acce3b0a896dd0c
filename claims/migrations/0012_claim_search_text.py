# Claim.search_text, kept by database triggers: see claims/search_text.py.

from django.db import migrations, models

from claims import search_text


def create(apps, schema_editor):
    search_text.refresh_all(schema_editor.connection)
    search_text.install(schema_editor.connection)


def drop(apps, schema_editor):
    search_text.uninstall(schema_editor.connection)


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
