"""Practices created before the knowledge base get the starter denial codes too.

New practices get them when they are created (``ai.signals``). The search index is not
built here: run ``manage.py ingest_knowledge --reindex`` after this migration; until then
a call's own denial code is still found by its exact code.
"""

import json
from pathlib import Path

from django.db import migrations

STARTER_FILE = Path(__file__).resolve().parent.parent / "data" / "denial_codes.json"


def add_starter_codes(apps, schema_editor):
    Practice = apps.get_model("billingpulse", "Practice")
    DenialCode = apps.get_model("ai", "DenialCode")
    entries = json.loads(STARTER_FILE.read_text())
    for practice_id in Practice.objects.values_list("pk", flat=True):
        have = set(DenialCode.objects.filter(practice_id=practice_id).values_list("code", flat=True))
        DenialCode.objects.bulk_create(
            DenialCode(practice_id=practice_id, **entry) for entry in entries if entry["code"] not in have
        )


class Migration(migrations.Migration):
    dependencies = [
        ("ai", "0001_initial"),
        ("billingpulse", "0002_practice_follow_up_cadence"),
    ]

    operations = [migrations.RunPython(add_starter_codes, migrations.RunPython.noop)]
