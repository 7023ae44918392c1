"""The real stack for end-to-end tests: core, action server and Rasa as separate processes.

It runs on its own ports (18000, 15055, 15005) against its own seeded database and Redis db, so it
never disturbs a `make up` stack. The model is the one `scripts.train` built (make test trains first).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
import redis

from api.config import REPO_ROOT
from tests.conftest import TEST_REDIS_BASE
from tests.dbutil import temporary_database
from tests.factories import seed_demo

MODEL = REPO_ROOT / "var" / "models" / "current.tar.gz"
PORT_OFFSET = int(os.environ.get("BANKBOT_TEST_PORT_OFFSET", "0"))  # a second run on this machine moves aside
PORTS = {"core": 18000 + PORT_OFFSET, "rasa": 15005 + PORT_OFFSET, "actions": 15055 + PORT_OFFSET}
PORTS["core-internal"] = PORTS["core"] + 1  # scripts/stack.py: the core's internal listener is next door
PORTS["core-ingest"] = PORTS["core"] + 2  # and the transcript ingest after it
STACK_NAME = f"e2e{PORT_OFFSET or ''}"
REDIS_URL = f"{TEST_REDIS_BASE}/5"  # the e2e stack's own Redis db (rate limits, idempotency), emptied first
EVALUATION_MONEY_RATE_LIMIT = "1000/minute"
TRACKER_DB = 2  # Rasa's tracker and lock store for the e2e stack (keys `bankbot:tracker:<conversation id>`)
# A handoff nobody claims within this time turns overdue (tests/e2e/test_live_handoff.py waits for it);
# long enough for the other handoff tests to claim theirs first.
HANDOFF_CLAIM_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class Stack:
    core_url: str
    database_url: str
    tokens: dict[str, str] = field(default_factory=dict)

    def login(self, username: str) -> dict[str, str]:
        """One sign-in per user and test session, as an app would keep its token (login is rate limited)."""
        if username not in self.tokens:
            response = httpx.post(f"{self.core_url}/v1/auth/token",
                                  data={"username": username, "password": "demo-password"}, timeout=30)
            assert response.status_code == 200, response.text
            self.tokens[username] = response.json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    def chat(self, headers: dict[str, str], text: str, conversation_id: str | None = None) -> dict:
        body = {"text": text, **({"conversation_id": conversation_id} if conversation_id else {})}
        response = httpx.post(f"{self.core_url}/v1/chat/messages", json=body, headers=headers, timeout=60)
        assert response.status_code == 200, response.text
        return response.json()


def _stack(command: str, database_url: str) -> None:
    argv = [sys.executable, "-m", "scripts.stack", command, "--name", STACK_NAME, "--core-port", str(PORTS["core"]),
            "--rasa-port", str(PORTS["rasa"]), "--actions-port", str(PORTS["actions"]),
            "--database-url", database_url, "--redis-url", REDIS_URL, "--redis-tracker-db", str(TRACKER_DB),
            "--model", str(MODEL), "--core-workers", "2"]
    # The conversation evaluation confirms about 60 transfers within a minute or two; the money rate limit
    # itself is tested against the API (tests/api/test_transfers.py), so here it is set out of the way.
    env = {**os.environ, "MONEY_RATE_LIMIT": EVALUATION_MONEY_RATE_LIMIT, "CHAT_RATE_LIMIT": "1000/minute",
           "HANDOFF_CLAIM_TIMEOUT_SECONDS": str(HANDOFF_CLAIM_TIMEOUT_SECONDS)}
    result = subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, env=env)
    assert result.returncode == 0, f"stack {command} failed:\n{result.stdout}\n{result.stderr}"


# Package scope: the stack stops when the end-to-end tests are done, before the saga stacks start
# (PostgreSQL's 100 connections are shared by every stack of a run).
@pytest.fixture(scope="package")
def stack() -> Iterator[Stack]:
    assert MODEL.exists(), f"no trained model at {MODEL}: run `make train` (make test does it first)"
    redis.Redis.from_url(REDIS_URL).flushdb()
    with temporary_database(prefix="bankbot_e2e") as url:
        seed_demo(url)
        try:
            _stack("up", url)
            yield Stack(core_url=f"http://127.0.0.1:{PORTS['core']}", database_url=url)
        finally:
            _stack("down", url)
