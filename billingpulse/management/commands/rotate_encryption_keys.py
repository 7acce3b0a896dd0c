"""Re-encrypt every encrypted field (billingpulse.encryption.ENCRYPTED_FIELDS) with the newest key.

    manage.py rotate_encryption_keys [--batch-size 500]

What it does, per listed model, in batches of rows ordered by id:

* with ENCRYPT_SENSITIVE_FIELDS on, every non-empty value not under the newest key of
  ENCRYPTION_KEYS is (re-)encrypted under it, plain text included: this is how an existing
  database gets encrypted once the setting is turned on;
* with it off, values encrypted under an older key are re-encrypted; plain text stays plain.

JSON columns (``EncryptedJSONField``) are handled the same way: read as text, their tokens are
JSON strings (``"fe1:<key id>:...``); empty values (``null``, ``[]``, ``{}``, ``""``) are never
encrypted, and a plain value is encrypted whole (serialized as JSON).

The rows that need work are found in SQL by their tag (``fe1:<key id>:``), so rows already
under the newest key are never read: stopping the command and running it again carries on
where it stopped, and a second run with nothing to do only counts.

Each batch is one transaction: the rows are locked (``FOR UPDATE`` on PostgreSQL; SQLite
locks the database for the write), decrypted with whichever configured key wrote them,
encrypted under the newest and written back with plain ``UPDATE`` statements. These are raw
row updates on purpose: the text does not change, so no model ``save``, no signals, no
``updated_at`` change and no edit-conflict revision bump; a key rotation is not an edit of
the claim, note or payment.

Signed clinical notes, addenda and ledger transactions are guarded by database triggers that
refuse any update. For a batch of such a table the command disables those triggers inside its
own transaction (PostgreSQL: ``ALTER TABLE ... DISABLE TRIGGER``, which needs the table
owner, the role that ran the migrations; SQLite: drop and re-create them from
``sqlite_master``). Other sessions never see them off: the change is not committed until
the triggers are back, PostgreSQL blocks writers to that table for the batch, and a crash
rolls everything back. The signatures still verify afterwards: they seal the text, which
rotation does not change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections, models, router, transaction

import audit
from billingpulse import encryption

logger = logging.getLogger("billingpulse.encryption")


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field with the newest key in ENCRYPTION_KEYS (resumable)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500, help="Rows per transaction (default 500).")

    def handle(self, *args, batch_size: int, **options) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if not encryption.keys():
            if settings.ENCRYPT_SENSITIVE_FIELDS:
                raise CommandError("ENCRYPT_SENSITIVE_FIELDS is on but ENCRYPTION_KEYS is empty.")
            self.stdout.write("ENCRYPTION_KEYS is empty and encryption is off: nothing to rotate.")
            return
        newest = encryption.keys()[0][0]
        mode = "encrypting plain text too" if settings.ENCRYPT_SENSITIVE_FIELDS else "encryption is off: tokens only"
        self.stdout.write(f"Re-encrypting under key id {newest} ({mode}).")
        total = sum(
            rotate_model(model, names, batch_size, self.stdout.write) for model, names in encryption.encrypted_models()
        )
        logger.info("Encryption keys rotated: %s rows now under key id %s", total, newest)
        # An operator's act on every practice: the global chain (operators only).
        detail = f"{total} row{'' if total == 1 else 's'} now under key id {newest}"
        audit.record("key_rotated", actor=None, resource_type="encrypted fields", detail=detail)
        self.stdout.write(
            self.style.SUCCESS(f"Done: {total} rows re-encrypted; every listed field is under key id {newest}.")
        )


def rotate_model(
    model: type[models.Model], names: tuple[str, ...], batch_size: int, write: Callable[[str], None]
) -> int:
    """Bring ``names`` of every row of ``model`` under the newest key; the number of rows written."""
    meta = model._meta
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    fields = [meta.get_field(name) for name in names]
    columns = [quote(field.column) for field in fields]
    is_json = [isinstance(field, encryption.EncryptedJSONField) for field in fields]
    texts = [encryption.stored_text(field, column)[0] for field, column in zip(fields, columns, strict=True)]
    stale, stale_params = _stale_condition(texts, is_json)
    label = f"{meta.label} ({', '.join(names)})"

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE {stale}", stale_params)
        (count,) = cursor.fetchone()
    if not count:
        write(f"{label}: up to date.")
        return 0

    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    json_value = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    assignments = ", ".join(
        f"{column} = {json_value if json else '%s'}" for column, json in zip(columns, is_json, strict=True)
    )
    rotate = [encryption.json_text_rotated if json else encryption.rotated for json in is_json]
    done, last = 0, None
    while True:
        after, after_params = (f"{pk} > %s AND ", [last]) if last is not None else ("", [])
        select = f"SELECT {pk}, {', '.join(texts)} FROM {table} WHERE {after}({stale}) ORDER BY {pk} LIMIT %s{lock}"
        with (
            transaction.atomic(using=connection.alias),
            _triggers_disabled(connection, meta.db_table),
            connection.cursor() as cursor,
        ):
            cursor.execute(select, [*after_params, *stale_params, batch_size])
            rows = cursor.fetchall()
            if rows:
                cursor.executemany(
                    f"UPDATE {table} SET {assignments} WHERE {pk} = %s",
                    [[*(rotate[i](value) for i, value in enumerate(values)), row_id] for row_id, *values in rows],
                )
        if not rows:
            break
        done, last = done + len(rows), rows[-1][0]
        write(f"{label}: {done}/{count} rows")
    return done


def _stale_condition(texts: list[str], is_json: list[bool]) -> tuple[str, list[str]]:
    """SQL matching rows with a value not under the newest key (plain values count when encryption is on).

    ``texts`` are the columns' stored text (``encryption.stored_text``); a JSON column's tokens
    begin with a quote.
    """
    tag = encryption.newest_tag()
    parts, params = [], []
    for text, json in zip(texts, is_json, strict=True):
        quote = '"' if json else ""
        version, newest = quote + encryption.VERSION, quote + tag
        if settings.ENCRYPT_SENSITIVE_FIELDS:
            empty = encryption.EMPTY_JSON_TEXT if json else ("",)
            parts.append(
                f"({text} NOT IN ({', '.join(['%s'] * len(empty))}) AND substr({text}, 1, {len(newest)}) <> %s)"
            )
            params += [*empty, newest]
        else:
            parts.append(f"(substr({text}, 1, {len(version)}) = %s AND substr({text}, 1, {len(newest)}) <> %s)")
            params += [version, newest]
    return " OR ".join(parts), params


@contextmanager
def _triggers_disabled(connection, table: str) -> Iterator[None]:
    """The table's own triggers off for the rest of the current transaction (see the module doc)."""
    if not connection.in_atomic_block:
        raise RuntimeError("Triggers may only be disabled inside a transaction.")
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal AND tgenabled <> 'D'",
                [table],
            )
            names = [name for (name,) in cursor.fetchall()]
            for name in names:
                cursor.execute(f"ALTER TABLE {quote(table)} DISABLE TRIGGER {quote(name)}")
            yield
            for name in names:
                cursor.execute(f"ALTER TABLE {quote(table)} ENABLE TRIGGER {quote(name)}")
        elif connection.vendor == "sqlite":
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table])
            triggers = cursor.fetchall()
            for name, _sql in triggers:
                cursor.execute(f"DROP TRIGGER {quote(name)}")
            yield
            for _name, sql in triggers:
                cursor.execute(sql)
        else:
            yield
