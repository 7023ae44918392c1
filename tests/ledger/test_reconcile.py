"""Reconciliation finds every kind of drift, and the CLI exits non-zero on drift (own throwaway database,
because it tampers with the data)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

import ledger
from api.config import REPO_ROOT
from tests.dbutil import temporary_database


@pytest.fixture(scope="module")
def tamper_url() -> Iterator[str]:
    with temporary_database(prefix="bankbot_test_reconcile") as url:
        yield url


def cli(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ledger", "reconcile", "--database-url", url], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120, check=False)


def test_reconcile_detects_drift(tamper_url: str) -> None:
    with psycopg.connect(tamper_url, autocommit=True) as conn:
        bank = ledger.open_account(conn, owner_id=None, name="bank", kind="bank_funding", currency="EUR",
                                   allow_negative=True)
        a = ledger.open_account(conn, owner_id="o", name="a", kind="checking", currency="EUR")
        b = ledger.open_account(conn, owner_id="o", name="b", kind="checking", currency="EUR")
        ledger.post_transfer(conn, transaction_id=ledger.new_id(), from_account_id=bank.id, to_account_id=a.id,
                             amount=1_000, currency="EUR")
        tx = ledger.post_transfer(conn, transaction_id=ledger.new_id(), from_account_id=a.id, to_account_id=b.id,
                                  amount=300, currency="EUR")
        ledger.create_hold(conn, hold_id=ledger.new_id(), from_account_id=a.id, to_account_id=b.id, amount=100,
                           currency="EUR", expires_at=datetime.now(UTC) + timedelta(hours=1))
        assert ledger.reconcile(conn) == []
        clean = cli(tamper_url)
        assert clean.returncode == 0, clean.stdout + clean.stderr
        assert "drift=0" in clean.stdout

        # Tamper the way only a bug or a hand-edit could: triggers off for this session.
        conn.execute("SET session_replication_role = replica")
        conn.execute("UPDATE ledger_accounts SET balance = balance + 1, pending_out = 0 WHERE id = %s", (b.id,))
        conn.execute("UPDATE ledger_accounts SET pending_out = 0 WHERE id = %s", (a.id,))
        conn.execute("UPDATE ledger_entries SET amount = -299 WHERE transaction_id = %s AND account_id = %s",
                     (tx.id, a.id))
        conn.execute("SET session_replication_role = origin")
        kinds = {(d.kind, d.subject_id) for d in ledger.reconcile(conn)}
    assert ("balance", b.id) in kinds and ("balance", a.id) in kinds
    assert ("pending", a.id) in kinds
    assert ("running_balance", a.id) in kinds
    assert ("unbalanced_transaction", tx.id) in kinds and ("transaction_legs", tx.id) in kinds
    dirty = cli(tamper_url)
    assert dirty.returncode == 1 and "DRIFT" in dirty.stdout
