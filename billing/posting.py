"""The posting service: the only code that writes money.

Every money fact becomes a ``Posting``: legs (account, signed amount: + debit, − credit)
that sum to zero, attached to at most one claim and one patient. ``post_many`` writes a
batch of them atomically: it locks the rows it changes in one fixed order (patient
accounts, then claims, then payments, each by id) so two postings never deadlock, replays
an idempotency key it has seen (the same content returns the first transaction, other
content is an error), stores each transaction's running balances, and updates the claims'
and accounts' amounts (their projection of the ledger) in the same database transaction.
A claim whose insurance balance is settled moves to paid / partially paid through the
claim status machine.

It imports only the models it posts to.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import Enum

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from billing.models import (
    ADJUSTMENTS,
    INSURANCE_AR,
    MONEY_IN,
    RECEIVABLES,
    Account,
    JournalTransaction,
    LedgerEntry,
    PatientAccount,
    Payment,
    Remittance,
)
from billingpulse.encryption import EncryptedTextField, to_stored
from billingpulse.models import Patient, Practice, User
from claims.models import Claim, ClaimEvent
from claims.status import ClaimStatus, can_move

CENT = Decimal("0.01")
# The largest amount a money column holds (max_digits=12, decimal_places=2).
MAX_AMOUNT = Decimal("9999999999.99")
Kind = JournalTransaction.Kind
Source = JournalTransaction.Source
KINDS, SOURCES, ACCOUNTS = frozenset(Kind.values), frozenset(Source.values), frozenset(Account.values)


@dataclass(frozen=True)
class Leg:
    account: Account
    amount: Decimal  # positive: debit; negative: credit


@dataclass
class Posting:
    """What to post. ``legs`` sum to zero; the rest says who, why and where from."""

    kind: str
    source: str
    legs: list[Leg]
    idempotency_key: str
    claim: Claim | None = None
    patient: Patient | None = None
    payment: Payment | None = None
    remittance: Remittance | None = None
    reverses: JournalTransaction | None = None
    reason: str = ""
    carc_group: str = ""
    carc_code: str = ""
    memo: str = ""
    effective_date: date | None = None
    actor: User | None = None
    content_hash: str = field(default="", init=False)

    @property
    def patient_id(self) -> int | None:
        """The patient's id, the claim's patient's when only the claim is given (no query for it)."""
        if self.patient is not None:
            return self.patient.pk
        return self.claim.patient_id if self.claim is not None else None


class PostingError(ValidationError):
    """A posting that cannot be made; the message is meant for the biller."""


class Raced(PostingError):
    """A concurrent posting committed the same key or reversal first; nothing was written."""


def post(practice: Practice, posting: Posting) -> JournalTransaction:
    try:
        return post_many(practice, [posting])[0]
    except Raced:
        # Another request posted this key (or reversed this transaction) a moment before us:
        # now that it has committed, this is an ordinary replay.
        return post_many(practice, [posting])[0]


@transaction.atomic
def post_many(practice: Practice, postings: list[Posting]) -> list[JournalTransaction]:
    """Post every posting or none; return their transactions in order (a replayed key returns the first)."""
    for posting in postings:
        _validate(practice, posting)
    keys = [p.idempotency_key for p in postings]
    if len(set(keys)) != len(keys):
        raise PostingError("Two postings in one batch share an idempotency key.")
    accounts, claims, payments = _lock(practice, postings)
    existing = _existing(practice, keys)
    results: list[JournalTransaction | None] = []
    new: list[tuple[Posting, JournalTransaction]] = []
    touched: dict[int, tuple[Claim, str]] = {}
    for posting in postings:
        first = existing.get(posting.idempotency_key)
        if first is not None:
            if first.content_hash != posting.content_hash and first.kind == Kind.REVERSAL:
                raise PostingError(f"Transaction #{first.reverses_id} has already been reversed (#{first.pk}).")
            if first.content_hash != posting.content_hash:
                raise PostingError(
                    f"The key {posting.idempotency_key!r} was already used for a different posting (#{first.pk})."
                )
            results.append(first)
            continue
        claim = claims.get(posting.claim.pk) if posting.claim else None
        account = accounts.get(posting.patient_id)
        payment = payments.get(posting.payment.pk) if posting.payment else None
        _check_reversal(posting, new)
        _apply(posting, claim, account, payment)
        txn = _transaction(practice, posting, claim, account)
        new.append((posting, txn))
        results.append(txn)
        if claim is not None and _moves_status(posting):
            touched[claim.pk] = (claim, posting.kind)
    if new:
        events = _settle_statuses(touched.values(), actor=new[-1][0].actor)
        _write(practice, new, accounts, claims, payments)
        ClaimEvent.objects.bulk_create(events, batch_size=500)
    return results  # type: ignore[return-value]


# -- validation ----------------------------------------------------------------------------


def _validate(practice: Practice, posting: Posting) -> None:
    if posting.kind not in KINDS or posting.source not in SOURCES:
        raise PostingError("Unknown kind of posting.")
    if not posting.idempotency_key or len(posting.idempotency_key) > 120:
        raise PostingError("A posting needs an idempotency key of at most 120 characters.")
    if not posting.legs:
        raise PostingError("A posting needs at least two entries.")
    for leg in posting.legs:
        if not isinstance(leg.amount, Decimal) or not leg.amount.is_finite():
            raise PostingError("Amounts are exact decimal numbers.")
        if leg.amount != leg.amount.quantize(CENT):
            raise PostingError(f"{leg.amount} has more than two decimal places.")
        if leg.amount == 0:
            raise PostingError("An entry of zero records nothing.")
        if abs(leg.amount) > MAX_AMOUNT:
            raise PostingError(f"{abs(leg.amount):,} is more than an amount can be.")
        if leg.account not in ACCOUNTS:
            raise PostingError(f"{leg.account!r} is not a ledger account.")
    if sum(leg.amount for leg in posting.legs) != 0:
        raise PostingError("The entries of a posting must sum to zero.")
    accounts = {leg.account for leg in posting.legs}
    for owner, label in ((posting.claim, "claim"), (posting.patient, "patient"), (posting.payment, "payment")):
        if owner is not None and owner.practice_id != practice.pk:
            # Another practice's row is simply not there for this practice.
            raise PostingError(f"No such {label}.")
    if posting.remittance is not None and posting.remittance.practice_id != practice.pk:
        raise PostingError("No such remittance.")
    if accounts & set(RECEIVABLES) and posting.claim is None:
        raise PostingError("A receivable entry belongs to a claim.")
    if Account.UNAPPLIED in accounts and posting.patient_id is None:
        raise PostingError("Unapplied credit belongs to a patient.")
    if posting.claim is not None and posting.patient_id != posting.claim.patient_id:
        raise PostingError("The claim belongs to another patient.")
    if (posting.kind == Kind.REVERSAL) != (posting.reverses is not None):
        raise PostingError("A reversal names the transaction it reverses, and only a reversal does.")
    if posting.effective_date is None:
        posting.effective_date = practice.today()
    posting.content_hash = content_hash(posting)


def content_hash(posting: Posting) -> str:
    """What the posting says, independent of who sends it or when: a replay's fingerprint."""
    content = {
        "kind": posting.kind,
        "source": posting.source,
        "claim": posting.claim.pk if posting.claim else None,
        "patient": posting.patient_id,
        "payment": posting.payment.pk if posting.payment else None,
        "remittance": posting.remittance.pk if posting.remittance else None,
        "reverses": posting.reverses.pk if posting.reverses else None,
        "reason": posting.reason,
        "carc": [posting.carc_group, posting.carc_code],
        "memo": posting.memo,
        "legs": sorted([leg.account, str(leg.amount)] for leg in posting.legs),
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _check_reversal(posting: Posting, new: list[tuple[Posting, JournalTransaction]]) -> None:
    original = posting.reverses
    if original is None:
        return
    if original.kind == Kind.REVERSAL:
        raise PostingError("A reversal cannot itself be reversed; post the correction instead.")
    already = JournalTransaction.objects.filter(reverses=original).exists()
    if already or any(p.reverses is not None and p.reverses.pk == original.pk for p, _ in new):
        raise PostingError(f"Transaction #{original.pk} has already been reversed.")


# -- locking and state -------------------------------------------------------------------


def _lock(practice: Practice, postings: list[Posting]):
    """Lock patient accounts, then claims, then payments, each in id order; return them fresh."""
    patient_ids = sorted({p.patient_id for p in postings if p.patient_id is not None})
    claim_ids = sorted({p.claim.pk for p in postings if p.claim is not None})
    payment_ids = sorted({p.payment.pk for p in postings if p.payment is not None})
    accounts = _lock_accounts(patient_ids)
    if len(accounts) < len(patient_ids):
        # A patient's first posting opens the account; two postings may open it at once, and
        # the loser's row is simply not inserted. Locking again keeps the id order.
        missing = [pk for pk in patient_ids if pk not in accounts]
        PatientAccount.objects.bulk_create(
            [PatientAccount(practice=practice, patient_id=pk) for pk in missing], ignore_conflicts=True
        )
        accounts = _lock_accounts(patient_ids)
    claims = {}
    for chunk in _chunks(claim_ids):
        claims.update({c.pk: c for c in Claim.objects.select_for_update().filter(pk__in=chunk).order_by("pk")})
    payments = {}
    for chunk in _chunks(payment_ids):
        payments.update({p.pk: p for p in Payment.objects.select_for_update().filter(pk__in=chunk).order_by("pk")})
    return accounts, claims, payments


def _lock_accounts(patient_ids: list[int]) -> dict[int, PatientAccount]:
    accounts = {}
    for chunk in _chunks(patient_ids):
        locked = PatientAccount.objects.select_for_update().filter(patient_id__in=chunk).order_by("pk")
        accounts.update({a.patient_id: a for a in locked})
    return accounts


def _existing(practice: Practice, keys: list[str]) -> dict[str, JournalTransaction]:
    found: dict[str, JournalTransaction] = {}
    for chunk in _chunks(keys):
        rows = JournalTransaction.objects.filter(practice=practice, idempotency_key__in=chunk)
        found.update({txn.idempotency_key: txn for txn in rows})
    return found


def _chunks(items: list, size: int = 900) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _apply(posting: Posting, claim: Claim | None, account: PatientAccount | None, payment: Payment | None) -> None:
    """Move the locked rows' amounts by the posting's legs (in memory; written by ``_write``)."""
    for leg in posting.legs:
        amount = leg.amount
        if claim is not None:
            if leg.account == Account.CHARGES:
                claim.total_charge -= amount
            elif leg.account in MONEY_IN:
                claim.paid_amount += amount
            elif leg.account in ADJUSTMENTS:
                claim.adjustment_amount += amount
            if leg.account in RECEIVABLES:
                claim.balance += amount
            if leg.account == Account.PATIENT_AR:
                claim.patient_responsibility += amount
        if account is not None:
            if leg.account in INSURANCE_AR:
                account.insurance_balance += amount
            elif leg.account == Account.PATIENT_AR:
                account.patient_balance += amount
            elif leg.account == Account.UNAPPLIED:
                account.credit -= amount
    if account is not None:
        if account.credit < 0:
            raise PostingError(f"{account.patient} has only ${account.credit + _unapplied(posting):,} of credit.")
        account.balance = account.insurance_balance + account.patient_balance - account.credit
    if payment is not None:
        _apply_to_payment(posting, payment)
    for row in (claim, account):
        if row is not None:
            for name in ("total_charge", "paid_amount", "adjustment_amount", "balance", "credit"):
                if abs(getattr(row, name, 0)) > MAX_AMOUNT:
                    raise PostingError("The posting would make a balance larger than an amount can be.")


def _unapplied(posting: Posting) -> Decimal:
    return sum((leg.amount for leg in posting.legs if leg.account == Account.UNAPPLIED), Decimal(0))


def _apply_to_payment(posting: Posting, payment: Payment) -> None:
    """Keep the payment's refunded amount: a refund adds to it, the refund's reversal takes it back."""
    cash_out = -sum((leg.amount for leg in posting.legs if leg.account == Account.CASH), Decimal(0))
    if posting.kind == Kind.REFUND:
        payment.refunded_amount += cash_out
    elif posting.kind == Kind.REVERSAL and posting.reverses.kind == Kind.REFUND:
        payment.refunded_amount += cash_out  # the reversal puts the cash back: negative
    elif posting.kind == Kind.REVERSAL and posting.reverses.kind == Kind.PAYMENT:
        still_paid = posted_amount(payment) - posting.reverses.amount
        if still_paid < payment.refunded_amount:
            raise PostingError("Reverse this payment's refunds first: more was refunded than would be left paid.")
    if payment.refunded_amount > payment.amount:
        raise PostingError(
            f"A refund cannot exceed what was paid: ${payment.amount - payment.refunded_amount + cash_out:,} "
            "of this payment is left to refund."
        )


def posted_amount(payment: Payment) -> Decimal:
    """What a payment put on the books and was not reversed."""
    cash = LedgerEntry.objects.filter(
        transaction__payment=payment,
        transaction__kind=Kind.PAYMENT,
        transaction__reversed_by__isnull=True,
        account=Account.CASH,
    )
    return cash.aggregate(total=models.Sum("amount"))["total"] or Decimal(0)


def _transaction(
    practice: Practice, posting: Posting, claim: Claim | None, account: PatientAccount | None
) -> JournalTransaction:
    # Ids rather than objects: setting a relation costs more than the rest of the row, in batches of thousands.
    return JournalTransaction(
        practice_id=practice.pk,
        kind=posting.kind,
        source=posting.source,
        claim_id=claim.pk if claim is not None else None,
        patient_id=posting.patient_id,
        payment_id=_pk(posting.payment),
        remittance_id=_pk(posting.remittance),
        reverses_id=_pk(posting.reverses),
        amount=sum((leg.amount for leg in posting.legs if leg.amount > 0), Decimal(0)),
        reason=posting.reason,
        carc_group=posting.carc_group,
        carc_code=posting.carc_code,
        memo=posting.memo[:300],
        effective_date=posting.effective_date,
        claim_balance_after=claim.balance if claim is not None else None,
        account_balance_after=account.balance if account is not None else None,
        idempotency_key=posting.idempotency_key,
        content_hash=posting.content_hash,
        created_by_id=_pk(posting.actor),
    )


def _pk(row: models.Model | None) -> int | None:
    return row.pk if row is not None else None


CLAIM_AMOUNTS = ["total_charge", "paid_amount", "adjustment_amount", "patient_responsibility", "balance"]
CLAIM_STATUS = ["status", "status_changed_at"]
ACCOUNT_AMOUNTS = ["insurance_balance", "patient_balance", "credit", "balance"]


def _write(practice, new, accounts, claims, payments) -> None:
    try:
        # No savepoint of its own: post_many's atomic block rolls back everything on the way out.
        if connection.vendor == "postgresql" and len(new) >= COPY_FROM:
            _copy_rows(practice, new)
        else:
            _insert_rows(practice, new)
    except IntegrityError as error:
        # A concurrent posting took a key or reversed the same transaction first.
        raise Raced("This posting was made by another request a moment ago; reload to see it.") from error
    now = timezone.now()
    changed_claims = {txn.claim_id for _, txn in new if txn.claim_id}
    changed_accounts = {txn.patient_id for _, txn in new if txn.patient_id}
    changed_payments = {txn.payment_id for _, txn in new if txn.payment_id}
    for claim in (claims[pk] for pk in changed_claims):
        claim.updated_at = now
    _bulk_set(Claim, [claims[pk] for pk in sorted(changed_claims)], [*CLAIM_AMOUNTS, *CLAIM_STATUS, "updated_at"])
    for account in (accounts[pk] for pk in changed_accounts):
        account.updated_at = now
    _bulk_set(PatientAccount, [accounts[pk] for pk in sorted(changed_accounts)], [*ACCOUNT_AMOUNTS, "updated_at"])
    for payment in (payments[pk] for pk in changed_payments):
        payment.status = _payment_status(payment)
        payment.updated_at = now
    Payment.objects.bulk_update(
        [payments[pk] for pk in changed_payments], ["refunded_amount", "status", "updated_at"], batch_size=500
    )


# From this many postings on, PostgreSQL gets the rows by COPY: an ERA's or an import's batch.
COPY_FROM = 100
ENTRY_COLUMNS = ["practice_id", "transaction_id", "account", "amount", "claim_id", "patient_id"]


def _entry_rows(practice, new) -> Iterable[tuple]:
    for posting, txn in new:
        for leg in posting.legs:
            yield (practice.pk, txn.pk, str(leg.account), leg.amount, txn.claim_id, txn.patient_id)


def _insert_rows(practice, new) -> None:
    JournalTransaction.objects.bulk_create([txn for _, txn in new], batch_size=500)
    entries = [LedgerEntry(**dict(zip(ENTRY_COLUMNS, row, strict=True))) for row in _entry_rows(practice, new)]
    LedgerEntry.objects.bulk_create(entries, batch_size=1000)


def _copy_rows(practice, new) -> None:
    """The same rows as ``_insert_rows``, by COPY: ids taken from the sequence first, no model per entry."""
    txns = [txn for _, txn in new]
    meta, quote = JournalTransaction._meta, connection.ops.quote_name
    fields = meta.concrete_fields
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(txns)],
        )
        for txn, (pk,) in zip(txns, cursor.fetchall(), strict=True):
            txn.pk, txn.created_at = pk, now
        columns = ", ".join(quote(f.column) for f in fields)
        with cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
            for txn in txns:
                copy.write_row([_copied(f, getattr(txn, f.attname)) for f in fields])
        with cursor.copy(f"COPY {quote(LedgerEntry._meta.db_table)} ({', '.join(ENTRY_COLUMNS)}) FROM STDIN") as copy:
            for row in _entry_rows(practice, new):
                copy.write_row(row)
    for txn in txns:
        txn._state.adding, txn._state.db = False, connection.alias


def _plain(value):
    """Choices as their stored strings (the driver would write an enum member's name)."""
    return value.value if isinstance(value, Enum) else value


def _copied(model_field: models.Field, value):
    """A value as COPY must write it: an encrypted field's stored form (COPY bypasses the field)."""
    return to_stored(value) if isinstance(model_field, EncryptedTextField) else _plain(value)


def _bulk_set(model: type[models.Model], rows: list[models.Model], fields: list[str]) -> None:
    """Write ``fields`` of ``rows`` in one statement per chunk: ``UPDATE ... FROM`` the new values.

    ``bulk_update`` builds a ``CASE WHEN id = … THEN …`` per row and column, which for a batch of
    thousands of claims (an ERA's or an import's) costs far more in Python and in the database
    than the rows it writes. PostgreSQL gets one array per column (``unnest``), SQLite a
    ``VALUES`` list. Rows are locked already, so this changes nothing but the speed.
    """
    if not rows:
        return
    meta, quote = model._meta, connection.ops.quote_name
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    names = ", ".join(quote(f"v_{field.column}") for field in columns)
    assignments = ", ".join(f"{quote(field.column)} = v.{quote(f'v_{field.column}')}" for field in columns[1:])
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    where = f"{table}.{pk} = v.{quote(f'v_{meta.pk.column}')}"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in columns)
            values = [[getattr(row, field.attname) for row in rows] for field in columns]
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM unnest({arrays}) AS v ({names}) WHERE {where}",
                [[_plain(v) for v in column] for column in values],
            )
            return
        placeholder = "(" + ", ".join(["%s"] * len(columns)) + ")"
        # SQLite allows 999 parameters in a statement.
        for chunk in _chunks(rows, max(1, 999 // len(columns))):
            params = [
                field.get_db_prep_save(getattr(row, field.attname), connection) for row in chunk for field in columns
            ]
            cursor.execute(
                f"WITH v ({names}) AS (VALUES {', '.join([placeholder] * len(chunk))}) "
                f"UPDATE {table} SET {assignments} FROM v WHERE {where}",
                params,
            )


def _payment_status(payment: Payment) -> str:
    if payment.status in (Payment.Status.VOIDED, Payment.Status.FAILED, Payment.Status.PENDING):
        return payment.status
    if payment.refunded_amount <= 0:
        return Payment.Status.COMPLETED
    if payment.refunded_amount >= payment.amount:
        return Payment.Status.REFUNDED
    return Payment.Status.PARTIALLY_REFUNDED


# -- the claim status machine --------------------------------------------------------------


def _moves_status(posting: Posting) -> bool:
    """Insurance money decides a claim's status; a patient's copay does not."""
    return posting.kind == Kind.WRITE_OFF or any(leg.account in INSURANCE_AR for leg in posting.legs)


def settled_status(claim: Claim, kind: str) -> str | None:
    """The status a claim's amounts call for after a posting of ``kind``, or None to leave it."""
    insurance_owes = claim.balance - claim.patient_responsibility
    if claim.paid_amount > 0 and insurance_owes <= 0:
        return ClaimStatus.PAID
    if kind == Kind.WRITE_OFF and claim.balance <= 0:
        return ClaimStatus.WRITTEN_OFF
    if claim.paid_amount > 0:
        return ClaimStatus.PARTIALLY_PAID
    if claim.status in (ClaimStatus.PAID, ClaimStatus.PARTIALLY_PAID):
        return ClaimStatus.REPROCESSING  # the payment was taken back
    return None


def _settle_statuses(touched: Iterable[tuple[Claim, str]], *, actor: User | None) -> list[ClaimEvent]:
    """Move each touched claim (in memory; ``_write`` saves it) to the status its amounts call for."""
    now = timezone.now()
    events = []
    for claim, kind in touched:
        target = settled_status(claim, kind)
        if target is None or target == claim.status or not can_move(claim.status, target):
            continue
        events.append(
            ClaimEvent(
                claim=claim,
                kind=ClaimEvent.Kind.STATUS_CHANGED,
                from_status=claim.status,
                to_status=target,
                message=_status_message(claim, target),
                actor=actor,
                source="ledger",
            )
        )
        claim.status, claim.status_changed_at = target, now
    return events


def _status_message(claim: Claim, target: str) -> str:
    if target == ClaimStatus.PAID:
        return f"Paid: ${claim.paid_amount:,} received; ${claim.balance:,} left, owed by the patient."
    if target == ClaimStatus.PARTIALLY_PAID:
        return f"Partially paid: ${claim.paid_amount:,} received, ${claim.balance:,} still owed."
    if target == ClaimStatus.WRITTEN_OFF:
        return "Written off: nothing is owed on this claim."
    return "The payment on this claim was reversed."


# -- reversal --------------------------------------------------------------------------------


def reversal_of(original: JournalTransaction, *, reason: str, actor: User | None) -> Posting:
    """A posting that nets ``original`` to zero, on the same claim, patient and payment."""
    legs = [Leg(Account(entry.account), -entry.amount) for entry in original.entries.all()]
    return Posting(
        kind=Kind.REVERSAL,
        source=Source.MANUAL,
        legs=legs,
        idempotency_key=f"reversal:{original.pk}",
        claim=original.claim,
        patient=original.patient,
        payment=original.payment,
        remittance=original.remittance,
        reverses=original,
        memo=reason,
        actor=actor,
    )
