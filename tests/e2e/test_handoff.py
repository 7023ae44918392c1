"""The live handoff on the real stack: the bot pauses, an agent answers, the bot takes over again."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import psycopg
import pytest
import redis

from api.config import REPO_ROOT
from scripts import environment
from tests.canaries import fresh
from tests.e2e.conftest import REDIS_URL, TRACKER_DB, Stack

pytestmark = pytest.mark.e2e
WAIT_SECONDS = 60  # the event broker delivers asynchronously


def _text(reply: dict) -> str:
    return "\n".join(m["text"] or "" for m in reply["messages"])


def transcript(stack: Stack, headers, conversation_id: str, after: int | None = None) -> dict:
    params = {"after": after} if after is not None else {}
    response = httpx.get(f"{stack.core_url}/v1/conversations/{conversation_id}/transcript", headers=headers,
                         params=params, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def wait_for(fetch: Callable[[], Any], done: Callable[[Any], bool], what: str) -> Any:
    """Poll until `done(fetch())`, or fail after WAIT_SECONDS saying what never happened."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        value = fetch()
        if done(value):
            return value
        assert time.monotonic() < deadline, f"{what} did not happen within {WAIT_SECONDS}s: {value}"
        time.sleep(0.3)


def post(stack: Stack, headers, path: str, **kwargs) -> httpx.Response:
    return httpx.post(f"{stack.core_url}{path}", headers=headers, timeout=60, **kwargs)


def test_handoff_round_trip(stack: Stack) -> None:
    alice, agent = stack.login("alice"), stack.login("agent")
    canaries = fresh()

    # The customer asks for a person: the bot says a colleague will join and goes quiet.
    asked = stack.chat(alice, "I want to talk to a person")
    conversation_id = asked["conversation_id"]
    assert "colleague" in _text(asked) and "keep typing" in _text(asked), asked
    assert asked["handoff"]["status"] == "waiting", asked
    handoff_id = asked["handoff"]["id"]

    card = " ".join(canaries.card[i:i + 4] for i in range(0, 16, 4))
    quiet = stack.chat(alice, f"my card number is {card}, what's my balance?", conversation_id)
    assert quiet["messages"] == [], quiet  # paused: not even a balance question is answered
    assert quiet["handoff"] == {"id": handoff_id, "status": "waiting"}
    lines = wait_for(lambda: transcript(stack, alice, conversation_id)["messages"],
                     lambda ms: any("<CREDIT_CARD>" in m["text"] for m in ms if m["role"] == "user"),
                     "the paused message reaching the transcript")
    assert not any(canaries.card in m["text"] or card in m["text"] for m in lines)

    # An agent finds it in the queue and claims it; only then can the agent read the conversation.
    queue = httpx.get(f"{stack.core_url}/v1/handoffs", headers=agent, timeout=30).json()
    mine = next(h for h in queue if h["id"] == handoff_id)
    assert (mine["status"], mine["conversation_id"], mine["customer_name"]) == ("waiting", conversation_id,
                                                                                 "Alice Martin")
    claimed = post(stack, agent, f"/v1/handoffs/{handoff_id}/claim")
    assert claimed.status_code == 200 and claimed.json()["status"] == "active", claimed.text
    seen_by_agent = transcript(stack, agent, conversation_id)
    assert any("<CREDIT_CARD>" in m["text"] for m in seen_by_agent["messages"])
    assert seen_by_agent["handoff"] == {"id": handoff_id, "status": "active"}

    # The agent writes; the customer reads the stored, redacted line by polling after the last id.
    cursor = max(m["id"] for m in transcript(stack, alice, conversation_id)["messages"])
    sent = post(stack, agent, f"/v1/handoffs/{handoff_id}/messages",
                json={"text": f"Hi Alice Martin, I'll look at that card. Is {canaries.email} still your e-mail?"})
    assert sent.status_code == 201, sent.text
    assert "<EMAIL_ADDRESS>" in sent.json()["text"] and canaries.email not in sent.json()["text"]
    new = wait_for(lambda: transcript(stack, alice, conversation_id, after=cursor)["messages"],
                   lambda ms: any(m["role"] == "agent" for m in ms), "the agent's line reaching the customer")
    assert [m["text"] for m in new if m["role"] == "agent"] == [sent.json()["text"]]

    # The customer answers the agent: the bot stays quiet, the line reaches the agent.
    assert stack.chat(alice, "yes it is", conversation_id)["messages"] == []
    wait_for(lambda: transcript(stack, agent, conversation_id, after=sent.json()["id"])["messages"],
             lambda ms: [m["text"] for m in ms if m["role"] == "user"] == ["yes it is"],
             "the answer reaching the agent")

    # The agent hands back; the bot answers again in the same conversation.
    released = post(stack, agent, f"/v1/handoffs/{handoff_id}/release")
    assert released.status_code == 200 and released.json()["status"] == "closed", released.text
    assert transcript(stack, alice, conversation_id)["handoff"] == {"id": handoff_id, "status": "closed"}
    balance = stack.chat(alice, "what's my balance?", conversation_id)
    assert balance["handoff"] is None
    assert "€" in _text(balance), balance

    with psycopg.connect(stack.database_url) as conn:
        actions = [r[0] for r in conn.execute("SELECT action FROM audit_log WHERE target_type = 'handoff' "
                                              "AND target_id = %s ORDER BY id", (handoff_id,))]
    assert actions == ["handoff.open", "handoff.claim", "handoff.message", "handoff.release"]
    # Rasa's API token travels in a query string: it must not reach a log.
    token = environment.value("RASA_API_TOKEN")  # what the stack gave Rasa
    logs = [p for p in (REPO_ROOT / "var" / "log").rglob("*") if p.is_file() and token in p.read_text(errors="replace")]
    assert not logs, logs


def test_a_handoff_opened_from_the_app_pauses_the_bot(stack: Stack) -> None:
    """POST /v1/handoffs by the customer: the core pauses the bot itself; customers cannot work handoffs."""
    alice, agent = stack.login("alice"), stack.login("agent")
    conversation_id = stack.chat(alice, "hello")["conversation_id"]
    opened = post(stack, alice, "/v1/handoffs", json={"conversation_id": conversation_id})
    assert opened.status_code == 201, opened.text
    handoff_id = opened.json()["id"]
    again = post(stack, alice, "/v1/handoffs", json={"conversation_id": conversation_id})
    assert again.status_code == 200 and again.json()["id"] == handoff_id
    quiet = stack.chat(alice, "what's my balance?", conversation_id)
    assert quiet["messages"] == [] and quiet["handoff"] == {"id": handoff_id, "status": "waiting"}, quiet

    assert post(stack, alice, f"/v1/handoffs/{handoff_id}/claim").status_code == 403
    assert httpx.get(f"{stack.core_url}/v1/handoffs", headers=alice, timeout=30).status_code == 403
    assert post(stack, agent, f"/v1/handoffs/{handoff_id}/claim").status_code == 200
    assert post(stack, agent, f"/v1/handoffs/{handoff_id}/release").status_code == 200
    assert "€" in _text(stack.chat(alice, "what's my balance?", conversation_id))


def test_the_bot_stays_quiet_when_its_tracker_expires_during_a_handoff(stack: Stack) -> None:
    """Rasa forgets a conversation after an hour (Redis expiry; a new session also unpauses). The core, not
    Rasa's pause flag, decides: while the handoff is open a message is only logged, never answered."""
    alice, agent = stack.login("alice"), stack.login("agent")
    asked = stack.chat(alice, "I want to talk to a person")
    conversation_id, handoff_id = asked["conversation_id"], asked["handoff"]["id"]
    tracker_store = redis.Redis.from_url(f"{REDIS_URL.rsplit('/', 1)[0]}/{TRACKER_DB}")
    assert tracker_store.delete(f"bankbot:tracker:{conversation_id}") == 1  # as if record_exp had passed

    quiet = stack.chat(alice, "what's my balance?", conversation_id)
    assert quiet["messages"] == [] and quiet["handoff"] == {"id": handoff_id, "status": "waiting"}, quiet
    wait_for(lambda: transcript(stack, alice, conversation_id)["messages"],
             lambda ms: any(m["role"] == "user" and m["text"] == "what's my balance?" for m in ms),
             "the message logged on the new tracker reaching the transcript")
    assert post(stack, agent, f"/v1/handoffs/{handoff_id}/claim").status_code == 200
    assert post(stack, agent, f"/v1/handoffs/{handoff_id}/release").status_code == 200
    assert "€" in _text(stack.chat(alice, "what's my balance?", conversation_id))
