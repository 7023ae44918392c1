"""Personal data never at rest: canaries typed into chat appear nowhere in PostgreSQL or var/log."""

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


def test_canaries_are_redacted_everywhere(stack: Stack) -> None:
    canaries = fresh()
    alice = stack.login("alice")
    conversation_id = None
    messages = [*canaries.messages(), "I am Alice Martin, can you check my balance?"]
    for text in messages:
        conversation_id = stack.chat(alice, text, conversation_id)["conversation_id"]
    lines = _wait_for_transcript(stack, alice, conversation_id, len(messages))
    user_lines = [m for m in lines if m["role"] == "user"]
    assert len(user_lines) == len(messages), lines
    joined = "\n".join(m["text"] for m in lines)
    for tag in ("<CREDIT_CARD>", "<IBAN_CODE>", "<US_SSN>", "<EMAIL_ADDRESS>", "<PHONE_NUMBER>", "<PASSWORD>",
                "<PIN>", "<PERSON>"):
        assert tag in joined, (tag, joined)
    assert any(m["role"] == "bot" for m in lines)

    pg_dump = shutil.which("pg_dump")
    assert pg_dump, "pg_dump (postgresql-client) is needed for this test"
    dump = subprocess.run([pg_dump, "--data-only", stack.database_url], capture_output=True, text=True,
                          check=True).stdout
    # The customer's own name is rightly in the users table; everywhere else it must not be.
    dump_without_users = subprocess.run([pg_dump, "--data-only", "--exclude-table-data=users", stack.database_url],
                                        capture_output=True, text=True, check=True).stdout
    logs = {p: p.read_text(errors="replace") for p in (REPO_ROOT / "var" / "log").rglob("*") if p.is_file()}
    leaks = []
    for kind, spellings in canaries.spellings().items():
        for spelling in spellings:
            if spelling.lower() in dump.lower():
                leaks.append(f"{kind} {spelling!r} in pg_dump")
            leaks += [f"{kind} {spelling!r} in {path}" for path, text in logs.items() if spelling in text]
    if "Alice Martin" in dump_without_users.replace("alice.martin", ""):
        leaks.append("customer name in pg_dump outside users")
    assert not leaks, leaks
