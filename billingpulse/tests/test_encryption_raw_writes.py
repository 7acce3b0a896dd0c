"""Code that writes encrypted columns without the field (COPY, one-statement SQL) encrypts them too.

On PostgreSQL the claim import and large ledger postings use COPY, and an end-of-call report is
stored by one SQL statement; on SQLite the same code takes the ORM path. These run on both.
"""

from __future__ import annotations

from decimal import Decimal
from unittest import mock

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from billing.models import Account, JournalTransaction
from billing.posting import COPY_FROM, Leg, Posting, post_many
from claims.models import Claim, ClaimEvent
from claims.tests.factories import ClaimFactory, PayerFactory
from claims.tests.test_import_engine import csv_file, run
from telephony import ingest
from telephony.models import Call
from telephony.tests.factories import CallFactory
from telephony.tests.fixtures import message


@pytest.fixture(autouse=True)
def _encrypted(settings):
    settings.ENCRYPT_SENSITIVE_FIELDS, settings.ENCRYPTION_KEYS = True, [Fernet.generate_key().decode()]


def _stored(model, field: str) -> list[str]:
    meta, quote = model._meta, connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quote(meta.get_field(field).column)} FROM {quote(meta.db_table)} ORDER BY id")
        return [value for (value,) in cursor.fetchall()]


def test_it_encrypts_what_the_claim_import_writes(practice, owner):
    PayerFactory(practice=practice, name="Aetna", payer_id="60054")
    body = "A-1,Maria Lopez,03/14/1980,09/01/2026,100.00,CO-16,Missing the referral,60054,W1,99213,E119\n"
    run(practice, owner, csv_file(body))
    # A second file updates the claim on file (on PostgreSQL through a staging table).
    run(practice, owner, csv_file(body.replace("Missing the referral", "Referral expired")))

    assert Claim.objects.get(claim_number="A-1").denial_reason == "Referral expired"
    assert all(value.startswith("fe1:") for value in _stored(Claim, "denial_reason"))
    assert all(value.startswith("fe1:") for value in _stored(ClaimEvent, "message"))
    assert "claims.csv" in ClaimEvent.objects.filter(claim__claim_number="A-1").first().message


def test_it_encrypts_ledger_memos_of_a_large_batch(practice):
    claim = ClaimFactory(practice=practice, total_charge=Decimal("0.00"), balance=Decimal("0.00"))
    postings = [
        Posting(
            kind="charge",
            source="manual",
            legs=[Leg(Account.PRIMARY_AR, Decimal("1.00")), Leg(Account.CHARGES, Decimal("-1.00"))],
            idempotency_key=f"batch:{n}",
            claim=claim,
            memo=f"Charge {n} for the patient's infusion.",
        )
        for n in range(COPY_FROM)
    ]

    post_many(practice, postings)

    stored = _stored(JournalTransaction, "memo")
    assert len(stored) == COPY_FROM and all(value.startswith("fe1:") for value in stored)
    memos = {txn.memo for txn in JournalTransaction.objects.all()}
    assert "Charge 7 for the patient's infusion." in memos


def test_it_encrypts_the_transcript_of_an_end_of_call_report(practice):
    call = CallFactory(practice=practice, provider=Call.Provider.VAPI, status=Call.Status.IN_PROGRESS)
    report = message("end-of-call-report", call)

    with mock.patch("telephony.tasks.run_post_call_pipeline.delay"):
        ingest.ingest_message(report)

    call = Call.objects.get(pk=call.pk)
    assert call.transcript and call.summary
    assert call.transcript == report["artifact"]["transcript"]
    assert _stored(Call, "transcript")[0].startswith("fe1:")
    assert _stored(Call, "summary")[0].startswith("fe1:")
