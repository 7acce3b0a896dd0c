"""Ledger rows refuse UPDATE and DELETE in PostgreSQL itself, and every claim that existed
before the ledger gets opening transactions, so the books and the claims agree from day one."""

import hashlib
import json
from decimal import Decimal

from django.db import migrations

TABLES = ("billing_journaltransaction", "billing_ledgerentry")

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION billing_refuse_ledger_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger rows are append-only: % on % refused; post a reversal', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END $$;
""" + "".join(
    f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
    "FOR EACH ROW EXECUTE FUNCTION billing_refuse_ledger_change();\n"
    for table in TABLES
)
DROP = "".join(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};\n" for table in TABLES) + (
    "DROP FUNCTION IF EXISTS billing_refuse_ledger_change();"
)


def add_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY, params=None)  # the function body has a literal %


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


def _hash(content):
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def open_balances(apps, schema_editor):
    """Charge, payment and adjustment as the claim states them, posted as opening balances."""
    Claim = apps.get_model("claims", "Claim")
    PatientAccount = apps.get_model("billing", "PatientAccount")
    Txn = apps.get_model("billing", "JournalTransaction")
    Entry = apps.get_model("billing", "LedgerEntry")
    accounts = {}
    claims = Claim.objects.select_related("practice").order_by("pk")
    last = 0
    while True:
        batch = list(claims.filter(pk__gt=last)[:1000])
        if not batch:
            break
        last = batch[-1].pk
        txns, legs = [], []
        for claim in batch:
            account = accounts.get(claim.patient_id)
            if account is None:
                account = PatientAccount(practice_id=claim.practice_id, patient_id=claim.patient_id)
                accounts[claim.patient_id] = account
            balance = Decimal("0.00")
            steps = [
                ("charge", "", claim.total_charge, [("primary_ar", 1), ("charges", -1)]),
                ("payment", "", claim.paid_amount, [("cash", 1), ("primary_ar", -1)]),
                ("adjustment", "contractual", claim.adjustment_amount, [("contractual", 1), ("primary_ar", -1)]),
            ]
            for kind, reason, amount, sides in steps:
                if not amount:
                    continue
                move = amount * (1 if kind == "charge" else -1)
                balance += move
                account.insurance_balance += move
                pairs = [(name, amount * sign) for name, sign in sides]
                txns.append(
                    Txn(
                        practice_id=claim.practice_id,
                        kind=kind,
                        source="opening",
                        claim_id=claim.pk,
                        patient_id=claim.patient_id,
                        amount=abs(amount),
                        reason=reason,
                        memo="Opening balance",
                        effective_date=claim.service_date_from,
                        claim_balance_after=balance,
                        account_balance_after=account.insurance_balance,
                        idempotency_key=f"opening:{claim.pk}:{kind}",
                        content_hash=_hash({"opening": claim.pk, "kind": kind, "legs": sorted(map(str, pairs))}),
                    )
                )
                legs.append(pairs)
            claim.balance = balance
            claim.patient_responsibility = Decimal("0.00")
        Txn.objects.bulk_create(txns)
        Entry.objects.bulk_create(
            Entry(
                practice_id=txn.practice_id,
                transaction_id=txn.pk,
                account=name,
                amount=amount,
                claim_id=txn.claim_id,
                patient_id=txn.patient_id,
            )
            for txn, pairs in zip(txns, legs, strict=True)
            for name, amount in pairs
        )
        Claim.objects.bulk_update(batch, ["balance", "patient_responsibility"])
    for account in accounts.values():
        account.balance = account.insurance_balance
    PatientAccount.objects.bulk_create(accounts.values(), batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [
        migrations.RunPython(open_balances, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(add_triggers, drop_triggers),
    ]
