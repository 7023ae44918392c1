"""Reconciliation: recompute every cached figure from the immutable entries and report any drift.

Checks (each bounded to MAX_REPORTED rows):
- balance          stored balance   != sum of the account's entries
- version          stored version   != number of entries (and != highest entry version)
- running_balance  an entry's balance_after != running sum of the account's entries in version order
- negative_balance a non-negative account whose running balance ever went below zero
- pending          stored pending_out != sum of the account's pending holds
- unbalanced_transaction  a transaction's entries do not sum to zero in some currency
- transaction_legs a transaction's recorded legs and its entries disagree
- reversals        a reversal and the ledger_reversals row that makes it unique disagree
- orphan_entry     an entry whose account does not exist

All queries run in one REPEATABLE READ, READ ONLY snapshot, so reconciling while postings run is exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg.pq import TransactionStatus

from ledger.models import Drift

MAX_REPORTED = 1000

_CHECKS: tuple[tuple[str, str], ...] = (
    ("accounts", """
        SELECT a.id, a.balance, coalesce(e.total, 0), a.version, coalesce(e.n, 0), coalesce(e.max_version, 0),
               a.allow_negative, coalesce(e.min_balance, 0)
        FROM ledger_accounts a
        LEFT JOIN (SELECT account_id, sum(amount) AS total, count(*) AS n, max(version) AS max_version,
                          min(balance_after) AS min_balance
                   FROM ledger_entries GROUP BY account_id) e ON e.account_id = a.id
        WHERE a.balance <> coalesce(e.total, 0) OR a.version <> coalesce(e.n, 0)
           OR a.version <> coalesce(e.max_version, 0) OR (NOT a.allow_negative AND coalesce(e.min_balance, 0) < 0)
        LIMIT %(max)s"""),
    ("running_balance", """
        SELECT account_id, version, balance_after, computed FROM (
            SELECT account_id, version, balance_after,
                   sum(amount) OVER (PARTITION BY account_id ORDER BY version) AS computed
            FROM ledger_entries) s
        WHERE balance_after <> computed
        LIMIT %(max)s"""),
    ("pending", """
        SELECT a.id, a.pending_out, coalesce(h.total, 0)
        FROM ledger_accounts a
        LEFT JOIN (SELECT from_account_id, sum(amount) AS total FROM ledger_holds
                   WHERE status = 'pending' GROUP BY from_account_id) h ON h.from_account_id = a.id
        WHERE a.pending_out <> coalesce(h.total, 0)
        LIMIT %(max)s"""),
    ("unbalanced_transaction", """
        SELECT transaction_id, currency, sum(amount) FROM ledger_entries
        GROUP BY transaction_id, currency HAVING sum(amount) <> 0
        LIMIT %(max)s"""),
    ("transaction_legs", """
        SELECT coalesce(l.id, e.transaction_id), l.account_id, l.amount, e.amount
        FROM (SELECT t.id, u.account_id, u.amount
              FROM ledger_transactions t, unnest(t.account_ids, t.amounts) AS u(account_id, amount)) l
        FULL JOIN ledger_entries e ON e.transaction_id = l.id AND e.account_id = l.account_id
        WHERE l.amount IS DISTINCT FROM e.amount
        LIMIT %(max)s"""),
    ("reversals", """
        SELECT coalesce(t.id, r.reversal_id), t.reverses_id, r.original_id
        FROM (SELECT id, reverses_id FROM ledger_transactions WHERE reverses_id IS NOT NULL) t
        FULL JOIN ledger_reversals r ON r.reversal_id = t.id
        WHERE t.reverses_id IS DISTINCT FROM r.original_id
        LIMIT %(max)s"""),
    ("orphan_entry", """
        SELECT e.account_id, count(*) FROM ledger_entries e
        WHERE NOT EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.id = e.account_id)
        GROUP BY e.account_id
        LIMIT %(max)s"""),
)


@dataclass(frozen=True, slots=True)
class Totals:
    accounts: int
    transactions: int
    entries: int
    holds: int


def _drifts(check: str, rows: list[tuple]) -> list[Drift]:
    out: list[Drift] = []
    for row in rows:
        if check == "accounts":
            account_id, balance, total, version, n, max_version, allow_negative, min_balance = row
            if balance != total:
                out.append(Drift("balance", account_id, balance, total, "stored balance != sum of entries"))
            if version != n or version != max_version:
                out.append(Drift("version", account_id, version, n,
                                 f"stored version != entry count (highest entry version {max_version})"))
            if not allow_negative and min_balance < 0:
                out.append(Drift("negative_balance", account_id, None, min_balance,
                                 "a non-negative account's running balance went below zero"))
        elif check == "running_balance":
            account_id, version, stored, computed = row
            out.append(Drift("running_balance", account_id, stored, computed,
                             f"entry version {version}: balance_after != running sum"))
        elif check == "pending":
            account_id, stored, computed = row
            out.append(Drift("pending", account_id, stored, computed, "pending_out != sum of pending holds"))
        elif check == "unbalanced_transaction":
            tx_id, currency, total = row
            out.append(Drift("unbalanced_transaction", tx_id, 0, total, f"entries in {currency} sum to {total}"))
        elif check == "transaction_legs":
            tx_id, account_id, leg_amount, entry_amount = row
            out.append(Drift("transaction_legs", tx_id, leg_amount, entry_amount,
                             f"account {account_id}: recorded leg != entry"))
        elif check == "reversals":
            tx_id, reverses, recorded = row
            out.append(Drift("reversals", tx_id, None, None,
                             f"reversal of {reverses} recorded as reversal of {recorded}"))
        elif check == "orphan_entry":
            account_id, n = row
            out.append(Drift("orphan_entry", account_id, None, n, "entries for an account that does not exist"))
    return out


def _run(conn: psycopg.Connection) -> list[Drift]:
    drifts: list[Drift] = []
    for check, query in _CHECKS:
        drifts.extend(_drifts(check, conn.execute(query, {"max": MAX_REPORTED}).fetchall()))
    return drifts


def _in_snapshot(conn: psycopg.Connection, fn):  # one consistent snapshot when we own the transaction
    if conn.info.transaction_status == TransactionStatus.IDLE:
        with conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            return fn(conn)
    return fn(conn)  # inside the caller's transaction: its snapshot rules


def reconcile(conn: psycopg.Connection) -> list[Drift]:
    """Every drift between cached figures and the entries; empty when the ledger is consistent.

    On an idle connection it runs (and ends) its own read-only REPEATABLE READ transaction.
    """
    return _in_snapshot(conn, _run)


def totals(conn: psycopg.Connection) -> Totals:
    row = conn.execute(
        """SELECT (SELECT count(*) FROM ledger_accounts), (SELECT count(*) FROM ledger_transactions),
                  (SELECT count(*) FROM ledger_entries), (SELECT count(*) FROM ledger_holds)""").fetchone()
    assert row is not None
    return Totals(*(int(x) for x in row))
