"""The encrypted JSON field: call messages, outcomes, webhook payloads and a note's medication and
order lists are stored encrypted when ENCRYPT_SENSITIVE_FIELDS is on, and read back exactly.

Runs on SQLite and, with DATABASE_URL pointing at PostgreSQL, on jsonb columns.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from unittest import mock

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.exceptions import FieldError
from django.db import connection
from django.test import Client

from billingpulse import encryption
from billingpulse.encryption import DecryptionError, check_encryption
from billingpulse.models import User
from clinical.models import ClinicalNote
from clinical.tests.factories import ClinicalNoteFactory
from reports.period import Period
from reports.queries import payer_performance
from telephony import ingest, pipeline
from telephony.models import Call, CallEvent
from telephony.tests.factories import CallEventFactory, CallFactory
from telephony.tests.fixtures import message

KEY_1 = Fernet.generate_key().decode()
KEY_2 = Fernet.generate_key().decode()

MESSAGES = [
    {"role": "bot", "message": "Calling about Ms. Okafor, date of birth April second.", "secondsFromStart": 1.5},
    {"role": "user", "message": "The MRI of her lumbar spine is pending records.", "secondsFromStart": 4, "time": 0},
]
OUTCOME = {
    "claim_status": "pending_info",
    "call_outcome": "follow_up",
    "notes": "Rep Ortiz wants the lumbar MRI report.",
    "next_steps": "Fax the radiology report for the lumbar MRI.",
    "follow_up_days": 7,
    "paid_amount": None,
    "evidence": {"notes": ["Rep: send us the MRI report"]},
}
# Whatever JSON a column may hold: containers, scalars, unicode, text that looks like a tag.
VALUES = [
    [],
    {},
    "",
    0,
    False,
    "fe1:typed text, not a token",
    "pt1:so is this",
    ["Ünïcødé: Zoë's café, 患者は咳をしている, 🩺 — ½ mg"],
    {"nested": [{"a": 1.5, "b": None, "c": ["x", {"d": True}]}], "empty": {}},
    MESSAGES,
]


@pytest.fixture
def encrypted(settings, db):
    settings.ENCRYPT_SENSITIVE_FIELDS, settings.ENCRYPTION_KEYS = True, [KEY_1]


def raw(model, pk: int, field: str) -> str:
    """The column as stored, as JSON text, bypassing the field."""
    meta, quote = model._meta, connection.ops.quote_name
    column, _ = encryption.stored_text(meta.get_field(field), quote(meta.get_field(field).column))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {quote(meta.db_table)} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def _set_raw(model, pk: int, field: str, text: str) -> None:
    meta, quote = model._meta, connection.ops.quote_name
    value = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(meta.db_table)} SET {quote(meta.get_field(field).column)} = {value} WHERE id = %s",
            [text, pk],
        )


def _call(**fields) -> Call:
    return CallFactory(**{"messages": MESSAGES, "outcome": OUTCOME, **fields})


# ---------------------------------------------------------------------------- values


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_it_round_trips_every_value_exactly_when_encrypted(encrypted, value):
    event = CallEventFactory(payload=value)

    assert CallEvent.objects.get(pk=event.pk).payload == value
    stored = raw(CallEvent, event.pk, "payload")
    if value in ([], {}, "") and not isinstance(value, bool | int):
        assert json.loads(stored) == value  # empty values stay as they are, never a token
    else:
        assert stored.startswith('"fe1:')
        assert "Okafor" not in stored and "café" not in stored and "typed" not in stored


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_it_round_trips_every_value_exactly_when_not_encrypted(settings, db, value):
    settings.ENCRYPT_SENSITIVE_FIELDS, settings.ENCRYPTION_KEYS = False, []
    event = CallEventFactory(payload=value)

    assert CallEvent.objects.get(pk=event.pk).payload == value
    # Plain JSON, except that a string looking like a tag is escaped so it is never taken for one.
    expected = f"pt1:{value}" if isinstance(value, str) and value.startswith(("fe1:", "pt1:")) else value
    assert json.loads(raw(CallEvent, event.pk, "payload")) == expected


def test_it_keeps_the_empty_defaults_as_they_are(encrypted):
    call = CallFactory()

    assert (raw(Call, call.pk, "messages"), raw(Call, call.pk, "outcome")) == ("[]", "{}")
    assert (Call.objects.get(pk=call.pk).messages, Call.objects.get(pk=call.pk).outcome) == ([], {})


def test_it_stores_no_transcript_text_when_on(encrypted, practice):
    call = _call(practice=practice)
    note = ClinicalNoteFactory(practice=practice, medications=["Gabapentin 300 mg at bedtime"], orders=["Lumbar MRI"])

    stored = " ".join(
        [raw(Call, call.pk, "messages"), raw(Call, call.pk, "outcome")]
        + [raw(ClinicalNote, note.pk, name) for name in ("medications", "orders")]
    )
    for text in ("Okafor", "lumbar", "Ortiz", "radiology", "follow_up", "Gabapentin", "Lumbar MRI"):
        assert text not in stored
    call = Call.objects.get(pk=call.pk)
    assert (call.messages, call.outcome, call.call_outcome) == (MESSAGES, OUTCOME, "follow_up")
    note = ClinicalNote.objects.get(pk=note.pk)
    assert (note.medications, note.orders) == (["Gabapentin 300 mg at bedtime"], ["Lumbar MRI"])


def test_it_reads_rows_written_before_encryption_was_turned_on(settings, db):
    settings.ENCRYPT_SENSITIVE_FIELDS = False
    call = _call()
    assert "Okafor" in raw(Call, call.pk, "messages")

    settings.ENCRYPT_SENSITIVE_FIELDS, settings.ENCRYPTION_KEYS = True, [KEY_1]
    call = Call.objects.get(pk=call.pk)
    assert (call.messages, call.outcome) == (MESSAGES, OUTCOME)

    call.save()
    assert raw(Call, call.pk, "messages").startswith('"fe1:')
    assert Call.objects.get(pk=call.pk).messages == MESSAGES


def test_it_reads_values_under_an_older_key_and_writes_under_the_newest(settings, encrypted):
    call = _call()
    settings.ENCRYPTION_KEYS = [KEY_2, KEY_1]

    call = Call.objects.get(pk=call.pk)
    assert call.outcome == OUTCOME
    call.save()
    assert raw(Call, call.pk, "outcome").startswith(json.dumps(encryption.newest_tag())[:-1])


def test_it_raises_on_a_wrong_key_instead_of_returning_ciphertext(settings, encrypted):
    call = _call()

    settings.ENCRYPTION_KEYS = [KEY_2]

    with pytest.raises(DecryptionError, match="not in ENCRYPTION_KEYS") as error:
        Call.objects.get(pk=call.pk)
    with pytest.raises(DecryptionError):
        list(Call.objects.filter(pk=call.pk).values_list("outcome", flat=True))
    assert KEY_1 not in str(error.value) and "Okafor" not in str(error.value)


def test_it_raises_on_an_altered_token(encrypted):
    event = CallEventFactory(payload={"message": {"transcript": "Rep: the claim is denied."}})
    token = json.loads(raw(CallEvent, event.pk, "payload"))
    _set_raw(CallEvent, event.pk, "payload", json.dumps(token[:-6] + "AAAAAA"))

    with pytest.raises(DecryptionError, match="failed authentication"):
        CallEvent.objects.get(pk=event.pk)


@pytest.mark.parametrize(
    "lookup",
    [
        {"outcome__call_outcome": "resolved"},
        {"outcome__has_key": "notes"},
        {"outcome__contains": {"call_outcome": "resolved"}},
        {"outcome": {"call_outcome": "resolved"}},
        {"messages__0__role": "user"},
        {"payload__message__type": "end-of-call-report"},
    ],
)
def test_it_refuses_lookups_the_database_cannot_answer(db, lookup):
    model = CallEvent if "payload__message__type" in lookup else Call
    with pytest.raises(FieldError, match="encrypted"):
        model.objects.filter(**lookup)


def test_no_query_reads_keys_of_an_encrypted_json_column():
    # KT() and KeyTextTransform build their SQL without asking the field, so the field cannot refuse
    # them as it refuses lookups: no code may use them (or a raw ->> / json_extract) on these columns.
    names = {
        name
        for model, names in encryption.encrypted_models()
        for name in names
        if isinstance(model._meta.get_field(name), encryption.EncryptedJSONField)
    }
    root = Path(settings.BASE_DIR)
    pattern = re.compile(
        r"(KT|KeyTextTransform|KeyTransform)\(\s*[\"'][^\"']*\b(" + "|".join(names) + r")(__|\b)"
        r"|\b(" + "|".join(names) + r")\s*(->>|->|#>)"
        r"|json_extract\(\s*\w*\.?(" + "|".join(names) + r")\b"
    )
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for path in root.rglob("*.py")
        if not {".venv", "node_modules", "migrations", "tests"} & set(path.relative_to(root).parts)
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1)
        if pattern.search(line)
    ]
    assert offenders == []
    # The pattern does find such a query.
    assert pattern.search('Call.objects.annotate(result=KT("outcome__call_outcome"))')


def test_it_allows_isnull(encrypted):
    _call()

    assert Call.objects.filter(outcome__isnull=False).count() == 1


def test_it_fails_the_check_when_json_values_are_under_a_key_no_longer_configured(settings, encrypted):
    CallEventFactory(payload={"message": {"summary": "Pending records."}})

    assert check_encryption(None) == []
    settings.ENCRYPTION_KEYS = [KEY_2]
    errors = check_encryption(None)

    assert {e.id for e in errors} == {"billingpulse.E014"}
    assert any("telephony.CallEvent.payload" in e.msg for e in errors)


# ---------------------------------------------------------------------------- writers


def test_it_encrypts_the_messages_and_payload_of_an_end_of_call_report(encrypted, practice):
    # PostgreSQL stores the report with one SQL statement, SQLite through the ORM: both encrypt.
    call = CallFactory(practice=practice, provider=Call.Provider.VAPI, status=Call.Status.IN_PROGRESS)
    report = message("end-of-call-report", call)

    with mock.patch("telephony.tasks.run_post_call_pipeline.delay"):
        ingest.ingest_message(report)

    call = Call.objects.get(pk=call.pk)
    assert call.messages == report["artifact"]["messages"] and call.messages
    assert raw(Call, call.pk, "messages").startswith('"fe1:')
    event = CallEvent.objects.get(call=call, kind="end-of-call-report")
    assert event.payload == {"message": report}
    assert raw(CallEvent, event.pk, "payload").startswith('"fe1:')


def test_the_pipeline_keeps_the_outcome_code_beside_the_encrypted_outcome(encrypted, practice):
    call = CallFactory(
        practice=practice,
        transcript="User: Your claim was paid on March 3rd, reference number 55501. Thank you for calling.",
    )

    with mock.patch("telephony.pipeline.transaction.on_commit"):
        outcome = pipeline.extract(call)

    call = Call.objects.get(pk=call.pk)
    assert call.outcome == outcome.to_json()
    assert call.call_outcome == outcome.call_outcome != ""
    assert raw(Call, call.pk, "outcome").startswith('"fe1:')


def test_the_payer_report_counts_resolved_calls_with_encryption_on(encrypted, practice):
    period = Period.ending_today(practice, 30)
    resolved = _call(practice=practice, outcome={**OUTCOME, "call_outcome": "resolved"})
    _call(practice=practice, claim=resolved.claim, status=Call.Status.FAILED)

    [row] = payer_performance(practice, period).rows

    assert (row["finished"], row["resolved"]) == (2, 1)


# ---------------------------------------------------------------------------- pages, API, admin


def test_it_shows_messages_and_outcome_on_the_call_page(encrypted, owner_client, practice):
    call = _call(practice=practice)

    body = owner_client.get(f"/calls/{call.pk}/").content.decode()

    assert "The MRI of her lumbar spine is pending records." in body
    assert "Fax the radiology report for the lumbar MRI." in body


def test_it_shows_messages_and_outcome_in_the_api(encrypted, api, practice):
    call = _call(practice=practice)

    listed = api.get("/api/v1/calls").json()["results"]
    detail = api.get(f"/api/v1/calls/{call.pk}").json()

    assert [row["outcome"] for row in listed] == [OUTCOME]
    assert (detail["messages"], detail["outcome"]) == (MESSAGES, OUTCOME)


def test_it_shows_medications_in_the_admin(encrypted, practice):
    note = ClinicalNoteFactory(practice=practice, medications=["Gabapentin 300 mg at bedtime"])
    client = Client()
    client.force_login(User.objects.create_superuser("ops@billingpulse.example", "an-operator-password"))

    body = client.get(f"/admin/clinical/clinicalnote/{note.pk}/change/").content.decode()

    assert "Gabapentin 300 mg at bedtime" in body
