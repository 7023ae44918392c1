"""One chat turn is followed by one id: the core's, Rasa's and the action server's logs, and the metrics.

The client sends X-Request-ID; the core relays it to Rasa as `metadata.request_id`; Rasa's REST channel
binds it for its log lines; the action server binds it from the tracker's latest message and sends it to
the core as X-Request-ID. Each service's log under var/log/ (scripts/stack.py) must then name it.
"""

from __future__ import annotations

import time
import uuid

import httpx
import psycopg

from scripts.stack import log_path
from tests.e2e.conftest import PORTS, STACK_NAME, Stack

SERVICES = ("core", "rasa", "actions")
BALANCE_TURNS = 'bankbot_chat_turn_seconds_count{intent="check_balance"}'


def _logs_naming(request_id: str, deadline_seconds: float = 60) -> dict[str, list[str]]:
    """Each service's log lines that carry the id (the logs are written asynchronously: wait a little)."""
    found: dict[str, list[str]] = {}
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        found = {service: [line for line in log_path(STACK_NAME, service).read_text(errors="replace").splitlines()
                           if request_id in line] for service in SERVICES}
        if all(found.values()):
            break
        time.sleep(0.5)
    return found


def _sample(text: str, prefix: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix))


def test_one_request_id_through_core_rasa_and_actions(stack: Stack) -> None:
    headers = stack.login("alice")
    request_id = f"e2e-corr-{uuid.uuid4().hex}"
    internal = f"http://127.0.0.1:{PORTS['core-internal']}/metrics/"
    turns_before = _sample(httpx.get(internal, timeout=10).text, BALANCE_TURNS)

    response = httpx.post(f"{stack.core_url}/v1/chat/messages", json={"text": "what's my balance?"},
                          headers={**headers, "X-Request-ID": request_id}, timeout=60)
    assert response.status_code == 200, response.text
    assert response.headers["x-request-id"] == request_id
    timing = dict(part.strip().split(";dur=") for part in response.headers["server-timing"].split(","))
    assert {"db", "grant", "rasa", "total"} <= set(timing) and float(timing["total"]) >= float(timing["rasa"])

    found = _logs_naming(request_id)
    assert all(found.values()), {service: len(lines) for service, lines in found.items()}
    assert any('"chat_turn"' in line for line in found["core"]), found["core"]
    assert any("action_check_balance" in line for line in found["actions"]), found["actions"]
    assert any("message received for conversation" in line for line in found["rasa"]), found["rasa"]
    # What was asked is in none of them (the ids and timings are).
    assert not any("balance?" in line for lines in found.values() for line in lines)

    # The action server timed the action and its calls to the core.
    actions = httpx.get(f"http://127.0.0.1:{PORTS['actions']}/metrics", timeout=10).text
    assert _sample(actions, 'action_run_seconds_count{action="action_check_balance"}') >= 1
    assert _sample(actions, 'action_core_call_seconds_count{path="/v1/accounts"}') >= 1
    # Rasa timed its parts of the turn (bot/bankbot_timing.py).
    rasa = httpx.get(f"http://127.0.0.1:{PORTS['rasa']}/webhooks/rest/metrics", timeout=10).text
    for phase in ("turn", "nlu", "policies", "actions", "tracker_load", "tracker_save"):
        assert _sample(rasa, f'rasa_phase_seconds_count{{phase="{phase}"}}') >= 1, phase
    # The turn's latency met its intent (chat path and transcript ingest, two processes, one directory).
    deadline = time.monotonic() + 60  # the transcript ingest can lag under load (it is off the turn path)
    while time.monotonic() < deadline:
        metrics = httpx.get(internal, timeout=10).text
        if _sample(metrics, BALANCE_TURNS) > turns_before:
            break
        time.sleep(0.5)
    assert _sample(metrics, BALANCE_TURNS) == turns_before + 1
    assert _sample(metrics, 'bankbot_chat_phase_seconds_count{phase="rasa"}') >= 1


def test_the_actions_calls_to_the_core_carry_the_turns_id(stack: Stack) -> None:
    """The core records the request id of what it does (audit_log.correlation_id): a transfer confirmed in
    the chat is recorded under the id of the customer's "yes", which only the action server's call carried."""
    headers = stack.login("alice")
    asked = stack.chat(headers, "send 1 euro from my checking account to my savings account")
    assert "confirm" in " ".join(m["text"] or "" for m in asked["messages"]).lower(), asked
    request_id = f"e2e-corr-{uuid.uuid4().hex}"
    response = httpx.post(f"{stack.core_url}/v1/chat/messages",
                          json={"text": "yes", "conversation_id": asked["conversation_id"]},
                          headers={**headers, "X-Request-ID": request_id}, timeout=60)
    assert response.status_code == 200, response.text
    with psycopg.connect(stack.database_url) as conn:
        actions = [row[0] for row in conn.execute(
            "SELECT action FROM audit_log WHERE correlation_id = %s", (request_id,)).fetchall()]
    assert "transfer.create" in actions, (actions, response.json())
