"""The action server answers only Rasa: loopback only, and a bearer token on every action call."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import PORTS, Stack

pytestmark = pytest.mark.e2e


def _forged_balance_call(token: str | None, raw_header: bytes | None = None) -> httpx.Response:
    body = {"next_action": "action_check_balance", "sender_id": "any-conversation-id", "version": "3.6.21",
            "domain": {}, "tracker": {"sender_id": "any-conversation-id", "slots": {}, "latest_message": {},
                                      "events": [], "paused": False, "followup_action": None, "active_loop": {},
                                      "latest_action_name": "action_listen"}}
    headers: dict[str, str | bytes] = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if raw_header is not None:
        headers["Authorization"] = raw_header
    return httpx.post(f"http://127.0.0.1:{PORTS['actions']}/webhook", json=body, headers=headers, timeout=30)


def test_a_forged_action_call_gets_nothing(stack: Stack) -> None:
    for response in (_forged_balance_call(None), _forged_balance_call("not-the-token"),
                     _forged_balance_call(None, raw_header="Bearer caf\u00e9".encode())):
        assert response.status_code == 401, response.text
        assert "balance" not in response.text.lower() and "€" not in response.text
    assert httpx.get(f"http://127.0.0.1:{PORTS['actions']}/health", timeout=30).status_code == 200


def test_rasa_still_reaches_the_actions(stack: Stack) -> None:
    reply = stack.chat(stack.login("alice"), "what's my balance?")
    assert "€" in "\n".join(m["text"] or "" for m in reply["messages"]), reply
