"""The encrypted field: what is stored, what is read back, and what is refused."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError, ImproperlyConfigured, ValidationError
from django.db import connection

from billing.models import JournalTransaction, Payment
from billingpulse import encryption
from billingpulse.encryption import (
    ENCRYPTED_FIELDS,
    DecryptionError,
    EncryptedJSONField,
    EncryptedTextField,
    check_encryption,
)
from claims.models import Claim
from claims.tests.factories import ClaimFactory

KEY_1 = Fernet.generate_key().decode()
KEY_2 = Fernet.generate_key().decode()

VALUES = [
    "",
    "0",
    "Patient said the denial letter went to her old address.",
    "Ünïcødé: Zoë's café, 患者は咳をしている, 🩺 — ½ mg",
    "fe1:this is typed text, not a token",
    "pt1:so is this",
    "Line one\nline two\r\n\ttabbed",
    "long " * 4000,
]


@pytest.fixture
def encrypted(settings, db):
    settings.ENCRYPT_SENSITIVE_FIELDS, settings.ENCRYPTION_KEYS = True, [KEY_1]


def raw(model, pk: int, field: str) -> str:
    """The column as stored, bypassing the field."""
    meta, quote = model._meta, connection.ops.quote_name
    column = meta.get_field(field).column
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quote(column)} FROM {quote(meta.db_table)} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_it_round_trips_every_value_exactly_when_encrypted(encrypted, value):
    claim = ClaimFactory(next_steps=value)

    assert Claim.objects.get(pk=claim.pk).next_steps == value
    stored = raw(Claim, claim.pk, "next_steps")
    if value == "":
        assert stored == ""  # never NULL
    else:
        assert stored.startswith("fe1:")
        assert len(value) < 5 or value.strip()[:20] not in stored


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_it_round_trips_every_value_exactly_when_not_encrypted(settings, db, value):
    settings.ENCRYPT_SENSITIVE_FIELDS, settings.ENCRYPTION_KEYS = False, []
    claim = ClaimFactory(next_steps=value)

    assert Claim.objects.get(pk=claim.pk).next_steps == value
    stored = raw(Claim, claim.pk, "next_steps")
    # Plain text, except that text looking like a tag is escaped so it is never taken for one.
    assert stored == (f"pt1:{value}" if value.startswith(("fe1:", "pt1:")) else value)


def test_it_reads_rows_written_before_encryption_was_turned_on(settings, db):
    settings.ENCRYPT_SENSITIVE_FIELDS = False
    claim = ClaimFactory(denial_reason="Not covered: experimental.", next_steps="Appeal with records.")

    settings.ENCRYPT_SENSITIVE_FIELDS, settings.ENCRYPTION_KEYS = True, [KEY_1]
    claim = Claim.objects.get(pk=claim.pk)

    assert (claim.denial_reason, claim.next_steps) == ("Not covered: experimental.", "Appeal with records.")
    claim.save()
    assert raw(Claim, claim.pk, "denial_reason").startswith("fe1:")
    assert Claim.objects.get(pk=claim.pk).denial_reason == "Not covered: experimental."


def test_it_reads_values_under_an_older_key_and_writes_under_the_newest(settings, encrypted):
    claim = ClaimFactory(next_steps="Resubmit with modifier 25.")

    settings.ENCRYPTION_KEYS = [KEY_2, KEY_1]
    claim = Claim.objects.get(pk=claim.pk)
    assert claim.next_steps == "Resubmit with modifier 25."
    assert raw(Claim, claim.pk, "next_steps").startswith(f"fe1:{encryption.keys()[1][0]}:")

    claim.save()
    assert raw(Claim, claim.pk, "next_steps").startswith(f"fe1:{encryption.keys()[0][0]}:")


def test_it_raises_on_a_wrong_key_instead_of_returning_ciphertext(settings, encrypted):
    claim = ClaimFactory(next_steps="Call back Tuesday.")

    settings.ENCRYPTION_KEYS = [KEY_2]

    with pytest.raises(DecryptionError, match="not in ENCRYPTION_KEYS") as error:
        Claim.objects.get(pk=claim.pk)
    assert KEY_1 not in str(error.value) and "Tuesday" not in str(error.value)


def test_it_raises_on_an_altered_token(encrypted):
    claim = ClaimFactory(next_steps="Call back Tuesday.")
    stored = raw(Claim, claim.pk, "next_steps")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE claims_claim SET next_steps = %s WHERE id = %s", [stored[:-6] + "AAAAAA", claim.pk])

    with pytest.raises(DecryptionError, match="failed authentication"):
        Claim.objects.get(pk=claim.pk)


def test_it_raises_when_encrypted_values_are_read_with_no_keys(settings, encrypted):
    claim = ClaimFactory(next_steps="Call back Tuesday.")

    settings.ENCRYPT_SENSITIVE_FIELDS, settings.ENCRYPTION_KEYS = False, []

    with pytest.raises(DecryptionError):
        Claim.objects.get(pk=claim.pk)


@pytest.mark.parametrize(
    "lookup",
    [
        {"next_steps": "Appeal"},
        {"next_steps__icontains": "appeal"},
        {"next_steps__startswith": "A"},
        {"next_steps__in": ["Appeal"]},
        {"next_steps__lower": "appeal"},
    ],
)
def test_it_refuses_lookups_the_database_cannot_answer(db, lookup):
    with pytest.raises(FieldError, match="encrypted"):
        Claim.objects.filter(**lookup)


def test_it_allows_isnull(encrypted):
    ClaimFactory(next_steps="Appeal")

    assert Claim.objects.filter(next_steps__isnull=False).count() == 1


def test_it_keeps_max_length_validation_of_the_former_char_fields(encrypted):
    payment = Payment(memo="x" * 301)

    with pytest.raises(ValidationError) as error:
        payment.clean_fields(exclude=[f.name for f in Payment._meta.fields if f.name != "memo"])
    assert "memo" in error.value.message_dict


def test_it_shows_the_former_char_fields_on_one_line_in_forms():
    assert Claim._meta.get_field("denial_reason").formfield().widget.input_type == "text"


def test_it_lists_the_free_text_patient_data():
    from clinical.models import SECTION_NAMES

    # Every section of a note, present and future, is encrypted: the list follows the note's sections.
    assert set(ENCRYPTED_FIELDS["clinical.ClinicalNote"]) == {
        *SECTION_NAMES,
        "amendment_reason",
        "medications",
        "orders",
    }
    assert ENCRYPTED_FIELDS["telephony.Call"] == ("transcript", "summary", "messages", "outcome")
    assert ENCRYPTED_FIELDS["telephony.CallEvent"] == ("payload",)
    assert ENCRYPTED_FIELDS["claims.Claim"] == ("denial_reason", "last_call_outcome", "next_steps")
    assert {"billing.Payment", "billing.JournalTransaction", "clinical.Addendum"} <= set(ENCRYPTED_FIELDS)


def test_it_declares_exactly_the_listed_fields_as_encrypted_text_or_json_columns(db):
    for model, names in encryption.encrypted_models():
        description = {
            column.name: column
            for column in connection.introspection.get_table_description(connection.cursor(), model._meta.db_table)
        }
        for name in names:
            field = model._meta.get_field(name)
            assert isinstance(field, EncryptedTextField | EncryptedJSONField), f"{model._meta.label}.{name}"
            column = description[field.column]
            kind = "JSONField" if isinstance(field, EncryptedJSONField) else "TextField"
            assert connection.introspection.get_field_type(column.type_code, column) == kind, field
    assert not [e for e in check_encryption(None) if e.id == "billingpulse.E011"]


def test_it_encrypts_payment_and_ledger_memos(encrypted, practice):
    from billing.tests.factories import PaymentFactory

    payment = PaymentFactory(practice=practice)
    Payment.objects.filter(pk=payment.pk).update(memo="Paid by the patient's daughter, Ann.")
    txn = JournalTransaction.objects.filter(payment=payment).first()

    assert raw(Payment, payment.pk, "memo").startswith("fe1:")
    assert raw(JournalTransaction, txn.pk, "memo").startswith("fe1:")
    assert Payment.objects.get(pk=payment.pk).memo == "Paid by the patient's daughter, Ann."


# ---------------------------------------------------------------------------- the start-up check


def _errors() -> list[str]:
    return [error.id for error in check_encryption(None)]


def test_it_passes_the_check_with_a_good_key_and_stored_values(encrypted):
    ClaimFactory(next_steps="Call back Tuesday.")

    assert check_encryption(None) == []


def test_it_fails_the_check_when_encryption_is_on_without_keys(settings, db):
    settings.ENCRYPT_SENSITIVE_FIELDS, settings.ENCRYPTION_KEYS = True, []

    assert _errors() == ["billingpulse.E013"]


def test_it_fails_the_check_on_a_key_that_is_not_a_fernet_key(settings, db):
    settings.ENCRYPT_SENSITIVE_FIELDS, settings.ENCRYPTION_KEYS = True, [KEY_1, "not-a-key-but-a-secret"]

    errors = check_encryption(None)

    assert [e.id for e in errors] == ["billingpulse.E012"]
    assert "entry 2" in errors[0].msg and "not-a-key-but-a-secret" not in errors[0].msg
    with pytest.raises(ImproperlyConfigured):
        encryption.keys()


def test_it_fails_the_check_when_stored_values_are_under_a_key_no_longer_configured(settings, encrypted):
    ClaimFactory(next_steps="Call back Tuesday.")

    settings.ENCRYPTION_KEYS = [KEY_2]
    errors = check_encryption(None)

    assert {e.id for e in errors} == {"billingpulse.E014"}
    assert any("claims.Claim.next_steps" in e.msg for e in errors)
    text = " ".join(e.msg + (e.hint or "") for e in errors)
    assert KEY_1 not in text and KEY_2 not in text and "Tuesday" not in text
