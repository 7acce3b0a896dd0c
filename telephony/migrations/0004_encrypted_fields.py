"""Call transcripts and summaries become encrypted fields (billingpulse.encryption).

The columns are ``text`` already, so only the migration state changes (on SQLite an AlterField
would copy the whole table for a change of Python class). Existing rows stay readable as plain
text; ``manage.py rotate_encryption_keys`` encrypts them once ENCRYPT_SENSITIVE_FIELDS is on.
"""

from __future__ import annotations

from django.db import migrations

import billingpulse.encryption


class Migration(migrations.Migration):
    dependencies = [("telephony", "0003_unique_constraint_messages")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="call",
                    name="summary",
                    field=billingpulse.encryption.EncryptedTextField(blank=True),
                ),
                migrations.AlterField(
                    model_name="call",
                    name="transcript",
                    field=billingpulse.encryption.EncryptedTextField(blank=True),
                ),
            ]
        ),
    ]
