"""Encryption of free-text patient data in database columns (``ENCRYPT_SENSITIVE_FIELDS``).

``EncryptedTextField`` stores its value as a Fernet token under the newest key of
``ENCRYPTION_KEYS`` (newest first, as in ``cryptography``'s ``MultiFernet``: the first key
writes, every listed key reads) and decrypts it whenever a row is loaded, so pages, the
admin, the API and exports all see the text. The column is ``text`` whether encryption is on
or off. Stored forms:

* ``""``: the empty value, never encrypted and never NULL (emptiness is not patient data).
* ``fe1:<key id>:<Fernet token>``: encrypted. The key id is the first 4 bytes of SHA-256 of
  the key in hex; it names the key without revealing it, and lets ``rotate_encryption_keys``
  find the rows still under an older key in SQL, without decrypting anything.
* anything else: plain text, read as it is. Rows written before encryption was turned on
  stay readable, so turning it on needs no downtime. A plain value that itself begins with
  ``fe1:`` or ``pt1:`` is written as ``pt1:`` + the value, so it is never mistaken for a token.

A token whose key is not configured, or that fails authentication, raises ``DecryptionError``:
a value is never shown as ciphertext, nor silently as empty.

Only the ``isnull`` lookup works on these fields; ``filter(memo="x")``, ``__contains`` and
the like raise ``FieldError``, because the database holds ciphertext (a query on it would
silently find nothing once encryption is on). Searches, filters and sorts therefore use
other columns: the worklist searches claim numbers and patient names and filters on
structured codes, and the admin searches no encrypted field (the ledger admin no longer
searches the memo).

``EncryptedJSONField`` does the same for JSON columns (call transcripts message by message,
extracted call outcomes, the voice platform's webhook payloads, a note's medication and order
lists). The column stays ``json``/``jsonb`` (SQLite: text holding JSON) whether encryption is on
or off, so turning it on rewrites no table. Stored forms:

* ``null``, ``[]``, ``{}`` and ``""``: empty values, never encrypted (they read back exactly).
* a JSON string ``"fe1:<key id>:<Fernet token>"``: encrypted; the token holds the value
  serialized as JSON, and reading parses it back.
* any other JSON: plain, read as it is (rows written before encryption was on). A plain value
  that is itself a string beginning with ``fe1:`` or ``pt1:`` is written as ``"pt1:" +`` the
  string, as for text.

As with text, a token no configured key reads raises ``DecryptionError``, and only ``isnull``
works on these fields: key lookups (``outcome__call_outcome``) and containment raise
``FieldError``. ``KT()``/``KeyTextTransform`` expressions build their SQL without asking the
field, so it cannot refuse them (they would read NULL from a token): no code uses them, or raw
``->>``, on these columns (``test_encryption_json`` scans for them). What a query needs from
such a column lives in a plain column beside it (the payer report counts resolved calls on
``telephony.Call.call_outcome``, a code copied from the outcome when it is written).

``ENCRYPTED_FIELDS`` below is the one list of encrypted fields: the models declare each of
them as an ``EncryptedTextField`` (or ``EncryptedCharField``) or an ``EncryptedJSONField``, and
the system check ``billingpulse.E011`` fails if a model and the list disagree.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from django import forms
from django.apps import apps
from django.conf import settings
from django.core import checks, validators
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import DatabaseError, connections, models, router

# Free-text patient data, by model. What is left out, and why:
# * structured codes and identifiers (denial_code, remark codes, call reference numbers,
#   check numbers, claim numbers, member ids): the worklist, reports and matching filter on them;
# * patient names and dates of birth (billingpulse.Patient, billing.RemittanceClaim.patient_name):
#   searched by every patient picker and matched against ERA files;
# * JSON columns of codes, ids and amounts: the note's diagnosis and procedure lists, the claim's
#   codes, the payer's phone menu, remittance details and summaries (billing.RemittanceClaim.detail
#   holds adjustment codes and amounts; the patient's name there is a column of its own), payment
#   allocation plans, import mappings, audit changes (which never copy an encrypted field);
# * short reasons and messages written by the software itself (telephony.ScheduledCall.reason,
#   telephony.Call.last_error, clinical.NoteEvent.message, billing.RemittanceClaim.note);
# * payers' phone-menu notes and note templates, which hold no patient data.
ENCRYPTED_FIELDS: dict[str, tuple[str, ...]] = {
    # Denial reasons in words, what the last call found out, what happens next, and the
    # claim's timeline (biller notes and call outcomes in ClaimEvent.message).
    "claims.Claim": ("denial_reason", "last_call_outcome", "next_steps"),
    "claims.ClaimEvent": ("message",),
    # What was said on payer calls: the transcript as text and message by message, the summary,
    # and the extracted outcome (notes, next steps, the transcript lines it rests on); every
    # webhook payload and pipeline record (the end-of-call report repeats the transcript, a review
    # records the values a biller changed).
    "telephony.Call": ("transcript", "summary", "messages", "outcome"),
    "telephony.CallEvent": ("payload",),
    # Every section of a clinical note, why it was amended, its addenda, and the reason for a visit.
    "clinical.ClinicalNote": (
        "chief_complaint",
        "hpi",
        "ros",
        "subjective",
        "physical_exam",
        "objective",
        "labs_imaging",
        "assessment",
        "plan",
        "amendment_reason",
        # Medications and orders as typed (free text); diagnosis and procedure lists are codes.
        "medications",
        "orders",
    ),
    "clinical.Addendum": ("text",),
    "clinical.Appointment": ("reason",),
    # Payment memos, which posting copies onto the ledger's transactions, and write-off reasons there.
    "billing.Payment": ("memo",),
    "billing.JournalTransaction": ("memo",),
    # Why an inbox item needs a person: may quote a denial reason or what the payer asked for.
    "inbox.ActionItem": ("detail",),
}

VERSION = "fe1:"
ESCAPE = "pt1:"
_KEY_ID_LENGTH = 8  # hex characters
TAG_LENGTH = len(VERSION) + _KEY_ID_LENGTH + 1  # "fe1:" + key id + ":"


class DecryptionError(Exception):
    """A stored value could not be decrypted: its key is not configured, or it was altered.

    The message names the key id only, never a key or any part of the value.
    """


# ---------------------------------------------------------------------------- keys


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:_KEY_ID_LENGTH]


@lru_cache(maxsize=8)
def _parse_keys(configured: tuple[str, ...]) -> tuple[tuple[str, Fernet], ...]:
    parsed = []
    for position, text in enumerate(configured, start=1):
        try:
            raw = base64.urlsafe_b64decode(text.encode("ascii"))
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raw = b""
        if len(raw) != 32:
            # The position only: a key must never reach a log or an error page.
            raise ImproperlyConfigured(
                f"ENCRYPTION_KEYS entry {position} is not a Fernet key (32 bytes in urlsafe base64; make one with: "
                'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())").'
            )
        parsed.append((key_id(raw), Fernet(base64.urlsafe_b64encode(raw))))
    ids = [kid for kid, _ in parsed]
    if len(set(ids)) != len(ids):
        raise ImproperlyConfigured("ENCRYPTION_KEYS lists the same key twice.")
    return tuple(parsed)


def keys() -> tuple[tuple[str, Fernet], ...]:
    """The configured keys as (key id, Fernet), newest first. Read from settings on every call
    (parsing is cached per key list), so a settings change takes effect at once."""
    return _parse_keys(tuple(getattr(settings, "ENCRYPTION_KEYS", None) or ()))


def newest_tag() -> str:
    """The tag of values under the newest key: ``fe1:<key id>:``."""
    configured = keys()
    if not configured:
        raise ImproperlyConfigured("ENCRYPTION_KEYS is empty: there is no key to encrypt with.")
    return f"{VERSION}{configured[0][0]}:"


# ---------------------------------------------------------------------------- values


def is_encrypted(stored: str) -> bool:
    return stored.startswith(VERSION)


def encrypt(plain: str) -> str:
    """``plain`` as a token under the newest key (always, whatever ENCRYPT_SENSITIVE_FIELDS says)."""
    tag = newest_tag()
    fernet = keys()[0][1]
    return tag + fernet.encrypt(plain.encode("utf-8")).decode("ascii")


def decrypt(stored: str) -> str:
    """The text of a token; DecryptionError if no configured key reads it."""
    kid, separator, token = stored[len(VERSION) :].partition(":")
    if not separator or len(kid) != _KEY_ID_LENGTH:
        raise DecryptionError("A stored encrypted value is malformed (its tag has no key id).")
    fernet = dict(keys()).get(kid)
    if fernet is None:
        raise DecryptionError(f"A stored value is encrypted under key id {kid}, which is not in ENCRYPTION_KEYS.")
    try:
        return fernet.decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as error:
        raise DecryptionError(
            f"A stored value under key id {kid} failed authentication (altered or corrupt)."
        ) from error


def to_stored(value: str | None) -> str | None:
    """What the database holds for ``value`` now: a token when encryption is on, else plain text.

    Code that writes these columns with raw SQL or COPY (bypassing the field) must pass its
    values through this.
    """
    if value is None or value == "":
        return value
    if settings.ENCRYPT_SENSITIVE_FIELDS:
        return encrypt(value)
    return ESCAPE + value if value.startswith((VERSION, ESCAPE)) else value


def from_stored(stored: str | None) -> str | None:
    """The text of a stored value, whichever form it is in."""
    if not stored:
        return stored
    if stored.startswith(VERSION):
        return decrypt(stored)
    if stored.startswith(ESCAPE):
        return stored[len(ESCAPE) :]
    return stored


def rotated(stored: str | None) -> str | None:
    """``stored`` as it should be under the newest key: re-encrypted when encryption is on (plain
    values too); with encryption off only tokens are re-encrypted, plain text stays plain."""
    if not stored:
        return stored
    if settings.ENCRYPT_SENSITIVE_FIELDS or is_encrypted(stored):
        if stored.startswith(newest_tag()):
            return stored
        return encrypt(from_stored(stored))
    return stored


# ---------------------------------------------------------------------------- JSON values

# Values of a JSON column that are never encrypted; the SQL text forms of them (``rotate_encryption_keys``).
_EMPTY_JSON = (None, [], {}, "")
EMPTY_JSON_TEXT = ("null", "[]", "{}", '""')


def _is_empty_json(value) -> bool:
    return any(value == empty and type(value) is type(empty) for empty in _EMPTY_JSON)


def json_to_stored(value, encoder: type[json.JSONEncoder] | None = None):
    """The JSON value a JSON column holds for ``value`` now: a token string when encryption is
    on, else ``value`` itself (a string that looks like a token escaped)."""
    if _is_empty_json(value):
        return value
    if settings.ENCRYPT_SENSITIVE_FIELDS:
        return encrypt(json.dumps(value, cls=encoder))
    if isinstance(value, str) and value.startswith((VERSION, ESCAPE)):
        return ESCAPE + value
    return value


def json_from_stored(stored, decoder: type[json.JSONDecoder] | None = None):
    """The value of a stored (already parsed) JSON value, whichever form it is in."""
    if isinstance(stored, str):
        if stored.startswith(VERSION):
            return json.loads(decrypt(stored), cls=decoder)
        if stored.startswith(ESCAPE):
            return stored[len(ESCAPE) :]
    return stored


def json_text_to_stored(value, encoder: type[json.JSONEncoder] | None = None) -> str:
    """``json_to_stored`` serialized: the text to bind for a JSON column in raw SQL or COPY
    (``%s::jsonb``). Code that writes these columns bypassing the field must use this."""
    return json.dumps(json_to_stored(value, encoder))


def json_text_rotated(text: str | None) -> str | None:
    """The stored JSON text ``text`` as it should be under the newest key (as ``rotated``)."""
    if text is None:
        return None
    stored = json.loads(text)
    if _is_empty_json(stored):
        return text
    encrypted = isinstance(stored, str) and is_encrypted(stored)
    if settings.ENCRYPT_SENSITIVE_FIELDS or encrypted:
        if encrypted and stored.startswith(newest_tag()):
            return text
        return json.dumps(encrypt(json.dumps(json_from_stored(stored))))
    return text


# ---------------------------------------------------------------------------- fields


class _NotQueryable:
    """An encrypted column: the database can tell only whether it is NULL."""

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        raise FieldError(
            f"{self.model.__name__}.{self.name} is encrypted: the database cannot compare its contents "
            f"(lookup {lookup_name!r}); filter on another field."
        )

    def get_transform(self, lookup_name):
        raise FieldError(f"{self.model.__name__}.{self.name} is encrypted: {lookup_name!r} cannot be applied to it.")


class EncryptedTextField(_NotQueryable, models.TextField):
    """A text column holding ``to_stored`` values; reads give back the text (see the module doc)."""

    description = "Text, encrypted when ENCRYPT_SENSITIVE_FIELDS is on"

    def from_db_value(self, value, expression, connection):
        return from_stored(value)

    def get_db_prep_value(self, value, connection, prepared=False):
        value = super().get_db_prep_value(value, connection, prepared)
        return to_stored(value)


class EncryptedCharField(EncryptedTextField):
    """An ``EncryptedTextField`` (a text column) that forms show on one line, like a CharField,
    and that validates ``max_length`` on the model as a CharField does."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.max_length is not None:
            self.validators.append(validators.MaxLengthValidator(self.max_length))

    def formfield(self, **kwargs):
        return super().formfield(**{"widget": forms.TextInput, **kwargs})


class EncryptedJSONField(_NotQueryable, models.JSONField):
    """A JSON column holding ``json_to_stored`` values; reads give back the value (see the module doc)."""

    description = "JSON, encrypted when ENCRYPT_SENSITIVE_FIELDS is on"

    def from_db_value(self, value, expression, connection):
        return json_from_stored(super().from_db_value(value, expression, connection), self.decoder)

    def get_db_prep_value(self, value, connection, prepared=False):
        if not prepared:
            value = self.get_prep_value(value)
        if isinstance(value, models.Value) and isinstance(value.output_field, models.JSONField):
            value = value.value
        elif hasattr(value, "as_sql"):
            return value
        return super().get_db_prep_value(json_to_stored(value, self.encoder), connection, prepared=True)


# ---------------------------------------------------------------------------- the list


def encrypted_models() -> list[tuple[type[models.Model], tuple[str, ...]]]:
    return [(apps.get_model(label), names) for label, names in ENCRYPTED_FIELDS.items()]


def _declared() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, (EncryptedTextField, EncryptedJSONField)):
                found.setdefault(model._meta.label, set()).add(field.name)
    return found


@checks.register()
def check_encryption(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """The keys are usable and, where the database answers, read one stored value per field.

    Never names a key or a value: only key ids, positions and field names.
    """
    listed = {label: set(names) for label, names in ENCRYPTED_FIELDS.items()}
    if _declared() != listed:
        return [
            checks.Error(
                "The encrypted fields the models declare differ from billingpulse.encryption.ENCRYPTED_FIELDS.",
                hint="Declare exactly the listed fields as EncryptedTextField (or EncryptedCharField) "
                "or EncryptedJSONField.",
                id="billingpulse.E011",
            )
        ]
    try:
        configured = keys()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="billingpulse.E012")]
    if settings.ENCRYPT_SENSITIVE_FIELDS and not configured:
        return [
            checks.Error(
                "ENCRYPT_SENSITIVE_FIELDS is on but ENCRYPTION_KEYS is empty.",
                hint="Set ENCRYPTION_KEYS to one or more Fernet keys, newest first, separated by commas.",
                id="billingpulse.E013",
            )
        ]
    if not configured:
        return []  # encryption off with no keys: nothing stored encrypted can be read anyway
    return _probe_stored_values()


def stored_text(field: models.Field, column: str) -> tuple[str, str]:
    """SQL for the stored text of ``column`` (a quoted column of ``field``), and how a token in it begins.

    A JSON column is read as text (PostgreSQL's ``jsonb::text``; SQLite stores text), where a
    token is a JSON string: ``"fe1:...``.
    """
    if isinstance(field, EncryptedJSONField):
        return f"CAST({column} AS text)", '"' + VERSION
    return column, VERSION


def _probe_stored_values() -> list[checks.CheckMessage]:
    errors = []
    for model, names in encrypted_models():
        connection = connections[router.db_for_read(model)]
        table, quote = model._meta.db_table, connection.ops.quote_name
        for name in names:
            field = model._meta.get_field(name)
            column, prefix = stored_text(field, quote(field.column))
            try:
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT {column} FROM {quote(table)} WHERE substr({column}, 1, {len(prefix)}) = %s LIMIT 1",
                        [prefix],
                    )
                    row = cursor.fetchone()
            except DatabaseError:
                return []  # no database yet, or not migrated: nothing stored to check
            if row is None:
                continue
            try:
                decrypt(json.loads(row[0]) if isinstance(field, EncryptedJSONField) else row[0])
            except DecryptionError as error:
                errors.append(
                    checks.Error(
                        f"{model._meta.label}.{name}: {error}",
                        hint="ENCRYPTION_KEYS must hold every key that values were stored under (newest first); "
                        "run manage.py rotate_encryption_keys before dropping an old key.",
                        id="billingpulse.E014",
                    )
                )
    return errors
