"""A note's medication and order lists become encrypted JSON fields (billingpulse.encryption).

The columns keep their type, so only the migration state changes: on SQLite an AlterField would
copy the table, and dropping the old table would drop the triggers that seal signed notes
(migration 0002). Existing rows stay readable as plain JSON; ``manage.py
rotate_encryption_keys`` encrypts them once ENCRYPT_SENSITIVE_FIELDS is on.
"""

from __future__ import annotations

from django.db import migrations

import billingpulse.encryption


class Migration(migrations.Migration):
    dependencies = [("clinical", "0005_encrypted_fields")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="clinicalnote",
                    name="medications",
                    field=billingpulse.encryption.EncryptedJSONField(blank=True, default=list),
                ),
                migrations.AlterField(
                    model_name="clinicalnote",
                    name="orders",
                    field=billingpulse.encryption.EncryptedJSONField(blank=True, default=list),
                ),
            ]
        ),
    ]
