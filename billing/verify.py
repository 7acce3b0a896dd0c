"""Proof that the books add up: every invariant of the ledger, checked against the database.

``verify(practice=None)`` returns one ``Violation`` per broken rule, each naming the row that
breaks it, sorted by practice and kind; an empty list means the books agree. Each rule is
one aggregate query (``GROUP BY``, window functions for the running balances) that returns
only the rows breaking it, so checking a large ledger moves little data into Python.

The rules:

* every transaction has at least two entries, they sum to zero, and its amount is the sum of
  its debits; each entry's practice, claim and patient are its transaction's;
* a transaction's claim, patient, payment, remittance and original belong to its practice,
  and its claim to its patient;
* each claim's money columns and each patient account's amounts equal the sums of their
  entries by account (a claim with money and no ledger rows is a violation);
* each claim's and account's ``balance_after`` chain is consistent in posting (id) order;
* a reversal's legs are exactly its original's negated, on the same claim, patient and
  payment, and a reversal is never itself reversed;
* a payment's refunded amount is what its refunds paid back, never more than it posted,
  and it never posted more than its amount;
* every posted remittance's clearing accounts return to zero.

SQL comparisons allow half a cent: SQLite computes sums of decimals in floating point.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import F, Q

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
from billingpulse.models import Practice
from claims.models import Claim

CENT = Decimal("0.01")
# Accounts money passes through on its way from a remittance to claims; each posted
# remittance's must net to zero. A "held" account (money waiting for a match) need not.
CLEARING = tuple(account for account in Account if account.value.endswith("_clearing"))
TOLERANCE = "0.005"
Kind = JournalTransaction.Kind


class Rule:
    """The kinds of violation, one per invariant."""

    UNBALANCED = "unbalanced_transaction"
    ENTRY_MISMATCH = "entry_mismatch"
    FOREIGN_ROW = "foreign_row"
    CLAIM_AMOUNTS = "claim_amounts"
    ACCOUNT_AMOUNTS = "account_amounts"
    CLAIM_CHAIN = "claim_balance_chain"
    ACCOUNT_CHAIN = "account_balance_chain"
    REVERSAL = "reversal"
    REFUND = "refund"
    OVER_ALLOCATED = "over_allocated"
    CLEARING = "era_clearing"


@dataclass(frozen=True, order=True)
class Violation:
    practice_id: int
    kind: str
    row_type: str  # "transaction", "entry", "claim", "account", "payment", "remittance"
    row_id: int
    message: str

    @property
    def row(self) -> str:
        return f"{self.row_type} #{self.row_id}"

    def __str__(self) -> str:
        return f"practice #{self.practice_id} {self.kind}: {self.row}: {self.message}"


@dataclass(frozen=True)
class Checked:
    transactions: int
    claims: int
    accounts: int


def verify(practice: Practice | int | None = None) -> list[Violation]:
    """Every broken ledger invariant (of one practice, or of all), sorted by practice then kind."""
    scope = _Scope(practice)
    found: list[Violation] = []
    for check in (
        _transactions,
        _entries,
        _foreign_rows,
        _claims,
        _accounts,
        _claim_chain,
        _account_chain,
        _reversals,
        _payments,
        _clearing,
    ):
        found.extend(check(scope))
    return sorted(set(found))


def checked(practice: Practice | int | None = None) -> Checked:
    """How many transactions, claims and patient accounts ``verify`` looks at."""
    scope = _Scope(practice)
    return Checked(
        transactions=scope.filter(JournalTransaction.objects.all()).count(),
        claims=scope.filter(Claim.objects.all()).count(),
        accounts=scope.filter(PatientAccount.objects.all()).count(),
    )


# -- plumbing ---------------------------------------------------------------------------------


class _Scope:
    def __init__(self, practice: Practice | int | None) -> None:
        self.practice_id = practice.pk if isinstance(practice, Practice) else practice

    def filter(self, queryset, path: str = "practice_id"):
        return queryset if self.practice_id is None else queryset.filter(**{path: self.practice_id})

    def sql(self, column: str) -> tuple[str, list]:
        """An SQL condition (and its parameters) keeping ``column``'s rows in scope."""
        if self.practice_id is None:
            return "1 = 1", []
        return f"{column} = %s", [self.practice_id]


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


TXN, ENTRY, CLAIM = _table(JournalTransaction), _table(LedgerEntry), _table(Claim)
ACCOUNT, PAYMENT, REMITTANCE = _table(PatientAccount), _table(Payment), _table(Remittance)


def _in(accounts: Sequence[str]) -> tuple[str, list]:
    return "(" + ", ".join(["%s"] * len(accounts)) + ")", [str(account) for account in accounts]


def _sum_of(accounts: Sequence[str], amount: str = "e.amount") -> tuple[str, list]:
    """``SUM`` of the entries to ``accounts`` (zero when none), with its parameters."""
    placeholders, params = _in(accounts)
    return f"COALESCE(SUM(CASE WHEN e.account IN {placeholders} THEN {amount} ELSE 0 END), 0)", params


def _rows(sql: str, params: Iterable) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.fetchall()


def _money(value) -> Decimal:
    """A sum from SQL as money: exact on PostgreSQL, a float (or int) on SQLite."""
    return Decimal(str(value or 0)).quantize(CENT)


def _differs(a: str, b: str) -> Q:
    """``a IS DISTINCT FROM b`` for two nullable foreign keys."""
    return (
        Q(**{f"{a}__isnull": True, f"{b}__isnull": False})
        | Q(**{f"{a}__isnull": False, f"{b}__isnull": True})
        | (Q(**{f"{a}__isnull": False, f"{b}__isnull": False}) & ~Q(**{a: F(b)}))
    )


# -- transactions and entries -----------------------------------------------------------------


def _transactions(scope: _Scope) -> list[Violation]:
    where, params = scope.sql("t.practice_id")
    rows = _rows(
        f"""
        SELECT t.id, t.practice_id, t.amount, COUNT(e.id), COALESCE(SUM(e.amount), 0),
               COALESCE(SUM(CASE WHEN e.amount > 0 THEN e.amount ELSE 0 END), 0)
        FROM {TXN} t LEFT JOIN {ENTRY} e ON e.transaction_id = t.id
        WHERE {where}
        GROUP BY t.id, t.practice_id, t.amount
        HAVING COUNT(e.id) < 2
            OR ABS(COALESCE(SUM(e.amount), 0)) > {TOLERANCE}
            OR ABS(t.amount - COALESCE(SUM(CASE WHEN e.amount > 0 THEN e.amount ELSE 0 END), 0)) > {TOLERANCE}
        """,
        params,
    )
    found = []
    for txn_id, practice_id, amount, count, total, debits in rows:
        problems = []
        if count < 2:
            problems.append(f"has {count} {'entry' if count == 1 else 'entries'}, fewer than two")
        if _money(total):
            problems.append(f"its entries sum to {_money(total)}, not zero")
        if _money(amount) != _money(debits):
            problems.append(f"its amount {_money(amount)} is not the sum of its debits {_money(debits)}")
        found.append(Violation(practice_id, Rule.UNBALANCED, "transaction", txn_id, "; ".join(problems) + "."))
    return found


def _entries(scope: _Scope) -> list[Violation]:
    wrong = scope.filter(LedgerEntry.objects.all()).filter(
        ~Q(practice_id=F("transaction__practice_id"))
        | _differs("claim_id", "transaction__claim_id")
        | _differs("patient_id", "transaction__patient_id")
    )
    found = []
    for entry in wrong.values(
        "id",
        "practice_id",
        "claim_id",
        "patient_id",
        "transaction_id",
        "transaction__practice_id",
        "transaction__claim_id",
        "transaction__patient_id",
    ):
        problems = [
            f"{label} {entry[name] or 'none'} differs from its transaction's {entry['transaction__' + name] or 'none'}"
            for name, label in (("practice_id", "practice"), ("claim_id", "claim"), ("patient_id", "patient"))
            if entry[name] != entry["transaction__" + name]
        ]
        message = f"entry of transaction #{entry['transaction_id']}: " + "; ".join(problems) + "."
        found.append(Violation(entry["practice_id"], Rule.ENTRY_MISMATCH, "entry", entry["id"], message))
    return found


def _foreign_rows(scope: _Scope) -> list[Violation]:
    """A transaction refers only to its own practice's rows, and to a claim of its patient."""
    links = ("claim", "patient", "payment", "remittance", "reverses")
    condition = Q()
    for link in links:
        condition |= Q(**{f"{link}__isnull": False}) & ~Q(**{f"{link}__practice_id": F("practice_id")})
    condition |= Q(claim__isnull=False) & _differs("patient_id", "claim__patient_id")
    rows = scope.filter(JournalTransaction.objects.all()).filter(condition)
    fields = [f"{link}__practice_id" for link in links]
    found = []
    for txn in rows.values("id", "practice_id", "patient_id", "claim__patient_id", *fields):
        problems = [
            f"its {link} belongs to practice #{txn[f'{link}__practice_id']}"
            for link in links
            if txn[f"{link}__practice_id"] is not None and txn[f"{link}__practice_id"] != txn["practice_id"]
        ]
        if txn["claim__patient_id"] is not None and txn["claim__patient_id"] != txn["patient_id"]:
            problems.append(f"its claim is patient #{txn['claim__patient_id']}'s, not #{txn['patient_id']}'s")
        found.append(Violation(txn["practice_id"], Rule.FOREIGN_ROW, "transaction", txn["id"], "; ".join(problems)))
    return found


# -- projections ------------------------------------------------------------------------------

CLAIM_COLUMNS = ("total_charge", "paid_amount", "adjustment_amount", "patient_responsibility", "balance")


def _claims(scope: _Scope) -> list[Violation]:
    """Claim columns against their entries: charge = −Σ charges, paid = Σ money in, and so on."""
    sums, sum_params = [], []
    for accounts in ((Account.CHARGES,), MONEY_IN, ADJUSTMENTS, (Account.PATIENT_AR,), RECEIVABLES):
        sql, params = _sum_of(accounts)
        sums.append(sql)
        sum_params += params
    # What each column should be, in the order of CLAIM_COLUMNS (the charge is the credit to CHARGES).
    expected = ["-COALESCE(s.charges, 0)", "COALESCE(s.paid, 0)", "COALESCE(s.adjusted, 0)"]
    expected += ["COALESCE(s.patient, 0)", "COALESCE(s.balance, 0)"]
    where, where_params = scope.sql("c.practice_id")
    inner_where, inner_params = scope.sql("c2.practice_id")
    differs = " OR ".join(
        f"ABS(c.{column} - ({value})) > {TOLERANCE}" for column, value in zip(CLAIM_COLUMNS, expected, strict=True)
    )
    rows = _rows(
        f"""
        SELECT c.id, c.practice_id, c.claim_number, s.claim_id IS NOT NULL,
               {", ".join(f"c.{column}" for column in CLAIM_COLUMNS)}, {", ".join(expected)}
        FROM {CLAIM} c LEFT JOIN (
            SELECT e.claim_id AS claim_id, {sums[0]} AS charges, {sums[1]} AS paid, {sums[2]} AS adjusted,
                   {sums[3]} AS patient, {sums[4]} AS balance
            FROM {ENTRY} e
            WHERE e.claim_id IN (SELECT c2.id FROM {CLAIM} c2 WHERE {inner_where})
            GROUP BY e.claim_id
        ) s ON s.claim_id = c.id
        WHERE {where} AND ({differs})
        """,
        [*sum_params, *inner_params, *where_params],
    )
    found = []
    for claim_id, practice_id, number, has_rows, *values in rows:
        stored, ledger = values[: len(CLAIM_COLUMNS)], values[len(CLAIM_COLUMNS) :]
        problems = [
            f"{column} is {_money(have)}, its entries say {_money(want)}"
            for column, have, want in zip(CLAIM_COLUMNS, stored, ledger, strict=True)
            if _money(have) != _money(want)
        ]
        prefix = f"claim {number}" + ("" if has_rows else " has money but no ledger rows")
        found.append(Violation(practice_id, Rule.CLAIM_AMOUNTS, "claim", claim_id, f"{prefix}: {'; '.join(problems)}."))
    return found


ACCOUNT_COLUMNS = ("insurance_balance", "patient_balance", "credit", "balance")


def _accounts(scope: _Scope) -> list[Violation]:
    """Patient accounts against their entries; patients with entries and no account."""
    ins, ins_params = _sum_of(INSURANCE_AR)
    pat, pat_params = _sum_of((Account.PATIENT_AR,))
    unapplied, unapplied_params = _sum_of((Account.UNAPPLIED,))
    where, where_params = scope.sql("a.practice_id")
    inner_where, inner_params = scope.sql("a2.practice_id")
    expected = [
        "COALESCE(s.ins, 0)",
        "COALESCE(s.pat, 0)",
        "-COALESCE(s.unapplied, 0)",
        "a.insurance_balance + a.patient_balance - a.credit",
    ]
    differs = " OR ".join(
        f"ABS(a.{column} - ({value})) > {TOLERANCE}" for column, value in zip(ACCOUNT_COLUMNS, expected, strict=True)
    )
    rows = _rows(
        f"""
        SELECT a.id, a.practice_id, a.patient_id, {", ".join(f"a.{column}" for column in ACCOUNT_COLUMNS)},
               {", ".join(expected)}
        FROM {ACCOUNT} a LEFT JOIN (
            SELECT e.patient_id AS patient_id, {ins} AS ins, {pat} AS pat, {unapplied} AS unapplied
            FROM {ENTRY} e
            WHERE e.patient_id IN (SELECT a2.patient_id FROM {ACCOUNT} a2 WHERE {inner_where})
            GROUP BY e.patient_id
        ) s ON s.patient_id = a.patient_id
        WHERE {where} AND ({differs} OR a.credit < 0)
        """,
        [*ins_params, *pat_params, *unapplied_params, *inner_params, *where_params],
    )
    found = []
    for account_id, practice_id, patient_id, *values in rows:
        stored, ledger = values[: len(ACCOUNT_COLUMNS)], values[len(ACCOUNT_COLUMNS) :]
        problems = [
            f"{column} is {_money(have)}, "
            + ("its parts say" if column == "balance" else "its entries say")
            + f" {_money(want)}"
            for column, have, want in zip(ACCOUNT_COLUMNS, stored, ledger, strict=True)
            if _money(have) != _money(want)
        ]
        if _money(stored[2]) < 0:
            problems.append("credit is negative")
        message = f"account of patient #{patient_id}: {'; '.join(problems)}."
        found.append(Violation(practice_id, Rule.ACCOUNT_AMOUNTS, "account", account_id, message))
    where, params = scope.sql("e.practice_id")
    missing = _rows(
        f"""
        SELECT e.patient_id, MIN(e.practice_id), COUNT(*) FROM {ENTRY} e
        WHERE {where} AND e.patient_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM {ACCOUNT} a WHERE a.patient_id = e.patient_id)
        GROUP BY e.patient_id
        """,
        params,
    )
    for patient_id, practice_id, count in missing:
        message = f"patient #{patient_id} has {count} ledger entries but no account."
        found.append(Violation(practice_id, Rule.ACCOUNT_AMOUNTS, "patient", patient_id, message))
    return found


# -- running balances -------------------------------------------------------------------------


def _chain(scope: _Scope, *, owner: str, after: str, accounts: Sequence[str], rule: str, label: str) -> list[Violation]:
    """Each transaction's ``after`` is the previous one's (of the same owner, by id) plus its own legs."""
    move, move_params = _sum_of(accounts)
    where, params = scope.sql("t.practice_id")
    rows = _rows(
        f"""
        WITH moves AS (
            SELECT t.id, t.practice_id, t.{owner}_id AS owner, t.{after} AS after, {move} AS move
            FROM {TXN} t LEFT JOIN {ENTRY} e ON e.transaction_id = t.id
            WHERE {where} AND t.{owner}_id IS NOT NULL
            GROUP BY t.id, t.practice_id, t.{owner}_id, t.{after}
        ), chain AS (
            SELECT id, practice_id, owner, after, move,
                   LAG(after) OVER (PARTITION BY owner ORDER BY id) AS before,
                   ROW_NUMBER() OVER (PARTITION BY owner ORDER BY id) AS n
            FROM moves
        )
        SELECT id, practice_id, owner, after, before, move, n FROM chain
        WHERE after IS NULL
           OR (n = 1 AND ABS(after - move) > {TOLERANCE})
           OR (n > 1 AND before IS NOT NULL AND ABS(after - before - move) > {TOLERANCE})
        """,
        [*move_params, *params],
    )
    found = []
    for txn_id, practice_id, owner_id, balance_after, before, amount, n in rows:
        if balance_after is None:
            message = f"{label} #{owner_id}: no balance after this transaction is stored."
        else:
            previous = _money(before if n > 1 else 0)
            message = (
                f"{label} #{owner_id}: balance after is {_money(balance_after)}, but the balance before it was "
                f"{previous} and it moved the balance by {_money(amount)}."
            )
        found.append(Violation(practice_id, rule, "transaction", txn_id, message))
    stray = scope.filter(JournalTransaction.objects.filter(**{f"{owner}__isnull": True, f"{after}__isnull": False}))
    for txn_id, practice_id in stray.values_list("id", "practice_id"):
        message = f"has a {label}'s balance after it but no {label}."
        found.append(Violation(practice_id, rule, "transaction", txn_id, message))
    return found


def _claim_chain(scope: _Scope) -> list[Violation]:
    return _chain(
        scope, owner="claim", after="claim_balance_after", accounts=RECEIVABLES, rule=Rule.CLAIM_CHAIN, label="claim"
    )


def _account_chain(scope: _Scope) -> list[Violation]:
    # An account's balance is its receivables less its credit, and the credit is −Σ unapplied.
    return _chain(
        scope,
        owner="patient",
        after="account_balance_after",
        accounts=(*RECEIVABLES, Account.UNAPPLIED),
        rule=Rule.ACCOUNT_CHAIN,
        label="patient",
    )


# -- reversals, payments, remittances ---------------------------------------------------------


def _reversals(scope: _Scope) -> list[Violation]:
    found = []
    transactions = scope.filter(JournalTransaction.objects.all())
    unnamed = transactions.filter(
        Q(kind=Kind.REVERSAL, reverses__isnull=True) | (Q(reverses__isnull=False) & ~Q(kind=Kind.REVERSAL))
    )
    for txn_id, practice_id, kind in unnamed.values_list("id", "practice_id", "kind"):
        message = "a reversal that names no original." if kind == Kind.REVERSAL else f"a {kind} that names an original."
        found.append(Violation(practice_id, Rule.REVERSAL, "transaction", txn_id, message))
    for txn_id, practice_id, original in transactions.filter(reverses__kind=Kind.REVERSAL).values_list(
        "id", "practice_id", "reverses_id"
    ):
        message = f"reverses #{original}, itself a reversal."
        found.append(Violation(practice_id, Rule.REVERSAL, "transaction", txn_id, message))
    elsewhere = transactions.filter(reverses__isnull=False).filter(
        _differs("claim_id", "reverses__claim_id")
        | _differs("patient_id", "reverses__patient_id")
        | _differs("payment_id", "reverses__payment_id")
    )
    for txn_id, practice_id, original in elsewhere.values_list("id", "practice_id", "reverses_id"):
        message = f"reverses #{original} on another claim, patient or payment than the original's."
        found.append(Violation(practice_id, Rule.REVERSAL, "transaction", txn_id, message))
    where, params = scope.sql("r.practice_id")
    rows = _rows(
        f"""
        SELECT legs.reversal, legs.practice_id, legs.original, legs.account, SUM(legs.amount) FROM (
            SELECT r.id AS reversal, r.practice_id, r.reverses_id AS original, e.account, e.amount
            FROM {TXN} r JOIN {ENTRY} e ON e.transaction_id = r.id
            WHERE r.reverses_id IS NOT NULL AND {where}
            UNION ALL
            SELECT r.id, r.practice_id, r.reverses_id, e.account, e.amount
            FROM {TXN} r JOIN {ENTRY} e ON e.transaction_id = r.reverses_id
            WHERE r.reverses_id IS NOT NULL AND {where}
        ) legs
        GROUP BY legs.reversal, legs.practice_id, legs.original, legs.account
        HAVING ABS(SUM(legs.amount)) > {TOLERANCE}
        """,
        params * 2,
    )
    for txn_id, practice_id, original, account, left in rows:
        message = f"does not net #{original} to zero: {_money(left)} is left on {account}."
        found.append(Violation(practice_id, Rule.REVERSAL, "transaction", txn_id, message))
    return found


def _payments(scope: _Scope) -> list[Violation]:
    """Refunds within what was paid and recorded on the payment; no payment posted beyond its amount."""
    where, params = scope.sql("p.practice_id")
    inner_where, inner_params = scope.sql("t.practice_id")
    cash = str(Account.CASH)
    rows = _rows(
        f"""
        SELECT p.id, p.practice_id, p.amount, p.refunded_amount, COALESCE(s.refunded, 0), COALESCE(s.posted, 0)
        FROM {PAYMENT} p LEFT JOIN (
            SELECT t.payment_id,
                   SUM(CASE WHEN t.kind = %s AND e.account = %s THEN -e.amount ELSE 0 END) AS refunded,
                   SUM(CASE WHEN t.kind = %s AND e.account = %s AND e.amount > 0 THEN e.amount ELSE 0 END) AS posted
            FROM {TXN} t
            JOIN {ENTRY} e ON e.transaction_id = t.id
            WHERE t.payment_id IS NOT NULL AND {inner_where}
              AND NOT EXISTS (SELECT 1 FROM {TXN} r WHERE r.reverses_id = t.id)
            GROUP BY t.payment_id
        ) s ON s.payment_id = p.id
        WHERE {where}
          AND (ABS(p.refunded_amount - COALESCE(s.refunded, 0)) > {TOLERANCE}
               OR COALESCE(s.refunded, 0) - COALESCE(s.posted, 0) > {TOLERANCE}
               OR COALESCE(s.posted, 0) - p.amount > {TOLERANCE})
        """,
        [Kind.REFUND.value, cash, Kind.PAYMENT.value, cash, *inner_params, *params],
    )
    found = []
    for payment_id, practice_id, amount, refunded_amount, refunded, posted in rows:
        amount, refunded_amount, refunded, posted = map(_money, (amount, refunded_amount, refunded, posted))
        if refunded_amount != refunded:
            message = f"refunded amount is {refunded_amount}, its refunds paid back {refunded}."
            found.append(Violation(practice_id, Rule.REFUND, "payment", payment_id, message))
        if refunded > posted:
            message = f"{refunded} was refunded, more than the {posted} it posted."
            found.append(Violation(practice_id, Rule.REFUND, "payment", payment_id, message))
        if posted > amount:
            message = f"{posted} was posted to the ledger, more than its amount {amount}."
            found.append(Violation(practice_id, Rule.OVER_ALLOCATED, "payment", payment_id, message))
    return found


def _clearing(scope: _Scope) -> list[Violation]:
    """A posted remittance's clearing accounts net to zero; only posted remittances have ledger rows."""
    found = []
    accounts, account_params = _in(CLEARING or ("-",))
    where, params = scope.sql("t.practice_id")
    rows = _rows(
        f"""
        SELECT r.id, r.practice_id, r.status, e.account, COALESCE(SUM(e.amount), 0)
        FROM {REMITTANCE} r
        JOIN {TXN} t ON t.remittance_id = r.id
        JOIN {ENTRY} e ON e.transaction_id = t.id
        WHERE {where}
        GROUP BY r.id, r.practice_id, r.status, e.account
        HAVING r.status <> %s OR (e.account IN {accounts} AND ABS(SUM(e.amount)) > {TOLERANCE})
        """,
        [*params, Remittance.Status.POSTED.value, *account_params],
    )
    unposted = set()
    for remittance_id, practice_id, status, account, total in rows:
        if status != Remittance.Status.POSTED:
            if remittance_id not in unposted:
                unposted.add(remittance_id)
                message = f"has ledger rows but is {status}, not posted."
                found.append(Violation(practice_id, Rule.CLEARING, "remittance", remittance_id, message))
            continue
        message = f"its {account} entries sum to {_money(total)}, not zero."
        found.append(Violation(practice_id, Rule.CLEARING, "remittance", remittance_id, message))
    stray = scope.filter(LedgerEntry.objects.filter(account__in=CLEARING, transaction__remittance__isnull=True))
    for entry_id, practice_id, txn_id in stray.values_list("id", "practice_id", "transaction_id"):
        message = f"a clearing entry of transaction #{txn_id}, which belongs to no remittance."
        found.append(Violation(practice_id, Rule.CLEARING, "entry", entry_id, message))
    return found
