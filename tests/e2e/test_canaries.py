"""Personal data never at rest: canaries typed into chat appear nowhere in PostgreSQL or var/log.

Besides the customer's own data, other people's: payees and landlords named with letters beyond Latin-1
and on no list, an international number with no phone word, a flat's address, and a date of birth typed
alone in answer to the agent's question (redacted because of the line before it).
"""

from __future__ import annotations

import shutil
import subprocess
import time

import httpx
import pytest

from api.config import REPO_ROOT
from tests.canaries import fresh
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e
TRANSCRIPT_WAIT_SECONDS = 60


def _wait_for_transcript(stack: Stack, headers, conversation_id: str, user_messages: int) -> list[dict]:
    """The broker delivers asynchronously; poll the transcript until every user message is in."""
    deadline = time.monotonic() + TRANSCRIPT_WAIT_SECONDS
    while True:
        body = httpx.get(f"{stack.core_url}/v1/conversations/{conversation_id}/transcript", headers=headers,
                         timeout=30).json()
        lines = body.get("messages", [])
        if sum(m["role"] == "user" for m in lines) >= user_messages or time.monotonic() > deadline:
            return lines
        time.sleep(0.5)


def _agent(stack: Stack, handoff_id: str, action: str, **kwargs) -> dict:
    response = httpx.post(f"{stack.core_url}/v1/handoffs/{handoff_id}/{action}", headers=stack.login("agent"),
                          timeout=60, **kwargs)
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_canaries_are_redacted_everywhere(stack: Stack) -> None:
    canaries, during = fresh(), fresh()  # `during`: typed in a handoff, by the customer and by the agent
    alice = stack.login("alice")
    conversation_id = None
    messages = [*canaries.messages(), "I am Alice Martin, can you check my balance?"]
    for text in messages:
        conversation_id = stack.chat(alice, text, conversation_id)["conversation_id"]

    # A handoff: the bot pauses, the customer keeps typing personal data, the agent repeats some of it.
    asked = stack.chat(alice, "I want to talk to a person", conversation_id)
    assert asked["handoff"], asked
    handoff_id = asked["handoff"]["id"]
    _agent(stack, handoff_id, "claim")
    handoff_messages = [*during.messages(), "it's Alice Martin speaking"]
    for text in handoff_messages:
        assert stack.chat(alice, text, conversation_id)["messages"] == []  # paused: only the agent answers
    card = " ".join(during.card[i:i + 4] for i in range(0, 16, 4))
    agent_lines = [_agent(stack, handoff_id, "messages", json={"text": text})["text"] for text in (
        f"Thanks Alice Martin. To confirm: your e-mail is {during.email} and your phone {during.phone}?",
        f"I have blocked the card {card}. Your temporary password is {during.password}, please change it.",
        f"I have added {during.payee} as a payee. Before I change the address, what is your date of birth?",
    )]
    # The answer alone is a date like any other: only the agent's question makes it a date of birth.
    answers = during.answers()
    for text in answers:
        assert stack.chat(alice, text, conversation_id)["messages"] == []
    handoff_messages += answers
    _agent(stack, handoff_id, "release")
    back = stack.chat(alice, "what's my balance?", conversation_id)
    assert back["messages"] and not back["handoff"], back
    messages += ["I want to talk to a person", *handoff_messages, "what's my balance?"]

    lines = _wait_for_transcript(stack, alice, conversation_id, len(messages))
    user_lines = [m for m in lines if m["role"] == "user"]
    assert len(user_lines) == len(messages), lines
    joined = "\n".join(m["text"] for m in lines)
    tags = ("<CREDIT_CARD>", "<IBAN_CODE>", "<US_SSN>", "<EMAIL_ADDRESS>", "<PHONE_NUMBER>", "<PASSWORD>", "<PIN>",
            "<PERSON>", "<STREET_ADDRESS>")
    for tag in tags:
        assert tag in joined, (tag, joined)
    assert any(m["role"] == "bot" for m in lines)
    # The handoff part shows the tags too: the customer's lines while paused, and the agent's.
    start = next(i for i, m in enumerate(user_lines) if m["text"] == "I want to talk to a person")
    during_handoff = "\n".join(m["text"] for m in user_lines[start + 1:start + 1 + len(handoff_messages)])
    for tag in (*tags, "<DATE_OF_BIRTH>"):
        assert tag in during_handoff, (tag, during_handoff)
    stored_agent_lines = [m["text"] for m in lines if m["role"] == "agent"]
    assert stored_agent_lines == agent_lines
    for tag in ("<PERSON>", "<EMAIL_ADDRESS>", "<PHONE_NUMBER>", "<CREDIT_CARD>", "<PASSWORD>"):
        assert tag in "\n".join(agent_lines), (tag, agent_lines)

    pg_dump = shutil.which("pg_dump")
    assert pg_dump, "pg_dump (postgresql-client) is needed for this test"
    dump = subprocess.run([pg_dump, "--data-only", stack.database_url], capture_output=True, text=True,
                          check=True).stdout
    # The customer's own name is rightly in the users table; everywhere else it must not be.
    dump_without_users = subprocess.run([pg_dump, "--data-only", "--exclude-table-data=users", stack.database_url],
                                        capture_output=True, text=True, check=True).stdout
    logs = {p: p.read_text(errors="replace") for p in (REPO_ROOT / "var" / "log").rglob("*") if p.is_file()}
    leaks = []
    for kind, spellings in [*canaries.spellings().items(), *during.spellings().items()]:
        for spelling in spellings:
            if spelling.lower() in dump.lower():
                leaks.append(f"{kind} {spelling!r} in pg_dump")
            leaks += [f"{kind} {spelling!r} in {path}" for path, text in logs.items() if spelling in text]
    if "Alice Martin" in dump_without_users.replace("alice.martin", ""):
        leaks.append("customer name in pg_dump outside users")
    assert not leaks, leaks
