"""action_request_human: the core opens a handoff for this conversation and the bot pauses; if the core
cannot, the customer gets the support contacts and the bot keeps answering."""

from __future__ import annotations

import pytest

from actions.handoff import ActionRequestHuman
from actions_tests.conftest import Core
from actions_tests.support import covers, run, tracker

pytestmark = [pytest.mark.anyio, covers(ActionRequestHuman)]


async def test_asking_for_a_person_opens_a_handoff_and_pauses(core: Core, alice: str, domain: dict) -> None:
    assert core.get("alice", f"/v1/conversations/{alice}/transcript")["handoff"] is None
    out = await run(ActionRequestHuman(), tracker(alice, "I want to talk to a person", "request_human"), domain)
    assert out.responses == ["utter_handoff_started"]
    assert out.kinds() == ["pause"]
    handoff = core.get("alice", f"/v1/conversations/{alice}/transcript")["handoff"]
    assert handoff is not None and handoff["status"] == "waiting"
    queue = [h for h in core.get("agent", "/v1/handoffs", status="waiting") if h["conversation_id"] == alice]
    assert [(h["id"], h["customer_name"], h["reason"]) for h in queue] == \
        [(handoff["id"], "Alice Martin", "customer_request")]

    # Asking again while one is open keeps the one handoff.
    again = await run(ActionRequestHuman(), tracker(alice, "hello? a person please", "request_human"), domain)
    assert again.kinds() == ["pause"]
    assert len([h for h in core.get("agent", "/v1/handoffs", status="waiting")
                if h["conversation_id"] == alice]) == 1


async def test_a_conversation_the_core_does_not_know_gets_the_contacts(core: Core, domain: dict) -> None:
    unknown = "3f0e7c1a-1111-4222-8333-444455556666"
    out = await run(ActionRequestHuman(), tracker(unknown, "a person please", "request_human"), domain)
    assert out.responses == ["utter_request_human"]
    assert "+353 1 555 0100" in out.text
    assert out.events == []  # not paused: nobody would come
    assert not [h for h in core.get("agent", "/v1/handoffs", status="waiting") if h["conversation_id"] == unknown]
