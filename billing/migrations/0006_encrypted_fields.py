"""Payment memos and ledger transaction memos become encrypted fields (billingpulse.encryption).

varchar(300) becomes text: on PostgreSQL a catalogue change (no rewrite, and the ledger's
append-only triggers do not fire). Existing rows stay readable as plain text; ``manage.py
rotate_encryption_keys`` encrypts them once ENCRYPT_SENSITIVE_FIELDS is on.
"""

from __future__ import annotations

from django.db import migrations

import billingpulse.encryption


class Migration(migrations.Migration):
    dependencies = [("billing", "0005_payment_allocation_plan")]

    operations = [
        migrations.AlterField(
            model_name="journaltransaction",
            name="memo",
            field=billingpulse.encryption.EncryptedCharField(blank=True, max_length=300),
        ),
        migrations.AlterField(
            model_name="payment",
            name="memo",
            field=billingpulse.encryption.EncryptedCharField(blank=True, max_length=300),
        ),
    ]
