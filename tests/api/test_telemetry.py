"""Product metrics (api/telemetry.py, api/telemetry_db.py) recorded by the real app, database and Redis.

These tests run in one process without PROMETHEUS_MULTIPROC_DIR: the default registry holds the samples
and the internal listener serves it with the database's metrics added.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import psycopg
import pytest
import redis
import yaml
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from api import intents, telemetry, telemetry_db
from api.config import get_settings
from api.webhooks.signing import sign
from data.seed import stable_id
from tests.api.helpers import accounts_by_type, internal_client, service_headers
from tests.conftest import TEST_REDIS_URL, login

REPO = Path(__file__).resolve().parents[2]


def _value(name: str, labels: dict[str, str] | None = None) -> float:
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


def _conversation(pg: psycopg.Connection, username: str = "alice") -> str:
    conversation_id = uuid.uuid4()
    pg.execute("INSERT INTO conversations (id, customer_id) VALUES (%s, %s)",
               (conversation_id, stable_id("user", username)))
    return str(conversation_id)


def _post_events(events: list[dict]) -> dict:
    body = json.dumps({"events": events}).encode()
    timestamp = int(time.time())
    response = internal_client().post("/v1/transcripts/events", content=body, headers={
        "Content-Type": "application/json", "X-Timestamp": str(timestamp),
        "X-Signature": sign(get_settings().transcript_ingest_secret, timestamp, body)})
    assert response.status_code == 200, response.text
    return response.json()


def test_intent_names_are_the_domains() -> None:
    """api/intents.py is a copy (the core's image has no bot/): it must list exactly the domain's intents."""
    names = set()
    for path in (REPO / "bot/domain").glob("*.yml"):
        for item in yaml.safe_load(path.read_text()).get("intents") or []:
            names.add(item if isinstance(item, str) else next(iter(item)))
    assert names == intents.KNOWN
    assert intents.label("check_balance") == "check_balance"
    assert intents.label("made_up_by_a_customer") == "other" and intents.label(None) == "other"


def test_ingest_counts_intents_confidence_and_fallbacks_once(client: TestClient, pg) -> None:
    conversation_id = _conversation(pg)
    now = time.time()
    before = {
        "balance": _value("bankbot_nlu_intents_total", {"intent": "check_balance"}),
        "other": _value("bankbot_nlu_intents_total", {"intent": "other"}),
        "nlu": _value("bankbot_fallbacks_total", {"kind": "nlu_fallback"}),
        "policy": _value("bankbot_fallbacks_total", {"kind": "action_default_fallback"}),
        "confidence": _value("bankbot_nlu_confidence_count"),
        "confident": _value("bankbot_nlu_confidence_bucket", {"le": "0.9"}),
        "redactions": _value("bankbot_redaction_seconds_count"),
    }
    events = [
        {"event": "user", "sender_id": conversation_id, "timestamp": now, "text": "what's my balance",
         "intent": "check_balance", "confidence": 0.97, "message_id": "a"},
        {"event": "user", "sender_id": conversation_id, "timestamp": now + 1, "text": "blorp",
         "intent": "nlu_fallback", "confidence": 0.31, "message_id": "b"},
        # Rasa takes any "/name" a customer types as an intent: the label must stay bounded.
        {"event": "user", "sender_id": conversation_id, "timestamp": now + 2, "text": "/anything_at_all",
         "intent": "anything_at_all", "confidence": 1.0, "message_id": "c"},
        {"event": "bot", "sender_id": conversation_id, "timestamp": now + 3, "text": "Sorry, I did not get that"},
        {"event": "action", "sender_id": conversation_id, "timestamp": now + 4, "name": "action_default_fallback"},
    ]
    assert _post_events(events)["stored"] == 4
    assert _value("bankbot_nlu_intents_total", {"intent": "check_balance"}) == before["balance"] + 1
    assert _value("bankbot_nlu_intents_total", {"intent": "other"}) == before["other"] + 1
    assert _value("bankbot_nlu_intents_total", {"intent": "anything_at_all"}) == 0
    assert _value("bankbot_fallbacks_total", {"kind": "nlu_fallback"}) == before["nlu"] + 1
    assert _value("bankbot_fallbacks_total", {"kind": "action_default_fallback"}) == before["policy"] + 1
    assert _value("bankbot_nlu_confidence_count") == before["confidence"] + 3
    assert _value("bankbot_nlu_confidence_bucket", {"le": "0.9"}) == before["confident"] + 1  # only the 0.31
    assert _value("bankbot_redaction_seconds_count") == before["redactions"] + 4  # each stored line, bot's too
    # The same batch again (the broker retries): the lines are duplicates and nothing is counted twice.
    assert _post_events(events[:4])["duplicates"] == 4
    assert _value("bankbot_nlu_intents_total", {"intent": "check_balance"}) == before["balance"] + 1
    assert _value("bankbot_nlu_confidence_count") == before["confidence"] + 3


@pytest.mark.parametrize("core_first", [True, False])
def test_turn_latency_meets_its_intent_once_whichever_half_comes_first(client: TestClient, core_first: bool) -> None:
    r = redis.Redis.from_url(TEST_REDIS_URL)
    request_id = f"test-{uuid.uuid4().hex}"
    before = _value("bankbot_chat_turn_seconds_count", {"intent": "spending_query"})
    halves = [{"seconds": 0.042}, {"intent": "spending_query"}]
    first, second = halves if core_first else halves[::-1]
    telemetry.meet_turn(r, request_id, **first)
    assert _value("bankbot_chat_turn_seconds_count", {"intent": "spending_query"}) == before
    telemetry.meet_turn(r, request_id, **second)
    assert _value("bankbot_chat_turn_seconds_count", {"intent": "spending_query"}) == before + 1
    assert r.ttl(telemetry.TURN_KEY.format(request_id)) > 0  # the pair expires, never kept


def test_turn_latency_from_the_ingest_side_with_the_brokers_request_id(client: TestClient, pg) -> None:
    """The broker forwards the turn's request id with the user event; the ingest brings the intent."""
    conversation_id = _conversation(pg)
    request_id = f"test-{uuid.uuid4().hex}"
    before = _value("bankbot_chat_turn_seconds_count", {"intent": "freeze_card"})
    telemetry.meet_turn(redis.Redis.from_url(TEST_REDIS_URL), request_id, seconds=0.08)  # the chat path's half
    _post_events([{"event": "user", "sender_id": conversation_id, "timestamp": time.time(), "text": "freeze it",
                   "intent": "freeze_card", "confidence": 0.99, "message_id": "x", "request_id": request_id}])
    assert _value("bankbot_chat_turn_seconds_count", {"intent": "freeze_card"}) == before + 1
    assert _value("bankbot_chat_turn_seconds_sum", {"intent": "freeze_card"}) >= 0.08


def test_handoffs_opened_and_claimed_are_counted(client: TestClient, pg) -> None:
    opened = _value("bankbot_handoff_events_total", {"event": "opened"})
    claimed = _value("bankbot_handoff_events_total", {"event": "claimed"})
    conversation_id = _conversation(pg)
    service = service_headers(conversation_id)
    handoff = client.post("/v1/handoffs", json={"conversation_id": conversation_id}, headers=service)
    assert handoff.status_code == 201, handoff.text
    assert client.post("/v1/handoffs", json={"conversation_id": conversation_id}, headers=service).status_code == 200
    agent = login(client, "agent")
    assert client.post(f"/v1/handoffs/{handoff.json()['id']}/claim", headers=agent).status_code == 200
    assert client.post(f"/v1/handoffs/{handoff.json()['id']}/claim", headers=agent).status_code == 200
    assert _value("bankbot_handoff_events_total", {"event": "opened"}) == opened + 1  # the second found it open
    assert _value("bankbot_handoff_events_total", {"event": "claimed"}) == claimed + 1  # claiming again: no change
    client.post(f"/v1/handoffs/{handoff.json()['id']}/release", headers=agent)


def test_transfer_outcomes_are_counted_once(client: TestClient, alice) -> None:
    accounts = accounts_by_type(client, alice)
    body = {"from_account_id": accounts["checking"]["id"], "to_account_id": accounts["savings"]["id"],
            "amount": "1.00", "currency": "EUR"}
    before = _value("bankbot_transfer_outcomes_total", {"status": "completed"})
    key = {"Idempotency-Key": f"test-{uuid.uuid4()}"}
    assert client.post("/v1/transfers", headers={**alice, **key}, json=body).status_code == 201
    assert client.post("/v1/transfers", headers={**alice, **key}, json=body).status_code == 201  # a replay
    assert _value("bankbot_transfer_outcomes_total", {"status": "completed"}) == before + 1


def test_metrics_endpoint_adds_the_databases_view(client: TestClient, pg) -> None:
    """Sagas, saga workers and overdue handoffs are counted from their tables at scrape time."""
    saga_id = f"test:{uuid.uuid4()}"
    pg.execute("INSERT INTO sagas (id, kind, subject_id, status) VALUES (%s, 'kyc_check', %s, 'dead_lettered')",
               (saga_id, saga_id))
    pg.execute("INSERT INTO saga_workers (executor_id, lease_until) VALUES (%s, now() + interval '1 minute')",
               (f"test-{uuid.uuid4()}",))
    text = internal_client().get("/metrics/").text
    samples = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("bankbot_saga") or line.startswith("bankbot_handoffs_overdue")}
    assert samples['bankbot_sagas{kind="kyc_check",status="dead_lettered"}'] >= 1
    assert samples["bankbot_saga_workers_alive"] >= 1
    assert samples["bankbot_saga_workers_known"] >= samples["bankbot_saga_workers_alive"]
    assert "bankbot_handoffs_overdue_waiting" in samples and "bankbot_handoffs_overdue" in samples
    assert "bankbot_http_requests_total" in text  # the processes' own samples are still there


def test_alert_rules_use_metrics_that_exist() -> None:
    """ops/alerts.yml: every bankbot_ metric an expression names is one the core declares or the database
    collector serves (a renamed metric would leave an alert that never fires)."""
    import re

    import api.internal  # noqa: F401 - declares every metric of the core

    # The registry indexes every name a metric exposes (_total, _bucket, ...), samples or not.
    declared = set(REGISTRY._names_to_collectors) | set(telemetry_db.NAMES)
    rules = yaml.safe_load((REPO / "ops/alerts.yml").read_text())["groups"][0]["rules"]
    assert {rule["alert"] for rule in rules} >= {"BankbotErrorRate", "BankbotChatTurnSlow", "BankbotFallbackRate",
                                                 "BankbotSagaDeadLettered", "BankbotHandoffsOverdue",
                                                 "BankbotRedactionSlow", "BankbotSagaWorkerDown"}
    for rule in rules:
        for name in re.findall(r"\bbankbot_[a-z_]+", rule["expr"]):
            assert name in declared, (rule["alert"], name)


def test_live_gauges_of_dead_workers_are_dropped_and_their_counts_kept(tmp_path: Path) -> None:
    """What a worker does at start-up (api/metrics_cleanup.py), on a real directory and real processes."""
    import os
    import subprocess
    import sys

    from api.metrics_cleanup import sweep_dead_live_gauges

    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True)
    dead, me = int(finished.stdout), os.getpid()
    for name in (f"gauge_livesum_{dead}.db", f"counter_{dead}.db", f"histogram_{dead}.db",
                 f"gauge_livesum_{me}.db"):
        (tmp_path / name).write_bytes(b"")
    assert sweep_dead_live_gauges(str(tmp_path)) == [dead]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"counter_{dead}.db", f"histogram_{dead}.db", f"gauge_livesum_{me}.db"])
