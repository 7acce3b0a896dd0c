"""Note sections, amendment reasons, addenda and visit reasons become encrypted fields
(billingpulse.encryption).

The note's and the addendum's columns are ``text`` already, so only the migration state
changes: on SQLite an AlterField would copy the table, and dropping the old table would drop
the triggers that seal signed notes (migration 0002). The appointment's reason goes from
varchar(300) to text (no triggers on that table). Existing rows stay readable as plain text;
``manage.py rotate_encryption_keys`` encrypts them once ENCRYPT_SENSITIVE_FIELDS is on.
"""

from __future__ import annotations

from django.db import migrations

import billingpulse.encryption

SECTIONS = ("subjective", "physical_exam", "objective", "assessment", "plan")
LABELLED = (("hpi", "history of present illness"), ("ros", "review of systems"), ("labs_imaging", "labs and imaging"))


def _note_field(name: str, **kwargs) -> migrations.AlterField:
    return migrations.AlterField(
        model_name="clinicalnote", name=name, field=billingpulse.encryption.EncryptedTextField(blank=True, **kwargs)
    )


class Migration(migrations.Migration):
    dependencies = [("clinical", "0004_attestation_not_editable")]

    operations = [
        migrations.AlterField(
            model_name="appointment",
            name="reason",
            field=billingpulse.encryption.EncryptedCharField(
                blank=True, max_length=300, verbose_name="reason for visit"
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="addendum",
                    name="text",
                    field=billingpulse.encryption.EncryptedTextField(max_length=20000),
                ),
                _note_field("amendment_reason", max_length=2000),
                _note_field("chief_complaint", max_length=2000),
                *(_note_field(name, max_length=20000) for name in SECTIONS),
                *(_note_field(name, max_length=20000, verbose_name=label) for name, label in LABELLED),
            ]
        ),
    ]
