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

``ENCRYPTED_FIELDS`` below is the one list of encrypted fields: the models declare each of
them as an ``EncryptedTextField`` (or ``EncryptedCharField``), and the system check
``billingpulse.E011`` fails if a model and the list disagree.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
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
# * JSON columns (telephony.Call.messages and .outcome, telephony.CallEvent.payload, the note's
#   diagnosis, procedure, medication and order lists): this field stores text only;
# * short reasons and messages written by the software itself (telephony.ScheduledCall.reason,
#   telephony.Call.last_error, clinical.NoteEvent.message, billing.RemittanceClaim.note);
# * payers' phone-menu notes and note templates, which hold no patient data.
ENCRYPTED_FIELDS: dict[str, tuple[str, ...]] = {
    # Denial reasons in words, what the last call found out, what happens next, and the
    # claim's timeline (biller notes and call outcomes in ClaimEvent.message).
    "claims.Claim": ("denial_reason", "last_call_outcome", "next_steps"),
    "claims.ClaimEvent": ("message",),
    # What was said on payer calls.
    "telephony.Call": ("transcript", "summary"),
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
    ),
    "clinical.Addendum": ("text",),
    "clinical.Appointment": ("reason",),
    # Payment memos, which posting copies onto the ledger's transactions, and write-off reasons there.
    "billing.Payment": ("memo",),
    "billing.JournalTransaction": ("memo",),
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


# ---------------------------------------------------------------------------- fields


class EncryptedTextField(models.TextField):
    """A text column holding ``to_stored`` values; reads give back the text (see the module doc)."""

    description = "Text, encrypted when ENCRYPT_SENSITIVE_FIELDS is on"

    def from_db_value(self, value, expression, connection):
        return from_stored(value)

    def get_db_prep_value(self, value, connection, prepared=False):
        value = super().get_db_prep_value(value, connection, prepared)
        return to_stored(value)

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        raise FieldError(
            f"{self.model.__name__}.{self.name} is encrypted: the database cannot compare its contents "
            f"(lookup {lookup_name!r}); filter on another field."
        )

    def get_transform(self, lookup_name):
        raise FieldError(f"{self.model.__name__}.{self.name} is encrypted: {lookup_name!r} cannot be applied to it.")


class EncryptedCharField(EncryptedTextField):
    """An ``EncryptedTextField`` (a text column) that forms show on one line, like a CharField,
    and that validates ``max_length`` on the model as a CharField does."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.max_length is not None:
            self.validators.append(validators.MaxLengthValidator(self.max_length))

    def formfield(self, **kwargs):
        return super().formfield(**{"widget": forms.TextInput, **kwargs})


# ---------------------------------------------------------------------------- the list


def encrypted_models() -> list[tuple[type[models.Model], tuple[str, ...]]]:
    return [(apps.get_model(label), names) for label, names in ENCRYPTED_FIELDS.items()]


def _declared() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
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
                hint="Declare exactly the listed fields as EncryptedTextField (or EncryptedCharField).",
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


def _probe_stored_values() -> list[checks.CheckMessage]:
    errors = []
    for model, names in encrypted_models():
        connection = connections[router.db_for_read(model)]
        table, quote = model._meta.db_table, connection.ops.quote_name
        for name in names:
            column = quote(model._meta.get_field(name).column)
            try:
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT {column} FROM {quote(table)} WHERE substr({column}, 1, 4) = %s LIMIT 1", [VERSION]
                    )
                    row = cursor.fetchone()
            except DatabaseError:
                return []  # no database yet, or not migrated: nothing stored to check
            if row is None:
                continue
            try:
                decrypt(row[0])
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
