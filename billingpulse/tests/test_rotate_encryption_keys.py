"""``manage.py rotate_encryption_keys``: turning encryption on for an existing database, and rotating keys.

The round trip runs on SQLite and, with DATABASE_URL pointing at PostgreSQL (as ``.ci/run``
does), on PostgreSQL, where the ledger's append-only triggers take part too.
"""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO
from unittest import mock

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from billing import services as billing_services
from billing.models import AdjustmentReason, JournalTransaction, Payment
from billing.tests.factories import PaymentFactory, posted_claim
from billingpulse import encryption
from billingpulse.encryption import DecryptionError
from claims.models import Claim, ClaimEvent
from claims.tests.factories import ClaimEventFactory, ClaimFactory
from clinical.models import Addendum, Appointment, ClinicalNote
from clinical.tests.factories import AddendumFactory, AppointmentFactory, ClinicalNoteFactory
from inbox.models import ActionItem
from inbox.tests.factories import ActionItemFactory
from telephony.models import Call, CallEvent
from telephony.tests.factories import CallEventFactory, CallFactory

KEY_1 = Fernet.generate_key().decode()
KEY_2 = Fernet.generate_key().decode()
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="The ledger's triggers are PostgreSQL's.")

# Each field gets its own text, so a leak of any of them into any column is found.
TEXT = {
    (Claim, "denial_reason"): "Denied: the payer says Mrs. Alvarez had other coverage.",
    (Claim, "last_call_outcome"): "Rep Dana said the claim is in process, reference R-5521.",
    (Claim, "next_steps"): "Send the operative report for the knee arthroscopy.",
    (ClaimEvent, "message"): "Biller note: patient disputes the copay amount.",
    (Call, "transcript"): "AI: Calling about claim for date of birth March third. Rep: I see it.",
    (Call, "summary"): "Claim pending medical records for the MRI.",
    (ClinicalNote, "chief_complaint"): "Persistent cough for two weeks.",
    (ClinicalNote, "hpi"): "Worse at night; no fever; works in a bakery.",
    (ClinicalNote, "ros"): "Negative for chest pain and weight loss.",
    (ClinicalNote, "subjective"): "Reports wheezing after climbing stairs.",
    (ClinicalNote, "physical_exam"): "Scattered expiratory wheeze bilaterally.",
    (ClinicalNote, "objective"): "SpO2 96 percent on room air.",
    (ClinicalNote, "labs_imaging"): "Chest film without infiltrate.",
    (ClinicalNote, "assessment"): "Reactive airway disease, new onset.",
    (ClinicalNote, "plan"): "Albuterol inhaler; recheck in ten days.",
    (ClinicalNote, "amendment_reason"): "Corrected the inhaler dose.",
    (Addendum, "text"): "Spirometry results reviewed with the patient's husband.",
    (Appointment, "reason"): "Follow-up for asthma and anxiety.",
    (Payment, "memo"): "Paid by her son Marco at the front desk.",
    (JournalTransaction, "memo"): "Written off at the family's hardship request.",
    (ActionItem, "detail"): "The payer needs the referral from Dr. Okafor for the cardiology visit.",
}


# The JSON fields, each with its own sentences too.
JSON = {
    (Call, "messages"): [
        {"role": "bot", "message": "Calling about Mr. Haddad, born June ninth.", "secondsFromStart": 1.5},
        {"role": "user", "message": "His claim for the sleep study is pending records.", "secondsFromStart": 4},
    ],
    (Call, "outcome"): {
        "call_outcome": "follow_up",
        "notes": "Rep Kim asked for the sleep study report.",
        "next_steps": "Fax the polysomnography report to the payer.",
        "evidence": {"notes": ["Rep: we need the sleep study report"]},
    },
    (CallEvent, "payload"): {"message": {"type": "end-of-call-report", "summary": "Pending the sleep lab's notes."}},
    (ClinicalNote, "medications"): ["Montelukast 10 mg nightly for the wheeze"],
    (ClinicalNote, "orders"): ["Spirometry before and after bronchodilator"],
}
VALUES = {**TEXT, **JSON}


def _strings(value) -> list[str]:
    """Every string inside a value (keys and short codes too)."""
    if isinstance(value, dict):
        return [*value, *(text for item in value.values() for text in _strings(item))]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return [value] if isinstance(value, str) else []


def test_it_covers_every_listed_field():
    assert {(model._meta.label, name) for model, name in VALUES} == {
        (label, name) for label, names in encryption.ENCRYPTED_FIELDS.items() for name in names
    }


def _raw_rows() -> dict[tuple, list[str]]:
    """Every stored value of every listed field, bypassing the fields (JSON columns as JSON text)."""
    found = {}
    quote = connection.ops.quote_name
    for model, names in encryption.encrypted_models():
        for name in names:
            field = model._meta.get_field(name)
            column, _ = encryption.stored_text(field, quote(field.column))
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {column} FROM {quote(model._meta.db_table)} ORDER BY id")
                found[(model, name)] = [value for (value,) in cursor.fetchall()]
    return found


def _make_rows(practice) -> dict:
    """One row holding each text (a signed note and its addendum among them); their ids."""
    claim = ClaimFactory(
        practice=practice,
        **{name: TEXT[(Claim, name)] for name in ("denial_reason", "last_call_outcome", "next_steps")},
    )
    event = ClaimEventFactory(claim=claim, message=TEXT[(ClaimEvent, "message")])
    item = ActionItemFactory(practice=practice, claim=claim, detail=TEXT[(ActionItem, "detail")])
    call = CallFactory(
        practice=practice,
        claim=claim,
        transcript=TEXT[(Call, "transcript")],
        summary=TEXT[(Call, "summary")],
        messages=JSON[(Call, "messages")],
        outcome=JSON[(Call, "outcome")],
    )
    call_event = CallEventFactory(call=call, payload=JSON[(CallEvent, "payload")])
    sections = {name: text for (model, name), text in VALUES.items() if model is ClinicalNote}
    note = ClinicalNoteFactory(practice=practice, status=ClinicalNote.Status.SIGNED, **sections)
    addendum = AddendumFactory(note=note, author=note.author, text=TEXT[(Addendum, "text")])
    appointment = AppointmentFactory(practice=practice, reason=TEXT[(Appointment, "reason")])
    payment = PaymentFactory(practice=practice)
    # Straight to the rows: a payment's memo is set when it is recorded, and ledger rows never change.
    Payment.objects.filter(pk=payment.pk).update(memo=TEXT[(Payment, "memo")])
    write_off = billing_services.adjust(
        posted_claim(practice=practice),
        Decimal("10.00"),
        key="hardship",
        reason=AdjustmentReason.BAD_DEBT,
        memo=TEXT[(JournalTransaction, "memo")],
    )
    return {
        Claim: claim.pk,
        ClaimEvent: event.pk,
        Call: call.pk,
        CallEvent: call_event.pk,
        ClinicalNote: note.pk,
        Addendum: addendum.pk,
        Appointment: appointment.pk,
        Payment: payment.pk,
        JournalTransaction: write_off.pk,
        ActionItem: item.pk,
    }


def _read_back(ids: dict) -> dict[tuple, object]:
    return {(model, name): getattr(model.objects.get(pk=ids[model]), name) for model, name in VALUES}


def _rotate(*args: str) -> str:
    if connection.vendor == "postgresql":
        # The test's own inserts leave deferred foreign-key checks pending, and PostgreSQL refuses
        # ALTER TABLE on a table with pending trigger events; the command's own transactions have none.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    out = StringIO()
    call_command("rotate_encryption_keys", *args, stdout=out)
    return out.getvalue()


def _assert_no_plain_text(rows: dict[tuple, list[str]], tag: str) -> None:
    for (model, name), values in rows.items():
        is_json = (model, name) in JSON
        empty, prefix = (encryption.EMPTY_JSON_TEXT, json.dumps(tag)[:-1]) if is_json else (("",), tag)
        for value in values:
            assert value in empty or value.startswith(prefix), f"{model._meta.label}.{name} holds {value[:30]!r}"
        stored = " ".join(values)
        for text in (text for value in VALUES.values() for text in _strings(value) if len(text) > 12):
            assert text[:25] not in stored


def test_it_encrypts_an_existing_database_and_rotates_keys_without_loss(settings, practice):
    # GIVEN a database written with encryption off
    settings.ENCRYPT_SENSITIVE_FIELDS, settings.ENCRYPTION_KEYS = False, []
    ids = _make_rows(practice)
    note = ClinicalNote.objects.get(pk=ids[ClinicalNote])
    sealed_hash, updated_at = note.content_hash(), note.updated_at
    assert TEXT[(Claim, "next_steps")] in _raw_rows()[(Claim, "next_steps")]
    assert "sleep study report" in _raw_rows()[(Call, "outcome")][0]

    # WHEN encryption is turned on and the command runs
    settings.ENCRYPT_SENSITIVE_FIELDS, settings.ENCRYPTION_KEYS = True, [KEY_1]
    assert _read_back(ids) == VALUES  # still readable before the command, as plain text
    output = _rotate()

    # THEN everything reads back and no column holds plain text
    assert _read_back(ids) == VALUES
    first = encryption.newest_tag()
    _assert_no_plain_text(_raw_rows(), first)
    assert "claims.Claim (denial_reason, last_call_outcome, next_steps): 1/1 rows" in output

    # WHEN a second key is put first, the command runs again, and the first key is dropped
    settings.ENCRYPTION_KEYS = [KEY_2, KEY_1]
    _rotate()
    settings.ENCRYPTION_KEYS = [KEY_2]

    # THEN everything still reads back, all under the second key
    assert _read_back(ids) == VALUES
    second = encryption.newest_tag()
    assert second != first
    _assert_no_plain_text(_raw_rows(), second)

    # The signed note's signature still matches, and nothing looks edited.
    note = ClinicalNote.objects.get(pk=ids[ClinicalNote])
    assert (note.content_hash(), note.updated_at) == (sealed_hash, updated_at)


def test_it_leaves_the_sealing_triggers_in_place(settings, practice):
    settings.ENCRYPT_SENSITIVE_FIELDS, settings.ENCRYPTION_KEYS = True, [KEY_1]
    ids = _make_rows(practice)
    settings.ENCRYPTION_KEYS = [KEY_2, KEY_1]

    _rotate()

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE clinical_clinicalnote SET plan = 'changed' WHERE id = %s", [ids[ClinicalNote]])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE clinical_addendum SET text = 'changed' WHERE id = %s", [ids[Addendum]])


@on_postgresql
def test_it_rotates_append_only_ledger_rows_and_keeps_them_append_only(settings, practice):
    settings.ENCRYPT_SENSITIVE_FIELDS, settings.ENCRYPTION_KEYS = True, [KEY_1]
    ids = _make_rows(practice)
    settings.ENCRYPTION_KEYS = [KEY_2, KEY_1]

    _rotate()
    settings.ENCRYPTION_KEYS = [KEY_2]

    assert JournalTransaction.objects.get(pk=ids[JournalTransaction]).memo == TEXT[(JournalTransaction, "memo")]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE billing_journaltransaction SET amount = 1 WHERE id = %s", [ids[JournalTransaction]])


def test_it_carries_on_where_it_stopped(settings, practice):
    settings.ENCRYPT_SENSITIVE_FIELDS = False
    claims = [ClaimFactory(practice=practice, next_steps=f"Step {n} for the patient.") for n in range(5)]
    settings.ENCRYPT_SENSITIVE_FIELDS, settings.ENCRYPTION_KEYS = True, [KEY_1]
    real, calls = encryption.rotated, []

    def fail_on_the_third_batch(value):
        calls.append(value)
        if len(calls) > 2 * 3:  # three columns per row, a row per batch
            raise KeyboardInterrupt
        return real(value)

    with mock.patch.object(encryption, "rotated", fail_on_the_third_batch), pytest.raises(KeyboardInterrupt):
        _rotate("--batch-size", "1")
    stored = _raw_rows()[(Claim, "next_steps")]
    assert sum(value.startswith("fe1:") for value in stored) == 2  # two batches committed

    output = _rotate("--batch-size", "2")

    assert "claims.Claim (denial_reason, last_call_outcome, next_steps): 3/3 rows" in output
    assert [Claim.objects.get(pk=c.pk).next_steps for c in claims] == [f"Step {n} for the patient." for n in range(5)]


def test_it_skips_rows_already_under_the_newest_key(settings, practice):
    settings.ENCRYPT_SENSITIVE_FIELDS, settings.ENCRYPTION_KEYS = True, [KEY_1]
    ClaimFactory(practice=practice, next_steps="Appeal.")

    with mock.patch.object(encryption, "rotated") as rotated:
        output = _rotate()

    rotated.assert_not_called()
    assert "claims.Claim (denial_reason, last_call_outcome, next_steps): up to date." in output


def test_it_re_encrypts_old_tokens_but_leaves_plain_text_when_encryption_is_off(settings, practice):
    settings.ENCRYPT_SENSITIVE_FIELDS, settings.ENCRYPTION_KEYS = True, [KEY_1]
    encrypted = ClaimFactory(practice=practice, next_steps="Encrypted before.")
    settings.ENCRYPT_SENSITIVE_FIELDS = False
    plain = ClaimFactory(practice=practice, next_steps="Plain all along.")
    settings.ENCRYPTION_KEYS = [KEY_2, KEY_1]

    _rotate()
    settings.ENCRYPTION_KEYS = [KEY_2]

    stored = dict(zip([encrypted.pk, plain.pk], _raw_rows()[(Claim, "next_steps")], strict=True))
    assert stored[encrypted.pk].startswith(encryption.newest_tag())
    assert stored[plain.pk] == "Plain all along."
    assert Claim.objects.get(pk=encrypted.pk).next_steps == "Encrypted before."


def test_it_refuses_to_run_when_encryption_is_on_without_keys(settings, db):
    settings.ENCRYPT_SENSITIVE_FIELDS, settings.ENCRYPTION_KEYS = True, []

    with pytest.raises(CommandError, match="ENCRYPTION_KEYS is empty"):
        _rotate()


def test_it_stops_at_a_value_no_configured_key_reads(settings, practice):
    settings.ENCRYPT_SENSITIVE_FIELDS, settings.ENCRYPTION_KEYS = True, [KEY_1]
    claim = ClaimFactory(practice=practice, next_steps="Appeal.")
    settings.ENCRYPTION_KEYS = [KEY_2]

    with pytest.raises(DecryptionError):
        _rotate()
    settings.ENCRYPTION_KEYS = [KEY_1]
    assert Claim.objects.get(pk=claim.pk).next_steps == "Appeal."  # nothing was lost


def test_it_keeps_amounts_untouched(settings, practice):
    settings.ENCRYPT_SENSITIVE_FIELDS = False
    payment = PaymentFactory(practice=practice, amount="40.00")
    settings.ENCRYPT_SENSITIVE_FIELDS, settings.ENCRYPTION_KEYS = True, [KEY_1]

    _rotate()

    assert Payment.objects.get(pk=payment.pk).amount == Decimal("40.00")


def test_it_writes_the_rotation_to_the_operators_audit_chain(settings, practice):
    from audit.models import AuditEntry

    settings.ENCRYPT_SENSITIVE_FIELDS, settings.ENCRYPTION_KEYS = False, [KEY_1]
    ClaimFactory(practice=practice, next_steps="Appeal.")
    settings.ENCRYPT_SENSITIVE_FIELDS = True

    _rotate()

    entry = AuditEntry.objects.get(action="key_rotated")
    assert entry.practice_id is None and entry.actor_id is None
    assert entry.message.startswith("1 row now under key id")
