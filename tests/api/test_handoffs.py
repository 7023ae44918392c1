"""The live handoff in process: roles, claims, agent messages redacted, transcript access, audit.

Releasing needs Rasa (a `resume` event): its success path is in tests/e2e/test_handoff.py; here Rasa is
unreachable, which is the failure path (503, the handoff stays active).
"""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.auth.security import hash_password
from data.seed import stable_id
from tests.api.helpers import is_problem, service_headers
from tests.canaries import fresh
from tests.conftest import login

AGENT_ID = stable_id("user", "agent")


@pytest.fixture(scope="module")
def agent(client: TestClient) -> dict[str, str]:
    return login(client, "agent")


@pytest.fixture(scope="module")
def agent2(client: TestClient, pg_module: psycopg.Connection) -> dict[str, str]:
    """A second support agent, to show that one agent's handoff is not every agent's."""
    pg_module.execute("INSERT INTO users (id, username, password_hash, full_name, roles) "
                      "VALUES (%s, 'agent2', %s, 'Second Agent', ARRAY['agent']) ON CONFLICT (username) DO NOTHING",
                      (uuid.uuid4(), hash_password("demo-password")))
    return login(client, "agent2")


@pytest.fixture(scope="module")
def compliance(client: TestClient) -> dict[str, str]:
    return login(client, "compliance")


def _conversation(pg, username: str = "alice") -> str:
    conversation_id = uuid.uuid4()
    pg.execute("INSERT INTO conversations (id, customer_id) VALUES (%s, %s)",
               (conversation_id, stable_id("user", username)))
    return str(conversation_id)


def _service(client: TestClient, conversation_id: str) -> dict[str, str]:
    """The action server's token for one conversation (what action_request_human uses)."""
    return service_headers(conversation_id)


def _open(client: TestClient, conversation_id: str, status: int = 201, headers=None) -> dict:
    response = client.post("/v1/handoffs", json={"conversation_id": conversation_id},
                           headers=headers or _service(client, conversation_id))
    assert response.status_code == status, response.text
    return response.json()


def _claimed(client: TestClient, agent, pg) -> tuple[str, str]:
    conversation_id = _conversation(pg)
    handoff_id = _open(client, conversation_id)["id"]
    assert client.post(f"/v1/handoffs/{handoff_id}/claim", headers=agent).status_code == 200
    return conversation_id, handoff_id


def _audit(pg, handoff_id: str) -> list[tuple[str, str, dict]]:
    return [(r[0], r[1], r[2]) for r in pg.execute(
        "SELECT action, actor, details FROM audit_log WHERE target_type = 'handoff' AND target_id = %s ORDER BY id",
        (handoff_id,)).fetchall()]


def _status(pg, handoff_id: str) -> tuple[str, uuid.UUID | None]:
    return pg.execute("SELECT status, agent_id FROM handoffs WHERE id = %s", (handoff_id,)).fetchone()


def test_the_assistant_opens_a_handoff_once(client: TestClient, pg) -> None:
    conversation_id, other = _conversation(pg), _conversation(pg)
    service = _service(client, conversation_id)
    first = _open(client, conversation_id, 201, service)
    assert first["status"] == "waiting" and first["conversation_id"] == conversation_id
    assert first["reason"] == "customer_request"
    again = _open(client, conversation_id, 200, service)
    assert again["id"] == first["id"]
    audit = _audit(pg, first["id"])
    assert [a for a, _, _ in audit] == ["handoff.open"]
    assert audit[0][1].startswith("service:action-server for ")
    # Same customer, another conversation: the token does not reach it.
    is_problem(client.post("/v1/handoffs", json={"conversation_id": other}, headers=service), 404)
    # The service cannot act as an agent either.
    is_problem(client.post(f"/v1/handoffs/{first['id']}/claim", headers=service), 403, "forbidden_role")


def test_the_customer_opens_one_for_their_own_conversation(client: TestClient, alice, bob, agent, compliance,
                                                            pg) -> None:
    conversation_id = _conversation(pg)
    opened = _open(client, conversation_id, 201, alice)
    assert opened["status"] == "waiting"
    assert _open(client, conversation_id, 200, _service(client, conversation_id))["id"] == opened["id"]
    assert _audit(pg, opened["id"])[0][1].startswith("alice (")
    # Someone else's conversation looks like a missing one; staff do not open handoffs.
    is_problem(client.post("/v1/handoffs", json={"conversation_id": conversation_id}, headers=bob), 404,
               "conversation_not_found")
    is_problem(client.post("/v1/handoffs", json={"conversation_id": str(uuid.uuid4())}, headers=alice), 404)
    for staff in (agent, compliance):
        is_problem(client.post("/v1/handoffs", json={"conversation_id": conversation_id}, headers=staff), 403)
    assert pg.execute("SELECT count(*) FROM handoffs WHERE conversation_id = %s",
                      (conversation_id,)).fetchone()[0] == 1


def test_concurrent_opens_make_one_handoff(client: TestClient, pg) -> None:
    conversation_id = _conversation(pg)
    service = _service(client, conversation_id)
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda _: client.post("/v1/handoffs", json={"conversation_id": conversation_id},
                                                        headers=service), range(6)))
    assert sorted(r.status_code for r in responses) == [200] * 5 + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert pg.execute("SELECT count(*) FROM handoffs WHERE conversation_id = %s",
                      (conversation_id,)).fetchone()[0] == 1


def test_agent_endpoints_are_for_agents_only(client: TestClient, alice, compliance, pg) -> None:
    handoff_id = _open(client, _conversation(pg))["id"]
    for headers in (alice, compliance):
        is_problem(client.get("/v1/handoffs", headers=headers), 403, "forbidden_role")
        is_problem(client.post(f"/v1/handoffs/{handoff_id}/claim", headers=headers), 403, "forbidden_role")
        is_problem(client.post(f"/v1/handoffs/{handoff_id}/messages", json={"text": "hi"}, headers=headers), 403)
        is_problem(client.post(f"/v1/handoffs/{handoff_id}/release", headers=headers), 403)
    is_problem(client.get("/v1/handoffs"), 401)
    assert _status(pg, handoff_id) == ("waiting", None)


def test_claiming_and_the_queue(client: TestClient, agent, agent2, pg) -> None:
    conversation_id = _conversation(pg)
    handoff_id = _open(client, conversation_id)["id"]
    waiting = {h["id"]: h for h in client.get("/v1/handoffs", params={"status": "waiting"}, headers=agent2).json()}
    assert waiting[handoff_id]["customer_name"] == "Alice Martin"
    assert waiting[handoff_id]["waiting_seconds"] >= 0 and waiting[handoff_id]["mine"] is False

    claimed = client.post(f"/v1/handoffs/{handoff_id}/claim", headers=agent)
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["status"] == "active" and claimed.json()["mine"] is True
    assert claimed.json()["claimed_at"] is not None
    assert client.post(f"/v1/handoffs/{handoff_id}/claim", headers=agent).status_code == 200  # again: fine
    is_problem(client.post(f"/v1/handoffs/{handoff_id}/claim", headers=agent2), 409, "handoff_taken")
    assert _status(pg, handoff_id) == ("active", AGENT_ID)
    assert [a for a, _, _ in _audit(pg, handoff_id)] == ["handoff.open", "handoff.claim"]  # the re-claim: no-op

    mine = {h["id"] for h in client.get("/v1/handoffs", headers=agent).json()}
    theirs = {h["id"] for h in client.get("/v1/handoffs", headers=agent2).json()}
    assert handoff_id in mine and handoff_id not in theirs
    assert handoff_id in {h["id"] for h in client.get("/v1/handoffs", params={"status": "active"},
                                                      headers=agent).json()}
    assert handoff_id not in {h["id"] for h in client.get("/v1/handoffs", params={"status": "waiting"},
                                                          headers=agent).json()}


def test_only_the_assigned_agent_writes_and_releases(client: TestClient, agent, agent2, pg) -> None:
    conversation_id = _conversation(pg)
    handoff_id = _open(client, conversation_id)["id"]
    # Nobody writes into a handoff that is not claimed yet.
    is_problem(client.post(f"/v1/handoffs/{handoff_id}/messages", json={"text": "hello"}, headers=agent), 409,
               "handoff_not_claimed")
    is_problem(client.post(f"/v1/handoffs/{handoff_id}/release", headers=agent), 409, "handoff_not_claimed")
    client.post(f"/v1/handoffs/{handoff_id}/claim", headers=agent)
    is_problem(client.post(f"/v1/handoffs/{handoff_id}/messages", json={"text": "hello"}, headers=agent2), 403,
               "not_your_handoff")
    is_problem(client.post(f"/v1/handoffs/{handoff_id}/release", headers=agent2), 403, "not_your_handoff")
    assert pg.execute("SELECT count(*) FROM transcript_messages WHERE conversation_id = %s",
                      (conversation_id,)).fetchone()[0] == 0
    assert _status(pg, handoff_id) == ("active", AGENT_ID)


def test_release_without_rasa_is_503_and_the_handoff_stays_active(client: TestClient, agent, pg) -> None:
    _, handoff_id = _claimed(client, agent, pg)
    is_problem(client.post(f"/v1/handoffs/{handoff_id}/release", headers=agent), 503, "assistant_unavailable")
    assert _status(pg, handoff_id) == ("active", AGENT_ID)
    assert "handoff.release" not in [a for a, _, _ in _audit(pg, handoff_id)]
    # Still the agent's to work on.
    sent = client.post(f"/v1/handoffs/{handoff_id}/messages", json={"text": "one moment please"}, headers=agent)
    assert sent.status_code == 201, sent.text


def test_agent_messages_are_stored_redacted(client: TestClient, alice, agent, pg) -> None:
    canaries = fresh()
    conversation_id, handoff_id = _claimed(client, agent, pg)
    card = " ".join(canaries.card[i:i + 4] for i in range(0, 16, 4))
    text = f"Hello Alice Martin, I see the card {card} and your address {canaries.email} on file."
    response = client.post(f"/v1/handoffs/{handoff_id}/messages", json={"text": text}, headers=agent)
    assert response.status_code == 201, response.text
    line = response.json()
    assert line["role"] == "agent"
    for tag in ("<PERSON>", "<CREDIT_CARD>", "<EMAIL_ADDRESS>"):
        assert tag in line["text"], line
    assert {"PERSON", "CREDIT_CARD", "EMAIL_ADDRESS"} <= set(line["entity_types"])

    stored_text, role, agent_id = pg.execute(
        "SELECT text, role, agent_id FROM transcript_messages WHERE id = %s", (line["id"],)).fetchone()
    assert (role, agent_id) == ("agent", AGENT_ID) and stored_text == line["text"]
    everything = json.dumps(pg.execute(
        "SELECT t.text, t.sealed, a.details FROM transcript_messages t, audit_log a "
        "WHERE t.conversation_id = %s AND a.target_id = %s", (conversation_id, handoff_id)).fetchall(), default=str)
    for spelling in (canaries.card, card, canaries.email, "Alice Martin"):
        assert spelling not in everything, spelling
    message_audit = [d for a, _, d in _audit(pg, handoff_id) if a == "handoff.message"]
    assert message_audit == [{"message_id": line["id"], "entity_types": line["entity_types"]}]

    # The customer reads the stored (redacted) line, and can poll for what is new.
    transcript = client.get(f"/v1/conversations/{conversation_id}/transcript", headers=alice).json()
    assert [(m["role"], m["text"]) for m in transcript["messages"]] == [("agent", line["text"])]
    assert transcript["handoff"] == {"id": handoff_id, "status": "active"}
    later = client.post(f"/v1/handoffs/{handoff_id}/messages", json={"text": "Anything else?"}, headers=agent).json()
    polled = client.get(f"/v1/conversations/{conversation_id}/transcript", params={"after": line["id"]},
                        headers=alice).json()["messages"]
    assert [(m["id"], m["text"]) for m in polled] == [(later["id"], "Anything else?")]
    assert client.get(f"/v1/conversations/{conversation_id}/transcript", params={"after": later["id"]},
                      headers=alice).json()["messages"] == []


def test_transcript_access_follows_the_assignment(client: TestClient, alice, agent, agent2, compliance, pg) -> None:
    conversation_id = _conversation(pg)
    path = f"/v1/conversations/{conversation_id}/transcript"
    handoff_id = _open(client, conversation_id)["id"]
    # Waiting: no agent reads it yet, not even the one who will claim it.
    is_problem(client.get(path, headers=agent), 404)
    client.post(f"/v1/handoffs/{handoff_id}/claim", headers=agent)
    assert client.get(path, headers=agent).status_code == 200
    is_problem(client.get(path, headers=agent2), 404, "conversation_not_found")
    assert client.get(path, headers=compliance).status_code == 200
    assert client.get(path, headers=alice).status_code == 200
    # Once the handoff is released (closed) the agent who held it reads the conversation no more;
    # compliance and the customer still do.
    pg.execute("UPDATE handoffs SET status = 'closed', closed_at = now() WHERE id = %s", (handoff_id,))
    is_problem(client.get(path, headers=agent), 404, "conversation_not_found")
    is_problem(client.get(path, headers=agent2), 404)
    assert client.get(path, headers=compliance).json()["handoff"] == {"id": handoff_id, "status": "closed"}
    assert client.get(path, headers=alice).status_code == 200
    # ... and writes nothing more into it.
    is_problem(client.post(f"/v1/handoffs/{handoff_id}/messages", json={"text": "hi"}, headers=agent), 409,
               "handoff_closed")
    is_problem(client.post(f"/v1/handoffs/{handoff_id}/claim", headers=agent2), 409, "handoff_closed")
    closed = client.get("/v1/handoffs", params={"status": "closed"}, headers=agent).json()
    assert handoff_id in {h["id"] for h in closed}
    # A new handoff of the same conversation can be opened once the last one is closed.
    assert _open(client, conversation_id, 201)["id"] != handoff_id


def test_bad_inputs_are_problems(client: TestClient, alice, agent, pg) -> None:
    conversation_id, handoff_id = _claimed(client, agent, pg)
    messages = f"/v1/handoffs/{handoff_id}/messages"
    for body in ({"text": ""}, {"text": "   "}, {"text": "x" * 2001}, {}, {"text": 5}):
        is_problem(client.post(messages, json=body, headers=agent), 422)
    is_problem(client.post(messages, content=b"{not json", headers={**agent, "Content-Type": "application/json"}),
               400)
    secret_reason = f"card {fresh().card}"
    refused = is_problem(client.post("/v1/handoffs", json={"conversation_id": conversation_id,
                                                            "reason": secret_reason}, headers=alice), 422)
    assert secret_reason not in json.dumps(refused)  # validation errors never echo the input
    is_problem(client.post("/v1/handoffs", json={"conversation_id": "not-a-uuid"}, headers=alice), 422)
    is_problem(client.post(f"/v1/handoffs/{uuid.uuid4()}/claim", headers=agent), 404, "handoff_not_found")
    is_problem(client.post(f"/v1/handoffs/{uuid.uuid4()}/messages", json={"text": "hi"}, headers=agent), 404)
    is_problem(client.post(f"/v1/handoffs/{uuid.uuid4()}/release", headers=agent), 404)
    is_problem(client.post("/v1/handoffs/not-a-uuid/claim", headers=agent), 422)
    is_problem(client.get("/v1/handoffs", params={"status": "lost"}, headers=agent), 422)
    is_problem(client.get("/v1/handoffs", params={"limit": 0}, headers=agent), 422)
    is_problem(client.get(f"/v1/conversations/{conversation_id}/transcript", params={"after": -1}, headers=alice),
               422)
    assert pg.execute("SELECT count(*) FROM transcript_messages WHERE conversation_id = %s",
                      (conversation_id,)).fetchone()[0] == 0


def test_the_database_keeps_one_open_handoff_and_no_free_text_reason(client: TestClient, pg) -> None:
    conversation_id = _conversation(pg)
    _open(client, conversation_id)
    insert = ("INSERT INTO handoffs (id, conversation_id, customer_id, status, reason) "
              "VALUES (gen_random_uuid(), %s, %s, 'waiting', %s)")
    with pytest.raises(psycopg.errors.UniqueViolation):
        pg.execute(insert, (conversation_id, stable_id("user", "alice"), "customer_request"))
    with pytest.raises(psycopg.errors.CheckViolation):
        pg.execute(insert, (_conversation(pg), stable_id("user", "alice"), "my pin is 1234"))
    with pytest.raises(psycopg.errors.CheckViolation):  # active needs an agent
        pg.execute("UPDATE handoffs SET status = 'active' WHERE conversation_id = %s", (conversation_id,))


def test_the_agent_console_is_served_with_a_strict_policy(client: TestClient) -> None:
    page = client.get("/console")
    assert page.status_code == 200 and "Agent console" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    script = client.get("/static/console.js")
    assert script.status_code == 200 and "/v1/handoffs" in script.text
    assert "innerHTML" not in script.text  # customer and agent text is data, never markup
