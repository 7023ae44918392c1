"""Transfers written together (transfers_record_batch): each item judged alone, nothing half-done."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
from fastapi.testclient import TestClient
from psycopg import sql

from api.db_async import HOT_PATH_SETTINGS
from api.transfers.service import READ_SQL
from api.transfers.writer import WRITE_SQL
from data.seed import stable_id
from tests.api.helpers import accounts_by_type, balances

ALICE = stable_id("user", "alice")


def _item(accounts: dict, amount: int, daily_max: int = 10**12) -> dict:
    now = datetime.now(UTC)
    return {"id": str(uuid.uuid4()), "customer_id": str(ALICE), "from_account_id": accounts["checking"]["id"],
            "to_account_id": accounts["savings"]["id"], "clearing_account_id": None, "counterparty": None,
            "amount": amount, "currency": "EUR", "reference": "batch test",
            "ledger_transaction_id": str(uuid.uuid4()), "created_at": now.isoformat(),
            "hold_expires_at": (now + timedelta(days=7)).isoformat(), "daily_max": daily_max,
            "key": f"batch-{uuid.uuid4()}", "request_hash": "0" * 64, "response": {"test": True},
            "key_expires_at": (now + timedelta(days=1)).isoformat(), "actor": "test", "correlation_id": None}


def _counts(pg, items: list[dict]) -> tuple[int, int, int]:
    ids = [i["id"] for i in items]
    return (pg.execute("SELECT count(*) FROM transfers WHERE id = ANY(%s::uuid[])", (ids,)).fetchone()[0],
            pg.execute("SELECT count(*) FROM audit_log WHERE target_id = ANY(%s)", (ids,)).fetchone()[0],
            pg.execute("SELECT count(*) FROM idempotency_keys WHERE key = ANY(%s)",
                       ([i["key"] for i in items],)).fetchone()[0])


def test_rejected_items_write_nothing_and_do_not_affect_the_others(client: TestClient, alice, pg) -> None:
    accounts = accounts_by_type(client, alice)
    before = balances(client, alice)
    huge = 10**11  # more than alice holds, under the daily maximum: the ledger refuses it
    items = [_item(accounts, 101), _item(accounts, huge), _item(accounts, 102, daily_max=0), _item(accounts, 103)]
    for index, item in enumerate(items):
        item["idx"] = index
    rows = pg.execute("SELECT idx, code FROM transfers_record_batch(%s::jsonb) ORDER BY idx",
                      (json.dumps(items),)).fetchall()
    assert rows == [(0, "ok"), (1, "insufficient_funds"), (2, "daily_limit_exceeded"), (3, "ok")]
    assert _counts(pg, [items[0], items[3]]) == (2, 2, 2)
    assert _counts(pg, [items[1], items[2]]) == (0, 0, 0)
    after = balances(client, alice)
    moved = Decimal("2.04")
    assert after[accounts["checking"]["id"]][0] == before[accounts["checking"]["id"]][0] - moved
    assert after[accounts["savings"]["id"]][0] == before[accounts["savings"]["id"]][0] + moved


def test_concurrent_requests_each_get_their_own_answer(client: TestClient, alice, pg) -> None:
    """Transfers that may share a batch with refused ones still go through, each exactly once."""
    accounts = accounts_by_type(client, alice)
    source = accounts["checking"]["id"]
    before = balances(client, alice)[source][0]
    answers: list[tuple[str, int, str | None]] = []  # (amount, status, problem code)

    def send(amount: str) -> None:
        response = client.post("/v1/transfers", headers={**alice, "Idempotency-Key": f"concurrent-{uuid.uuid4()}"},
                               json={"from_account_id": source, "to_account_id": accounts["savings"]["id"],
                                     "amount": amount, "currency": "EUR"})
        answers.append((amount, response.status_code, response.json().get("code")))

    # 9,999.99 is under the per-transfer limit and over alice's balance (or what is left of her day's
    # limit after the other tests): refused inside the batch, by the ledger or by the daily limit.
    threads = [threading.Thread(target=send, args=(amount,)) for amount in ["1.00", "9999.99"] * 6]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for amount, status, _ in answers if amount == "1.00") == [201] * 6
    refused = [(status, code) for amount, status, code in answers if amount != "1.00"]
    assert len(refused) == 6
    assert all(status == 422 and code in ("insufficient_funds", "daily_limit_exceeded") for status, code in refused)
    assert balances(client, alice)[source][0] == before - Decimal("6.00")


def _scans_without_a_key(plan: str) -> list[str]:
    """The plan's table reads that are not index probes: sequential scans, and index scans or bitmap
    index scans with no index condition (which read the whole index)."""
    nodes = [node.strip() for node in plan.replace("->", "\x00").split("\x00")]
    bad = [node.splitlines()[0] for node in nodes if node.startswith("Seq Scan")]
    bad += [node.splitlines()[0] for node in nodes
            if node.startswith(("Index Scan", "Index Only Scan", "Bitmap Index Scan")) and "Index Cond:" not in node]
    return bad


def test_the_transfer_path_reads_tables_only_by_key(client: TestClient, alice, database_url: str) -> None:
    """Planned as the hot path's pool plans (api/db_async.py: generic plans, no scans), the batched read
    and every statement inside transfers_record_batch() reach their tables by key only, so their cost
    does not grow with the tables, whatever their size when the plans were made."""
    accounts = accounts_by_type(client, alice)
    plans: list[str] = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        for name, value in HOT_PATH_SETTINGS.items():
            conn.execute(sql.SQL("SET {} = {}").format(sql.Identifier(name), sql.Literal(value)))
        conn.execute("LOAD 'auto_explain'")
        for setting in ("auto_explain.log_min_duration = 0", "auto_explain.log_nested_statements = on",
                        "client_min_messages = log"):
            conn.execute(f"SET {setting}")
        conn.add_notice_handler(lambda notice: plans.append(notice.message_primary or ""))
        for _ in range(6):  # past psycopg's prepare threshold: the plan a pooled connection keeps
            items = [{**_item(accounts, 1), "idx": 0}, {**_item(accounts, 2), "idx": 1}]
            conn.execute(READ_SQL, ([0, 1], [ALICE] * 2, [accounts["checking"]["id"]] * 2,
                                    [accounts["savings"]["id"]] * 2, [None, None], [i["key"] for i in items]),
                         prepare=True)
            assert [row[1] for row in conn.execute(WRITE_SQL, (json.dumps(items),), prepare=True)] == ["ok", "ok"]
    explained = [plan for plan in plans if "Query Text:" in plan]
    assert any("ledger_accounts" in plan and "FOR UPDATE" in plan for plan in explained), "nested plans seen"
    assert [bad for plan in explained for bad in _scans_without_a_key(plan)] == []
