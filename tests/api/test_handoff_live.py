"""The live handoff in process: queue items (channel, summary, SLA, overdue), the overdue job, callbacks,
the customer's context, typing, agent actions, canned replies, and the live events each one publishes.

Reading a server-sent events stream needs a real server: tests/e2e/test_live_handoff.py does. Here the
events are read back from the Redis Streams they are published to, and the stream endpoints' refusals
(which answer before any streaming) are checked.
"""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import psycopg
import pytest
import redis
from fastapi.testclient import TestClient

from api.config import get_settings
from api.handoffs import service as handoffs
from api.webhooks.signing import sign
from data.seed import stable_id
from tests.api.helpers import internal_client, is_problem, service_headers
from tests.api.test_handoffs import _audit, _conversation, _open
from tests.canaries import fresh
from tests.conftest import TEST_REDIS_URL, login

AGENT_ID = stable_id("user", "agent")


@pytest.fixture(scope="module")
def agent(client: TestClient) -> dict[str, str]:
    return login(client, "agent")


@pytest.fixture(scope="module")
def agent2(client: TestClient, pg_module: psycopg.Connection) -> dict[str, str]:
    pg_module.execute("INSERT INTO users (id, username, password_hash, full_name, roles) "
                      "SELECT %s, 'agent2', password_hash, 'Second Agent', ARRAY['agent'] FROM users "
                      "WHERE username = 'agent' ON CONFLICT (username) DO NOTHING", (uuid.uuid4(),))
    return login(client, "agent2")


@pytest.fixture(scope="module")
def live() -> redis.Redis:
    return redis.Redis.from_url(TEST_REDIS_URL, decode_responses=True)


def events_of(live: redis.Redis, key: str) -> list[tuple[str, str, dict]]:
    return [(entry_id, fields["event"], json.loads(fields["data"])) for entry_id, fields in live.xrange(key)]


def conversation_events(live: redis.Redis, conversation_id: str) -> list[tuple[str, dict]]:
    return [(name, data) for _, name, data in events_of(live, f"live:conversation:{conversation_id}")]


def queue_events(live: redis.Redis, handoff_id: str) -> list[dict]:
    return [data for _, name, data in events_of(live, "live:handoffs") if data.get("handoff_id") == handoff_id]


def _claimed(client: TestClient, agent, pg, username: str = "alice") -> tuple[str, str]:
    conversation_id = _conversation(pg, username)
    handoff_id = _open(client, conversation_id)["id"]
    assert client.post(f"/v1/handoffs/{handoff_id}/claim", headers=agent).status_code == 200
    return conversation_id, handoff_id


def _user_line(pg, conversation_id: str, text: str, username: str = "alice") -> None:
    """A customer line as the ingest stores it (already redacted)."""
    pg.execute("INSERT INTO transcript_messages (event_key, conversation_id, customer_id, role, channel, text, "
               "sent_at) VALUES (%s, %s, %s, 'user', 'web', %s, now())",
               (uuid.uuid4().hex, conversation_id, stable_id("user", username), text))


def _make_due(pg, handoff_id: str) -> None:
    timeout = get_settings().handoff_claim_timeout_seconds
    pg.execute("UPDATE handoffs SET created_at = now() - make_interval(secs => %s) WHERE id = %s",
               (timeout + 5, handoff_id))


def _item(client: TestClient, agent, handoff_id: str, status: str | None = None) -> dict:
    params = {"status": status} if status else {}
    return next(h for h in client.get("/v1/handoffs", headers=agent, params=params).json() if h["id"] == handoff_id)


def test_queue_items_carry_channel_summary_sla_and_the_customer(client: TestClient, agent, pg, live) -> None:
    conversation_id = _conversation(pg)
    pg.execute("UPDATE conversations SET channel = 'telegram' WHERE id = %s", (conversation_id,))
    for said in ("hello", "my card <CREDIT_CARD> was charged twice", "x" * 200, "I want to talk to a person"):
        _user_line(pg, conversation_id, said)
    opened = _open(client, conversation_id, headers=service_headers(conversation_id))
    item = _item(client, agent, opened["id"])
    assert item["channel"] == "telegram" and item["customer_id"] == str(stable_id("user", "alice"))
    assert item["overdue"] is False and item["callback_requested"] is False
    created = datetime.fromisoformat(item["created_at"])
    assert datetime.fromisoformat(item["sla_due_at"]) - created == \
        timedelta(seconds=get_settings().handoff_claim_timeout_seconds)
    # The last three customer lines, as stored (redacted), oldest first; long ones cut; at most 300 chars.
    assert item["summary"].startswith("my card <CREDIT_CARD> was charged twice / xxx")
    assert item["summary"].endswith("… / I want to talk to a person")
    assert "hello" not in item["summary"] and len(item["summary"]) <= 300
    # Opening published the handoff on the conversation and the queue.
    assert ("handoff", {"id": opened["id"], "status": "waiting", "overdue": False}) in \
        conversation_events(live, conversation_id)
    assert queue_events(live, opened["id"]) == [{"handoff_id": opened["id"], "status": "waiting", "overdue": False}]


def test_reasons_are_codes_from_the_list(client: TestClient, pg) -> None:
    for reason in ("repeated_fallback", "fraud_escalation"):
        conversation_id = _conversation(pg)
        response = client.post("/v1/handoffs", json={"conversation_id": conversation_id, "reason": reason},
                               headers=service_headers(conversation_id))
        assert response.status_code == 201 and response.json()["reason"] == reason, response.text
    conversation_id = _conversation(pg)
    is_problem(client.post("/v1/handoffs", json={"conversation_id": conversation_id, "reason": "bored"},
                           headers=service_headers(conversation_id)), 422, "unknown_reason")


def test_the_overdue_job_tells_the_customer_once_and_keeps_the_handoff_queued(client: TestClient, alice, agent, pg,
                                                                               live) -> None:
    conversation_id = _conversation(pg)
    handoff_id = _open(client, conversation_id)["id"]
    fresh_one = _open(client, _conversation(pg))["id"]  # not due yet
    settings = get_settings()
    handoffs.expire_overdue(settings=settings)
    assert _item(client, agent, handoff_id)["overdue"] is False  # not due yet
    _make_due(pg, handoff_id)

    # Two workers at once (the stacks run two): each due handoff is marked by exactly one of them.
    with ThreadPoolExecutor(max_workers=2) as pool:
        marked = list(pool.map(lambda _: handoffs.expire_overdue(settings=settings), range(2)))
    assert sum(marked) >= 1
    assert handoffs.expire_overdue(settings=settings) == 0  # idempotent: nothing left to mark

    item = _item(client, agent, handoff_id, "waiting")
    assert (item["status"], item["overdue"]) == ("waiting", True)
    assert _item(client, agent, fresh_one, "waiting")["overdue"] is False
    assert [a for a, _, _ in _audit(pg, handoff_id)] == ["handoff.open", "handoff.overdue"]
    assert _audit(pg, handoff_id)[1][1] == handoffs.SYSTEM_ACTOR

    lines = client.get(f"/v1/conversations/{conversation_id}/transcript", headers=alice).json()["messages"]
    notices = [m for m in lines if m["role"] == "notice"]
    assert [m["text"] for m in notices] == [handoffs.OVERDUE_NOTICE]
    assert "call you back" in notices[0]["text"] and "still here to help" in notices[0]["text"]

    published = conversation_events(live, conversation_id)
    assert ("handoff", {"id": handoff_id, "status": "waiting", "overdue": True}) in published
    assert [d["id"] for name, d in published if name == "message" and d["role"] == "notice"] == [notices[0]["id"]]
    assert queue_events(live, handoff_id)[-1] == {"handoff_id": handoff_id, "status": "waiting", "overdue": True}

    # An overdue handoff is claimed as usual; it stays marked as served late.
    claimed = client.post(f"/v1/handoffs/{handoff_id}/claim", headers=agent)
    assert claimed.status_code == 200 and claimed.json()["status"] == "active" and claimed.json()["overdue"] is True
    assert queue_events(live, handoff_id)[-1] == {"handoff_id": handoff_id, "status": "active", "overdue": True}


def test_a_callback_is_the_owners_to_ask_once(client: TestClient, alice, bob, agent, pg, live) -> None:
    conversation_id = _conversation(pg)
    handoff_id = _open(client, conversation_id)["id"]
    for other in (bob, agent):
        is_problem(client.post(f"/v1/handoffs/{handoff_id}/callback", headers=other), 404, "handoff_not_found")
    is_problem(client.post(f"/v1/handoffs/{handoff_id}/callback", headers=service_headers(conversation_id)), 404)
    first = client.post(f"/v1/handoffs/{handoff_id}/callback", headers=alice)
    assert first.status_code == 200, first.text
    assert first.json()["callback_requested"] is True and first.json()["callback_requested_at"]
    again = client.post(f"/v1/handoffs/{handoff_id}/callback", headers=alice)
    assert again.json()["callback_requested_at"] == first.json()["callback_requested_at"]
    assert [a for a, _, _ in _audit(pg, handoff_id)] == ["handoff.open", "handoff.callback"]
    assert _item(client, agent, handoff_id)["callback_requested"] is True
    lines = client.get(f"/v1/conversations/{conversation_id}/transcript", headers=alice).json()["messages"]
    assert [m["text"] for m in lines if m["role"] == "notice"] == [handoffs.CALLBACK_NOTICE]
    assert len(queue_events(live, handoff_id)) == 2  # opened, callback asked
    is_problem(client.post(f"/v1/handoffs/{uuid.uuid4()}/callback", headers=alice), 404)


def test_the_context_is_what_the_customers_own_endpoints_say(client: TestClient, alice, agent, agent2, pg) -> None:
    conversation_id = _conversation(pg)
    handoff_id = _open(client, conversation_id)["id"]
    is_problem(client.get(f"/v1/handoffs/{handoff_id}/context", headers=agent), 409, "handoff_not_claimed")
    assert client.post(f"/v1/handoffs/{handoff_id}/claim", headers=agent).status_code == 200
    is_problem(client.get(f"/v1/handoffs/{handoff_id}/context", headers=agent2), 403, "not_your_handoff")
    is_problem(client.get(f"/v1/handoffs/{handoff_id}/context", headers=alice), 403, "forbidden_role")
    card = client.get("/v1/cards", headers=alice).json()[0]
    investigating, resolved = uuid.uuid4(), uuid.uuid4()
    pg.execute("INSERT INTO fraud_cases (id, customer_id, kind, card_id, status, card_frozen) "
               "VALUES (%s, %s, 'compromised_card', %s, 'investigating', false), "
               "(%s, %s, 'compromised_card', %s, 'resolved', false)",
               (investigating, stable_id("user", "alice"), card["id"], resolved, stable_id("user", "alice"),
                card["id"]))

    links = [(uuid.uuid4(), "telegram", None), (uuid.uuid4(), "slack", "app")]  # a live link and a revoked one
    for link_id, channel, revoked_by in links:
        pg.execute("INSERT INTO channel_links (id, customer_id, channel, external_id, address, conversation_id, "
                   "revoked_at, revoked_by) VALUES (%s, %s, %s, %s, 'x', %s, "
                   "CASE WHEN %s::text IS NULL THEN NULL ELSE now() END, %s)",
                   (link_id, stable_id("user", "alice"), channel, f"test-{link_id}", conversation_id, revoked_by,
                    revoked_by))
    try:
        response = client.get(f"/v1/handoffs/{handoff_id}/context", headers=agent)
    finally:
        pg.execute("DELETE FROM channel_links WHERE id = ANY(%s)", ([link_id for link_id, _, _ in links],))
    assert response.status_code == 200, response.text
    context = response.json()
    assert [c["channel"] for c in context["channels"]] == ["telegram"]
    me = client.get("/v1/me", headers=alice).json()
    assert context["customer"] == {"id": str(stable_id("user", "alice")), "name": me["full_name"],
                                   "kyc_status": me["kyc_status"]}
    fields = ("id", "name", "type", "currency", "balance", "available")
    assert context["accounts"] == [{k: a[k] for k in fields} for a in client.get("/v1/accounts", headers=alice).json()]
    assert len(context["accounts"]) >= 2
    fields = ("id", "posted_at", "amount", "currency", "merchant", "category", "description")
    recent = client.get("/v1/transactions", headers=alice, params={"limit": 10}).json()["items"]
    assert context["recent_transactions"] == [{k: t[k] for k in fields} for t in recent] and len(recent) == 10
    cards = client.get("/v1/cards", headers=alice).json()
    assert context["cards"] == [{"id": c["id"], "last4": c["last4"], "status": c["status"],
                                 "frozen_reason": c["freeze_reason"]} for c in cards]
    # Open cases only (other tests of the session may have opened some of alice's too).
    open_cases = pg.execute("SELECT id::text FROM fraud_cases WHERE customer_id = %s AND status IN "
                            "('open', 'investigating')", (stable_id("user", "alice"),)).fetchall()
    assert sorted(f["id"] for f in context["fraud_cases"]) == sorted(row[0] for row in open_cases)
    assert str(investigating) in [f["id"] for f in context["fraud_cases"]]
    assert str(resolved) not in [f["id"] for f in context["fraud_cases"]]
    assert [a for a, _, _ in _audit(pg, handoff_id)] == ["handoff.open", "handoff.claim", "handoff.context"]


def test_typing_is_the_holders_and_is_published(client: TestClient, alice, agent, agent2, pg, live) -> None:
    conversation_id, handoff_id = _claimed(client, agent, pg)
    response = client.post(f"/v1/handoffs/{handoff_id}/typing", headers=agent)
    assert response.status_code == 204 and response.content == b""
    assert ("typing", {"role": "agent"}) in conversation_events(live, conversation_id)
    is_problem(client.post(f"/v1/handoffs/{handoff_id}/typing", headers=agent2), 403, "not_your_handoff")
    is_problem(client.post(f"/v1/handoffs/{handoff_id}/typing", headers=alice), 403, "forbidden_role")
    waiting = _open(client, _conversation(pg))["id"]
    is_problem(client.post(f"/v1/handoffs/{waiting}/typing", headers=agent), 409, "handoff_not_claimed")


def test_agent_lines_are_published_as_stored(client: TestClient, agent, pg, live) -> None:
    canaries = fresh(seed=21)
    conversation_id, handoff_id = _claimed(client, agent, pg)
    sent = client.post(f"/v1/handoffs/{handoff_id}/messages", json={"text": f"Is {canaries.email} yours?"},
                       headers=agent)
    assert sent.status_code == 201, sent.text
    messages = [d for name, d in conversation_events(live, conversation_id) if name == "message"]
    assert messages == [{"id": sent.json()["id"], "role": "agent", "text": sent.json()["text"],
                         "sent_at": messages[0]["sent_at"]}]
    assert "<EMAIL_ADDRESS>" in messages[0]["text"] and canaries.email not in json.dumps(messages)
    assert datetime.fromisoformat(messages[0]["sent_at"]) == datetime.fromisoformat(sent.json()["sent_at"])


def test_ingested_lines_are_published_after_their_commit(client: TestClient, pg, live) -> None:
    conversation_id = _conversation(pg)
    now = time.time()
    events = [{"event": "user", "sender_id": conversation_id, "timestamp": now, "text": "hello there",
               "message_id": "live-1"},
              {"event": "bot", "sender_id": conversation_id, "timestamp": now + 1, "text": "Hi! How can I help?"}]
    body = json.dumps({"events": events}).encode()
    stamp = int(time.time())
    posted = internal_client().post("/v1/transcripts/events", content=body, headers={
        "Content-Type": "application/json", "X-Timestamp": str(stamp),
        "X-Signature": sign(get_settings().transcript_ingest_secret, stamp, body)})
    assert posted.status_code == 200 and posted.json()["stored"] == 2, posted.text
    stored = pg.execute("SELECT id, role, text FROM transcript_messages WHERE conversation_id = %s ORDER BY id",
                        (conversation_id,)).fetchall()
    published = [(d["id"], d["role"], d["text"]) for name, d in conversation_events(live, conversation_id)
                 if name == "message"]
    assert published == [tuple(row) for row in stored]
    # Sent again: duplicates are not published again.
    stamp = int(time.time())
    internal_client().post("/v1/transcripts/events", content=body, headers={
        "Content-Type": "application/json", "X-Timestamp": str(stamp),
        "X-Signature": sign(get_settings().transcript_ingest_secret, stamp, body)})
    assert len([1 for name, _ in conversation_events(live, conversation_id) if name == "message"]) == 2


def test_agent_actions_go_through_the_rules_and_the_audit(client: TestClient, alice, bob, agent, agent2, pg) -> None:
    _, handoff_id = _claimed(client, agent, pg)
    card = client.get("/v1/cards", headers=alice).json()[0]
    bobs_card = client.get("/v1/cards", headers=bob).json()[0]
    try:
        is_problem(client.post(f"/v1/handoffs/{handoff_id}/actions/freeze-card", json={"card_id": card["id"]},
                               headers=agent2), 403, "not_your_handoff")
        # Only the handoff's customer's cards: another customer's card is no card at all.
        is_problem(client.post(f"/v1/handoffs/{handoff_id}/actions/freeze-card", json={"card_id": bobs_card["id"]},
                               headers=agent), 404, "card_not_found")
        frozen = client.post(f"/v1/handoffs/{handoff_id}/actions/freeze-card", json={"card_id": card["id"]},
                             headers=agent)
        assert frozen.status_code == 200 and frozen.json()["status"] == "frozen", frozen.text
        assert client.get("/v1/cards", headers=alice).json()[0]["status"] == "frozen"
        actor = pg.execute("SELECT actor FROM audit_log WHERE action = 'card.freeze' AND target_id = %s "
                           "ORDER BY id DESC LIMIT 1", (card["id"],)).fetchone()[0]
        assert actor.startswith("agent (")

        is_problem(client.post(f"/v1/handoffs/{handoff_id}/actions/fraud-case", json={"kind": "made_up"},
                               headers=agent), 422)
        is_problem(client.post(f"/v1/handoffs/{handoff_id}/actions/fraud-case", json={"kind": "compromised_card"},
                               headers=agent), 422, "fraud_subject_missing")
        opened = client.post(f"/v1/handoffs/{handoff_id}/actions/fraud-case",
                             json={"kind": "compromised_card", "card_id": card["id"]}, headers=agent)
        assert opened.status_code == 201, opened.text
        case = opened.json()
        assert (case["customer_id"], case["kind"], case["card_id"], case["status"]) == \
            (str(stable_id("user", "alice")), "compromised_card", card["id"], "open")
        actor = pg.execute("SELECT actor FROM audit_log WHERE action = 'fraud_case.open' AND target_id = %s",
                           (case["id"],)).fetchone()[0]
        assert actor.startswith("agent (")
        assert [a for a, _, _ in _audit(pg, handoff_id)] == ["handoff.open", "handoff.claim", "handoff.freeze_card",
                                                             "handoff.fraud_case"]
    finally:
        pg.execute("UPDATE cards SET status = 'active', freeze_reason = NULL WHERE id = %s", (card["id"],))


def test_canned_replies_are_for_agents(client: TestClient, alice, agent) -> None:
    replies = client.get("/v1/handoffs/canned-replies", headers=agent).json()
    assert {"id", "title", "text"} == set(replies[0]) and len({r["id"] for r in replies}) == len(replies) >= 3
    assert any(r["text"] == "Is there anything else I can help you with?" for r in replies)
    is_problem(client.get("/v1/handoffs/canned-replies", headers=alice), 403, "forbidden_role")


def test_the_event_streams_refuse_before_streaming(client: TestClient, alice, bob, agent, agent2, pg) -> None:
    conversation_id, _ = _claimed(client, agent, pg)
    for outsider in (bob, agent2, login(client, "compliance")):
        is_problem(client.get(f"/v1/conversations/{conversation_id}/events", headers=outsider), 404,
                   "conversation_not_found")
    is_problem(client.get(f"/v1/conversations/{uuid.uuid4()}/events", headers=alice), 404)
    is_problem(client.get(f"/v1/conversations/{conversation_id}/events"), 401)
    is_problem(client.get(f"/v1/conversations/{conversation_id}/events", headers={**alice, "Last-Event-ID": "x;1"}),
               422, "invalid_last_event_id")
    for staff in (alice, login(client, "compliance")):
        is_problem(client.get("/v1/handoffs/events", headers=staff), 403, "forbidden_role")


def test_the_streams_are_bounded_per_process(client: TestClient, alice, pg, monkeypatch) -> None:
    from api.live import views as live_views

    conversation_id = _conversation(pg)
    monkeypatch.setattr(live_views, "_open_streams", get_settings().live_max_streams)
    refused = client.get(f"/v1/conversations/{conversation_id}/events", headers=alice)
    is_problem(refused, 503, "too_many_streams")
    assert refused.headers["retry-after"] == "5"


def test_events_are_published_when_their_transaction_commits(client: TestClient, live) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.orm import Session

    from api.db import get_engine
    from api.live import streams

    settings, key = get_settings(), f"live:conversation:{uuid.uuid4()}"
    with Session(get_engine()) as session:
        streams.publish_after_commit(session, settings, [streams.LiveEvent(key, "typing", {"role": "agent"})])
        with pytest.raises(DBAPIError), session.begin_nested():  # a savepoint's rollback leaves them queued
            session.execute(text("SELECT 1/0"))
        assert live.xlen(key) == 0  # nothing before the commit
        session.commit()
    assert [data for _, _, data in events_of(live, key)] == [{"role": "agent"}]
    assert 0 < live.ttl(key) <= settings.live_stream_ttl_seconds
    with Session(get_engine()) as session:
        session.execute(text("SELECT 1"))
        streams.publish_after_commit(session, settings, [streams.LiveEvent(key, "typing", {"role": "agent"})])
        session.rollback()  # never happened: never published
        session.execute(text("SELECT 1"))
        session.commit()
    assert live.xlen(key) == 1
