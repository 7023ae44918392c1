"""A stack of its own for the restart test: every service as a real process, restarted one by one.

Its own ports (18200-18299, moved by BANKBOT_TEST_PORT_OFFSET), database and Redis db, because the test
stops services that the end-to-end suite's stack (tests/e2e/conftest.py) needs whole.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from api.config import REPO_ROOT
from tests.conftest import TEST_REDIS_BASE
from tests.dbutil import temporary_database
from tests.factories import seed_demo

MODEL = REPO_ROOT / "var" / "models" / "current.tar.gz"
OFFSET = int(os.environ.get("BANKBOT_TEST_PORT_OFFSET", "0"))
CORE_PORT, RASA_PORT, ACTIONS_PORT, SANDBOX_PORT = (p + OFFSET for p in (18200, 18205, 18255, 18210))
REDIS_DB = 9  # rate limits, idempotency markers, and Rasa's tracker and lock store (prefix `bankbot:`)
STACK_TIMEOUT_SECONDS = 600


@dataclass(frozen=True)
class RestartStack:
    name: str
    database_url: str
    core_url: str

    def command(self, command: str, *extra: str) -> list[str]:
        return [sys.executable, "-m", "scripts.stack", command, *extra, "--name", self.name,
                "--core-port", str(CORE_PORT), "--rasa-port", str(RASA_PORT), "--actions-port", str(ACTIONS_PORT),
                "--sandbox-port", str(SANDBOX_PORT), "--database-url", self.database_url,
                "--redis-url", f"{TEST_REDIS_BASE}/{REDIS_DB}", "--redis-tracker-db", str(REDIS_DB),
                "--model", str(MODEL), "--core-workers", "2", "--saga-workers", "1"]

    def run(self, command: str, *extra: str) -> str:
        result = subprocess.run(self.command(command, *extra), cwd=REPO_ROOT, capture_output=True, text=True,
                                env=stack_env(), timeout=STACK_TIMEOUT_SECONDS)
        assert result.returncode == 0, f"stack {command} {extra} failed:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def pid(self, service: str) -> int:
        return int((REPO_ROOT / "var" / "run" / self.name / f"{service}.pid").read_text())

    def log(self, service: str) -> Path:
        return REPO_ROOT / "var" / "log" / f"{self.name}-{service}.log"


def stack_env() -> dict[str, str]:
    # The load moves money a few times a second for minutes: the money limit has its own test
    # (tests/api/test_transfers.py), here it is out of the way, as is the chat limit.
    return {**os.environ, "MONEY_RATE_LIMIT": "100000/minute", "CHAT_RATE_LIMIT": "100000/minute"}


@pytest.fixture(scope="package")
def restart_stack() -> Iterator[RestartStack]:
    assert MODEL.exists(), f"no trained model at {MODEL}: run `make train` (make test does it first)"
    redis.Redis.from_url(f"{TEST_REDIS_BASE}/{REDIS_DB}").flushdb()
    with temporary_database(prefix="bankbot_restarts") as url:
        seed_demo(url)
        stack = RestartStack(name=f"restarts{OFFSET or ''}", database_url=url,
                             core_url=f"http://127.0.0.1:{CORE_PORT}")
        try:
            stack.run("up")
            yield stack
        finally:
            stack.run("down")
