"""Call messages, outcomes and event payloads become encrypted JSON fields (billingpulse.encryption),
and the outcome's code gets a plain column of its own (``Call.call_outcome``).

The JSON columns keep their type, so only the migration state changes for them (on SQLite an
AlterField would copy the whole table for a change of Python class). Existing rows stay
readable as plain JSON; ``manage.py rotate_encryption_keys`` encrypts them once
ENCRYPT_SENSITIVE_FIELDS is on.

``call_outcome`` is filled from each existing call's outcome, read through the field (so
outcomes stored encrypted are decrypted with ENCRYPTION_KEYS): the payer report counts
resolved calls on it, since the database cannot look into an encrypted outcome.
"""

from __future__ import annotations

from django.db import migrations, models

import billingpulse.encryption

CALL_OUTCOMES = ("resolved", "follow_up", "action_required", "failed")
BATCH = 2000


def copy_call_outcomes(apps, schema_editor) -> None:
    Call = apps.get_model("telephony", "Call")
    calls = Call.objects.using(schema_editor.connection.alias)
    found: dict[str, list[int]] = {code: [] for code in CALL_OUTCOMES}
    for pk, outcome in calls.order_by("pk").values_list("pk", "outcome").iterator(chunk_size=BATCH):
        code = outcome.get("call_outcome") if isinstance(outcome, dict) else None
        if code in found:
            found[code].append(pk)
    for code, ids in found.items():
        for start in range(0, len(ids), BATCH):
            calls.filter(pk__in=ids[start : start + BATCH]).update(call_outcome=code)


class Migration(migrations.Migration):
    dependencies = [("telephony", "0004_encrypted_fields")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="call",
                    name="messages",
                    field=billingpulse.encryption.EncryptedJSONField(blank=True, default=list),
                ),
                migrations.AlterField(
                    model_name="call",
                    name="outcome",
                    field=billingpulse.encryption.EncryptedJSONField(blank=True, default=dict),
                ),
                migrations.AlterField(
                    model_name="callevent",
                    name="payload",
                    field=billingpulse.encryption.EncryptedJSONField(default=dict),
                ),
            ]
        ),
        migrations.AddField(
            model_name="call",
            name="call_outcome",
            field=models.CharField(blank=True, default="", editable=False, max_length=20),
        ),
        migrations.RunPython(copy_call_outcomes, migrations.RunPython.noop, elidable=True),
    ]
