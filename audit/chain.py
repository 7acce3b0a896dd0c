"""Tamper evidence: each practice's entries form a hash chain.

Entry *n* of a chain stores ``sequence = n``, the hash of entry *n - 1* and the SHA-256 of its
own canonical form (every column but its hash, ``previous_hash`` included). Changing an entry
breaks its hash, removing one leaves a gap in the sequence, reordering breaks the links, and
removing the newest ones no longer matches the chain head.

Chaining is a short step after the writer's transaction commits (``seal_after_commit``): it
locks the chain head row, links the practice's unchained entries in id order and lets go. The
lock is never held for a writer's transaction, and a writer that finds another process chaining
leaves its entry to be chained next instead of waiting (bench/audit_chain.py measures it).

Page views (access logging, the most frequent entries by far) are chained in batches instead
(``seal_in_batches``): the view's entry is one INSERT, and only every ``ACCESS_BATCH``-th entry
(by id) chains its practice's pending entries after its commit, in one statement per batch. Any
other entry of the practice chains them too (in id order, so the chain's order is the order
entries were written either way), and the ``seal_audit_chains`` sweep chains what is left within
a minute. Until then a view's entry is stored but not yet linked: the append-only rule of the
database already refuses changing or deleting it, and the chain covers it from the next sealing
on. Verification (``verify_audit_chain``) chains pending entries first, so it checks every
entry written before it ran.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC

from django.db import connection, transaction

from audit.models import AuditChain, AuditEntry

log = logging.getLogger(__name__)

SEAL_BATCH = 500
# Page views chain their practice's pending entries once every this many entries (by id).
ACCESS_BATCH = 50


def canonical(entry: AuditEntry) -> bytes:
    """The bytes an entry's hash covers: its content and its place in the chain, as stored."""
    content = {
        "id": entry.pk,
        "chain": AuditChain.key_for(entry.practice_id),
        "sequence": entry.sequence,
        "previous_hash": entry.previous_hash,
        "actor": entry.actor_id,
        "actor_label": entry.actor_label,
        "action": entry.action,
        "resource_type": entry.resource_type,
        "resource_id": entry.resource_id,
        "resource_label": entry.resource_label,
        "patient": entry.patient_id,
        "changes": entry.changes,
        "message": entry.message,
        "remote_addr": entry.remote_addr,
        "request_id": entry.request_id,
        "user_agent": entry.user_agent,
        "created_at": entry.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def entry_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(canonical(entry)).hexdigest()


def seal(practice_id: int | None, *, wait: bool = True) -> int:
    """Chain the practice's unchained entries, oldest id first; how many were chained.

    Works in short transactions of up to ``SEAL_BATCH`` entries while a backlog lasts. With
    ``wait=False`` (after a commit) it gives way at once when another process holds the chain
    head: that process is chaining the practice's entries, so no writer ever queues behind
    another. An entry committed just after that process looked is chained by the practice's next
    entry, or within a minute by the ``seal_audit_chains`` sweep.
    """
    total = 0
    while True:
        with transaction.atomic():
            head = _lock_head(practice_id, wait=wait)
            if head is None:
                return total
            pending = list(
                AuditEntry.objects.filter(practice_id=practice_id, sequence__isnull=True).order_by("pk")[:SEAL_BATCH]
            )
            if pending:
                _link(head, pending)
        total += len(pending)
        if len(pending) < SEAL_BATCH:
            return total


def _lock_head(practice_id: int | None, *, wait: bool) -> AuditChain | None:
    """The chain head, locked until the transaction ends; None if another process holds it."""
    key = AuditChain.key_for(practice_id)
    heads = AuditChain.objects.select_for_update(skip_locked=not wait).filter(key=key)
    head = heads.first()
    if head is None and not AuditChain.objects.filter(key=key).exists():
        AuditChain.objects.get_or_create(key=key, defaults={"practice_id": practice_id})
        head = heads.first()
    return head


def _link(head: AuditChain, pending: list[AuditEntry]) -> None:
    """Give each entry its place, the previous hash and its own hash, in one UPDATE."""
    sequence, previous = head.last_sequence, head.last_hash
    for entry in pending:
        sequence += 1
        entry.sequence, entry.previous_hash = sequence, previous
        entry.hash = previous = entry_hash(entry)
    table = connection.ops.quote_name(AuditEntry._meta.db_table)
    rows = ", ".join(["(%s, %s, %s, %s)"] * len(pending))
    # A join on a list of values (one pass), not a CASE per column (which grows with the square
    # of the batch); the append-only rule of the model is kept: only unchained rows change.
    # (Both databases name a VALUES list's columns column1, column2, …)
    sql = (
        f"UPDATE {table} SET sequence = linked.column2, previous_hash = linked.column3, hash = linked.column4 "
        f"FROM (VALUES {rows}) AS linked WHERE {table}.id = linked.column1 AND {table}.sequence IS NULL"
    )
    params = [value for e in pending for value in (e.pk, e.sequence, e.previous_hash, e.hash)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        linked = cursor.rowcount
    if linked != len(pending):  # cannot happen while the head is locked; never chain half a batch
        raise RuntimeError(f"Chained {linked} of {len(pending)} audit entries; rolled back.")
    head.last_sequence, head.last_hash = sequence, previous
    head.save(update_fields=["last_sequence", "last_hash", "updated_at"])


def seal_all() -> int:
    """Chain every chain's pending entries (the periodic sweep, and before verifying)."""
    chains = AuditEntry.objects.filter(sequence__isnull=True).values_list("practice_id", flat=True).distinct()
    return sum(seal(practice_id) for practice_id in list(chains))


def seal_after_commit(practice_id: int | None) -> None:
    """Chain the practice's new entries once the current transaction commits (at once outside one).

    One sealing per practice per transaction is enough: a service that writes fifty rows queues
    one step, not fifty. (Django keeps the pending callbacks on the connection; a callback of a
    rolled-back savepoint is dropped from that list, so looking there is exact.)
    """
    callback = functools.partial(_seal_quietly, practice_id)
    if connection.in_atomic_block and any(
        isinstance(func, functools.partial) and func.func is _seal_quietly and func.args == (practice_id,)
        for _sids, func, _robust in connection.run_on_commit
    ):
        return
    transaction.on_commit(callback)


def seal_in_batches(practice_id: int | None, entry_id: int) -> None:
    """After a page view's entry: chain the practice's pending entries after commit once every
    ``ACCESS_BATCH`` entries (by id), so a view costs its INSERT and no chaining step of its own."""
    if entry_id % ACCESS_BATCH == 0:
        seal_after_commit(practice_id)


def _seal_quietly(practice_id: int | None) -> None:
    # Runs after the writer's commit: a failure here must not turn its success into an error.
    # The entries stay unchained and the next write, the minute sweep or verification chains them.
    try:
        seal(practice_id, wait=False)
    except Exception:
        log.exception("Could not chain audit entries of chain %s; they will be chained later", practice_id)


@dataclass(frozen=True)
class Break:
    entry_id: int | None
    problem: str

    def __str__(self) -> str:
        where = f"entry {self.entry_id}" if self.entry_id else "chain head"
        return f"{where}: {self.problem}"


def _chained(practice_id: int | None) -> Iterator[AuditEntry]:
    return (
        AuditEntry.objects.filter(practice_id=practice_id, sequence__isnull=False)
        .order_by("sequence")
        .iterator(chunk_size=2000)
    )


def verify(practice_id: int | None) -> tuple[int, Break | None]:
    """Walk one chain from its start: (entries checked, the first break or None)."""
    expected, previous, checked = 1, "", 0
    for entry in _chained(practice_id):
        if entry.sequence != expected:
            missing = f"{expected}" if entry.sequence == expected + 1 else f"{expected} to {entry.sequence - 1}"
            return checked, Break(entry.pk, f"has place {entry.sequence} but {missing} is missing (deleted)")
        if entry.previous_hash != previous:
            return checked, Break(
                entry.pk,
                f"at place {entry.sequence} does not link to the entry before it (reordered, or that entry changed)",
            )
        if entry_hash(entry) != entry.hash:
            return checked, Break(entry.pk, f"at place {entry.sequence} was changed after it was written")
        previous, expected, checked = entry.hash, expected + 1, checked + 1
    head = AuditChain.objects.filter(key=AuditChain.key_for(practice_id)).first()
    last = expected - 1
    if head is not None and (head.last_sequence != last or head.last_hash != previous):
        return checked, Break(
            None, f"the chain ends at place {last} but its head records {head.last_sequence} (entries removed)"
        )
    return checked, None
