"""Claim notes, denial reasons, call outcomes and next steps become encrypted fields
(billingpulse.encryption). Existing rows stay readable as plain text; ``manage.py
rotate_encryption_keys`` encrypts them once ENCRYPT_SENSITIVE_FIELDS is on.

Columns that are ``text`` already change in the migration state only: on SQLite an AlterField
would copy the whole table for a change of Python class. ``denial_reason`` goes from
varchar(300) to text (on PostgreSQL a catalogue change, no rewrite).
"""

from __future__ import annotations

from django.db import migrations

import billingpulse.encryption


class Migration(migrations.Migration):
    dependencies = [("claims", "0009_fee_schedule_and_claim_numbering")]

    operations = [
        migrations.AlterField(
            model_name="claim",
            name="denial_reason",
            field=billingpulse.encryption.EncryptedCharField(blank=True, max_length=300),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="claim",
                    name="last_call_outcome",
                    field=billingpulse.encryption.EncryptedTextField(blank=True, max_length=2000),
                ),
                migrations.AlterField(
                    model_name="claim",
                    name="next_steps",
                    field=billingpulse.encryption.EncryptedTextField(
                        blank=True,
                        help_text="What has to happen next, from the last call or a biller.",
                        max_length=2000,
                    ),
                ),
                migrations.AlterField(
                    model_name="claimevent",
                    name="message",
                    field=billingpulse.encryption.EncryptedTextField(blank=True),
                ),
            ]
        ),
    ]
