"""Transcript ingestion redacts before storing; reading is for the owner and compliance only."""

from __future__ import annotations

import json
import time
import uuid

from fastapi.testclient import TestClient

from api.config import get_settings
from api.webhooks.signing import sign
from data.seed import stable_id
from tests.api.helpers import internal_client, is_problem
from tests.canaries import fresh
from tests.conftest import login


def _post_events(client: TestClient, events: list[dict], secret: str | None = None):
    """A signed batch to the internal listener (api/internal.py), as the event broker posts it."""
    body = json.dumps({"events": events}).encode()
    timestamp = int(time.time())
    return internal_client().post("/v1/transcripts/events", content=body, headers={
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
    lines = len(canaries.messages()) + 1
    first = _post_events(client, events)
    assert first.json() == {"stored": lines, "duplicates": 0, "skipped": 1, "failed": 0, "deferred": 0}
    assert _post_events(client, events).json() == {"stored": 0, "duplicates": lines, "skipped": 1, "failed": 0,
                                                   "deferred": 0}
    stored = "\n".join(r[0] for r in pg.execute(
        "SELECT text FROM transcript_messages WHERE conversation_id = %s", (conversation_id,)).fetchall())
    for spellings in canaries.spellings().values():
        for spelling in spellings:
            assert spelling.lower() not in stored.lower(), spelling
    assert "Alice Martin" not in stored and "<PERSON>" in stored
    transcript = client.get(f"/v1/conversations/{conversation_id}/transcript", headers=alice).json()
    assert [m["role"] for m in transcript["messages"]] == ["user"] * (lines - 1) + ["bot"]
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
    is_problem(internal_client().post("/v1/transcripts/events", json={"events": event}), 401, "signature_missing")
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


# --- bounded work (issue 12): fail closed per line, per event, and a time budget per batch ----------------

def _texts(pg, conversation_id: str) -> list[tuple[str, list[str]]]:
    return [(r[0], r[1]) for r in pg.execute(
        "SELECT text, entity_types FROM transcript_messages WHERE conversation_id = %s ORDER BY id",
        (conversation_id,)).fetchall()]


def _ingest_with(settings_update: dict, events: list[dict]):
    """service.ingest with the real redactor and database, under changed budgets."""
    from sqlalchemy.orm import Session

    from api import privacy
    from api.db import engine_for
    from api.transcripts import service

    settings = get_settings().model_copy(update=settings_update)
    with Session(engine_for(settings.database_url)) as session:
        result = service.ingest(session, settings, events, privacy.redact)
        session.commit()
    return result


def _fail_closed_count(reason: str) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("bankbot_redaction_fail_closed_total", {"reason": reason}) or 0.0


def test_a_line_over_its_redaction_budget_is_stored_as_a_placeholder(client: TestClient, pg) -> None:
    conversation_id = _conversation(pg, "alice")
    card = "4111 1111 1111 1111"
    before = _fail_closed_count("timeout")
    result = _ingest_with({"transcript_redaction_budget_seconds": 1e-6}, [
        {"event": "user", "sender_id": conversation_id, "timestamp": time.time(), "text": f"my card is {card}"}])
    assert (result.stored, result.failed) == (1, 0)
    assert _texts(pg, conversation_id) == [("[redaction timed out]", ["REDACTION_TIMEOUT"])]
    assert _fail_closed_count("timeout") == before + 1


def test_a_poisoned_event_does_not_fail_its_batch(client: TestClient, pg) -> None:
    conversation_id = _conversation(pg, "alice")
    now = time.time()
    events = [
        {"event": "user", "sender_id": conversation_id, "timestamp": now, "text": "first, my pin is 1234"},
        # no clock holds this timestamp; a confidence out of range; NUL bytes PostgreSQL text cannot hold
        {"event": "user", "sender_id": conversation_id, "timestamp": 1e300, "text": "odd time", "message_id": "a"},
        {"event": "user", "sender_id": conversation_id, "timestamp": now + 1, "text": "odd\x00 confidence",
         "confidence": 1e9, "intent": "greet\x00", "input_channel": "rest\x00"},
        {"event": "user", "sender_id": conversation_id, "timestamp": "yesterday", "text": "odd stamp"},
        {"event": "user", "sender_id": conversation_id, "timestamp": now + 2, "text": ["not", "text"]},
        {"event": "user", "sender_id": {"not": "an id"}, "timestamp": now + 3, "text": "nobody's"},
        {"event": "bot", "sender_id": conversation_id, "timestamp": now + 4, "text": "last, all fine"},
    ]
    response = _post_events(client, events)
    assert response.status_code == 200, response.text
    assert response.json() == {"stored": 5, "duplicates": 0, "skipped": 2, "failed": 0, "deferred": 0}
    texts = [t for t, _ in _texts(pg, conversation_id)]
    assert "first, my pin is <PIN>" in texts and "last, all fine" in texts and "odd confidence" in texts


def test_redaction_that_raises_fails_closed(client: TestClient, pg) -> None:
    conversation_id = _conversation(pg, "alice")
    before = _fail_closed_count("error")
    # Longer than the redactor takes (20,000 characters) but within the batch model: the redactor raises
    # ValueError for it, if the ingest's own cap (4,000) did not cut it first; here the cap is bypassed.
    from api.transcripts import service

    original = service.MAX_TEXT_CHARS
    service.MAX_TEXT_CHARS = 30_000
    try:
        result = _ingest_with({}, [{"event": "user", "sender_id": conversation_id, "timestamp": time.time(),
                                    "text": "my pin is 1234 " * 1500}])
    finally:
        service.MAX_TEXT_CHARS = original
    assert result.stored == 1
    assert _texts(pg, conversation_id) == [("[redaction failed]", ["REDACTION_FAILED"])]
    assert _fail_closed_count("error") == before + 1


def test_a_batch_over_its_time_budget_is_deferred_and_completed_when_sent_again(client: TestClient, pg) -> None:
    conversation_id = _conversation(pg, "alice")
    now = time.time()
    events = [{"event": "user", "sender_id": conversation_id, "timestamp": now + i, "text": f"line {i}, pin 12{i:02}"}
              for i in range(5)]
    first = _ingest_with({"transcript_batch_budget_seconds": 1e-6}, events)
    assert (first.stored, first.deferred) == (1, 4)  # one line per request at least: always progress
    rounds = [first]
    while rounds[-1].deferred:
        rounds.append(_ingest_with({"transcript_batch_budget_seconds": 1e-6}, events))
        assert len(rounds) <= 5
    assert rounds[-1].duplicates == 4 and sum(r.stored for r in rounds) == 5
    assert [t for t, _ in _texts(pg, conversation_id)] == [f"line {i}, pin <PIN>" for i in range(5)]
