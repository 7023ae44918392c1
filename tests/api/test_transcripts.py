"""Transcript ingestion redacts before storing; reading is for the owner and compliance only."""

from __future__ import annotations

import json
import time
import uuid

from fastapi.testclient import TestClient

from api.config import get_settings
from api.webhooks.signing import sign
from data.seed import stable_id
from tests.api.helpers import is_problem
from tests.canaries import fresh
from tests.conftest import login


def _post_events(client: TestClient, events: list[dict], secret: str | None = None):
    body = json.dumps({"events": events}).encode()
    timestamp = int(time.time())
    return client.post("/v1/transcripts/events", content=body, headers={
        "Content-Type": "application/json", "X-Timestamp": str(timestamp),
        "X-Signature": sign(secret or get_settings().transcript_ingest_secret, timestamp, body)})


def _conversation(pg, username: str) -> str:
    conversation_id = uuid.uuid4()
    pg.execute("INSERT INTO conversations (id, customer_id) VALUES (%s, %s)", (conversation_id,
                                                                              stable_id("user", username)))
    return str(conversation_id)


def test_ingest_redacts_before_storing(client: TestClient, alice, pg) -> None:
    canaries = fresh(seed=7)
    conversation_id = _conversation(pg, "alice")
    now = time.time()
    events = [{"event": "user", "sender_id": conversation_id, "timestamp": now + i, "text": text,
               "intent": "check_balance", "confidence": 0.91, "message_id": f"m{i}"}
              for i, text in enumerate(canaries.messages())]
    events.append({"event": "bot", "sender_id": conversation_id, "timestamp": now + 10, "text": "Hello Alice Martin"})
    events.append({"event": "action", "sender_id": conversation_id, "timestamp": now + 11, "name": "x"})
    first = _post_events(client, events)
    assert first.json() == {"stored": 6, "duplicates": 0, "skipped": 1}
    assert _post_events(client, events).json() == {"stored": 0, "duplicates": 6, "skipped": 1}
    stored = "\n".join(r[0] for r in pg.execute(
        "SELECT text FROM transcript_messages WHERE conversation_id = %s", (conversation_id,)).fetchall())
    for spellings in canaries.spellings().values():
        for spelling in spellings:
            assert spelling.lower() not in stored.lower(), spelling
    assert "Alice Martin" not in stored and "<PERSON>" in stored
    transcript = client.get(f"/v1/conversations/{conversation_id}/transcript", headers=alice).json()
    assert [m["role"] for m in transcript["messages"]] == ["user"] * 5 + ["bot"]
    assert "<CREDIT_CARD>" in transcript["messages"][0]["text"]
    assert transcript["messages"][0]["intent"] == "check_balance"


def test_only_owner_and_compliance_read_a_transcript(client: TestClient, alice, bob, pg) -> None:
    conversation_id = _conversation(pg, "alice")
    _post_events(client, [{"event": "user", "sender_id": conversation_id, "timestamp": time.time(), "text": "hi"}])
    assert client.get(f"/v1/conversations/{conversation_id}/transcript", headers=alice).status_code == 200
    is_problem(client.get(f"/v1/conversations/{conversation_id}/transcript", headers=bob), 404)
    is_problem(client.get(f"/v1/conversations/{conversation_id}/transcript", headers=login(client, "agent")), 404)
    compliance = client.get(f"/v1/conversations/{conversation_id}/transcript", headers=login(client, "compliance"))
    assert compliance.status_code == 200 and compliance.json()["messages"][0]["text"] == "hi"


def test_unsigned_or_forged_batches_are_refused(client: TestClient, pg) -> None:
    conversation_id = _conversation(pg, "bob")
    event = [{"event": "user", "sender_id": conversation_id, "timestamp": time.time(), "text": "x"}]
    is_problem(_post_events(client, event, secret="not-the-secret-at-all"), 401, "signature_invalid")
    is_problem(client.post("/v1/transcripts/events", json={"events": event}), 401, "signature_missing")
    assert pg.execute("SELECT count(*) FROM transcript_messages WHERE conversation_id = %s",
                      (conversation_id,)).fetchone()[0] == 0


def test_retention_purge_and_erasure_are_audited(client: TestClient, pg) -> None:
    from sqlalchemy.orm import Session

    from api.db import engine_for
    from api.transcripts.service import erase_customer, purge_older_than

    conversation_id = _conversation(pg, "bob")
    old, recent = time.time() - 200 * 86400, time.time()
    _post_events(client, [{"event": "user", "sender_id": conversation_id, "timestamp": old, "text": "old"},
                          {"event": "user", "sender_id": conversation_id, "timestamp": recent, "text": "new"}])
    with Session(engine_for(get_settings().database_url)) as session:
        assert purge_older_than(session, 90, "test") >= 1
        session.commit()
    texts = [r[0] for r in pg.execute("SELECT text FROM transcript_messages WHERE conversation_id = %s",
                                      (conversation_id,)).fetchall()]
    assert texts == ["new"]
    with Session(engine_for(get_settings().database_url)) as session:
        assert erase_customer(session, stable_id("user", "bob"), "test") >= 1
        session.commit()
    assert pg.execute("SELECT count(*) FROM transcript_messages WHERE customer_id = %s",
                      (stable_id("user", "bob"),)).fetchone()[0] == 0
    actions = {r[0] for r in pg.execute("SELECT action FROM audit_log WHERE actor = 'test'").fetchall()}
    assert actions == {"transcripts.purge", "transcripts.erase"}
