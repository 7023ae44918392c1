"""Zero trust between the services, on the real stack: every service listens on loopback only, and knowing a
conversation id (or even holding the action server's token) gives no customer data without the grant the
core puts on a message the customer really sent."""

from __future__ import annotations

import re
import subprocess
import time
import uuid

import httpx
import jwt
import pytest

from api.config import REPO_ROOT
from api.grants import sealing
from scripts import environment
from tests.e2e.conftest import PORTS, STACK_NAME, Stack

pytestmark = pytest.mark.e2e


def _listening(port: int) -> list[str]:
    words = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=True).stdout
    return [word for word in words.split() if word.endswith(f":{port}")]


def _process_env(service: str) -> dict[str, str]:
    """The environment of one of the stack's processes (what an attacker on the host with our uid could read)."""
    pid = (REPO_ROOT / "var" / "run" / STACK_NAME / f"{service}.pid").read_text().strip()
    with open(f"/proc/{pid}/environ", "rb") as environ:
        raw = environ.read()
    return dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)


def _amounts(text: str) -> set[str]:
    return set(re.findall(r"[0-9][0-9,]*\.[0-9]{2}", text))


def _alice_figures(stack: Stack) -> set[str]:
    accounts = httpx.get(f"{stack.core_url}/v1/accounts", headers=stack.login("alice"), timeout=30).json()
    return {f"{float(a[k]):,.2f}" for a in accounts for k in ("balance", "available")}


@pytest.mark.parametrize("service", sorted(PORTS))
def test_every_service_listens_on_loopback_only(stack: Stack, service: str) -> None:
    addresses = _listening(PORTS[service])
    assert addresses and all(a.startswith("127.0.0.1:") for a in addresses), (service, addresses)


def _forged_rasa_message(conversation_id: str, text: str, metadata: dict | None = None) -> str:
    body = {"sender": conversation_id, "message": text, **({"metadata": metadata} if metadata else {})}
    response = httpx.post(f"http://127.0.0.1:{PORTS['rasa']}/webhooks/rest/webhook", json=body, timeout=60)
    assert response.status_code == 200, response.text
    return "\n".join(m.get("text") or "" for m in response.json())


def test_a_forged_rasa_call_for_a_real_conversation_gets_no_balance(stack: Stack) -> None:
    alice = stack.login("alice")
    conversation = stack.chat(alice, "hello")["conversation_id"]
    figures = _alice_figures(stack)
    for metadata in (None, {"grant": "x" * 43}, {"grant": str(uuid.uuid4())}):
        said = _forged_rasa_message(conversation, "what's my balance?", metadata)
        assert said and not (_amounts(said) & figures), (metadata, said)
    # The customer's own message through the core still gets the figures.
    reply = stack.chat(alice, "what's my balance?", conversation)
    assert _amounts("\n".join(m["text"] or "" for m in reply["messages"])) & figures, reply


def test_the_action_token_without_a_grant_gets_nothing(stack: Stack) -> None:
    """Holding the action server's own token and a conversation id of alice's is not enough."""
    token = _process_env("actions")["ACTION_SERVER_TOKEN"]
    conversation = stack.chat(stack.login("alice"), "hello")["conversation_id"]
    figures = _alice_figures(stack)
    for metadata in ({}, {"grant": "x" * 43}):
        latest = {"text": "what's my balance?", "intent": {"name": "check_balance", "confidence": 1.0},
                  "entities": [], "metadata": metadata}
        body = {"next_action": "action_check_balance", "sender_id": conversation, "version": "3.6.21",
                "domain": {}, "tracker": {"sender_id": conversation, "slots": {}, "latest_message": latest,
                                          "events": [], "paused": False, "followup_action": None,
                                          "active_loop": {}, "latest_action_name": "action_listen"}}
        response = httpx.post(f"http://127.0.0.1:{PORTS['actions']}/webhook", json=body,
                              headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert response.status_code == 200, response.text
        assert not (_amounts(response.text) & figures), response.text


def test_the_internal_endpoints_answer_on_the_internal_listener_only(stack: Stack) -> None:
    internal = f"http://127.0.0.1:{PORTS['core-internal']}"
    ingest = f"http://127.0.0.1:{PORTS['core-ingest']}"
    for path in ("/v1/auth/service-token", "/v1/transcripts/events"):
        assert httpx.post(f"{stack.core_url}{path}", json={}, timeout=30).status_code == 404, path
    # The ingest is core-ingest's alone; the token exchange core-internal's alone.
    assert httpx.post(f"{internal}/v1/transcripts/events", json={}, timeout=30).status_code == 404
    assert httpx.post(f"{ingest}/v1/auth/service-token", json={}, timeout=30).status_code == 404
    assert httpx.post(f"{ingest}/v1/transcripts/events", json={"events": []}, timeout=30).status_code == 401
    assert httpx.get(f"{stack.core_url}/metrics/", timeout=30).status_code == 404
    # Every core process's requests are counted on the internal listener (a shared multiprocess directory).
    for _ in range(6):
        assert httpx.get(f"{stack.core_url}/healthz", timeout=30).status_code == 200
    metrics = httpx.get(f"{internal}/metrics/", timeout=30)
    assert metrics.status_code == 200
    line = next(x for x in metrics.text.splitlines()
                if x.startswith('bankbot_http_requests_total{method="GET",route="/healthz",status="200"}'))
    assert float(line.rsplit(" ", 1)[1]) >= 6, line
    assert httpx.post(f"{internal}/v1/auth/service-token", json={}, timeout=30).status_code == 422


def _latest_user_metadata(conversation: str) -> dict:
    """The metadata of the conversation's latest customer message, as Rasa's tracker holds it."""
    token = environment.value("RASA_API_TOKEN")
    tracker = httpx.get(f"http://127.0.0.1:{PORTS['rasa']}/conversations/{conversation}/tracker",
                        params={"token": token}, timeout=30).json()
    users = [e for e in tracker["events"] if e.get("event") == "user"]
    return users[-1].get("metadata") or {}


def test_the_sealed_service_token_opens_for_its_conversation_and_secret_only(stack: Stack) -> None:
    """The token the core seals with a message (api/grants/sealing.py) is the grant's trade done ahead: the
    action server's client secret opens it for that conversation, nothing else does, and it acts for that
    conversation's customer only."""
    secret = _process_env("actions")["SERVICE_CLIENT_SECRET"]
    alice_conversation = stack.chat(stack.login("alice"), "hello")["conversation_id"]
    bob_conversation = stack.chat(stack.login("bob"), "hello")["conversation_id"]
    sealed = _latest_user_metadata(alice_conversation)["service_token"]
    now = time.time()
    token = sealing.open_sealed(client_secret=secret, conversation_id=alice_conversation, sealed=sealed, now=now)
    assert token is not None
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["cnv"] == alice_conversation and claims["roles"] == ["service"] and claims["gsq"] >= 1, claims
    assert sealing.open_sealed(client_secret=secret, conversation_id=bob_conversation, sealed=sealed, now=now) is None
    assert sealing.open_sealed(client_secret=secret + "x", conversation_id=alice_conversation, sealed=sealed,
                               now=now) is None
    accounts = httpx.get(f"{stack.core_url}/v1/accounts", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert accounts.status_code == 200, accounts.text
    figures = {f"{float(a[k]):,.2f}" for a in accounts.json() for k in ("balance", "available")}
    assert figures == _alice_figures(stack)


def test_a_sealed_token_replayed_in_another_conversation_gets_nothing(stack: Stack) -> None:
    """Alice's sealed token copied into a forged Rasa call for bob's conversation opens nothing there."""
    alice_conversation = stack.chat(stack.login("alice"), "hello")["conversation_id"]
    bob_conversation = stack.chat(stack.login("bob"), "hello")["conversation_id"]
    sealed = _latest_user_metadata(alice_conversation)["service_token"]
    figures = _alice_figures(stack)
    said = _forged_rasa_message(bob_conversation, "what's my balance?", {"service_token": sealed})
    assert said and not (_amounts(said) & figures), said


def _core_calls(path: str) -> float:
    text = httpx.get(f"http://127.0.0.1:{PORTS['actions']}/metrics", timeout=10).text
    prefix = f'action_core_call_seconds_count{{path="{path}"}}'
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix))


def test_a_message_through_the_core_needs_no_trade(stack: Stack) -> None:
    """The action server opens the sealed token: no round trip to core-internal for the customer's message."""
    alice = stack.login("alice")
    conversation = stack.chat(alice, "hello")["conversation_id"]
    trades, reads = _core_calls("/v1/auth/service-token"), _core_calls("/v1/accounts")
    reply = stack.chat(alice, "what's my balance?", conversation)
    assert _amounts("\n".join(m["text"] or "" for m in reply["messages"])) & _alice_figures(stack), reply
    assert _core_calls("/v1/accounts") > reads
    assert _core_calls("/v1/auth/service-token") == trades
