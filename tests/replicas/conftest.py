"""Two cores, two Rasa servers and two action servers behind the local balancer (`stack up --replicas 2`).

Its own ports (18450-18599, moved by BANKBOT_TEST_PORT_OFFSET), database and Redis db, shared by the
replicas: Rasa's tracker and lock stores and the core's idempotency markers and rate limits.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
import redis

from api.config import REPO_ROOT
from tests.conftest import TEST_REDIS_BASE
from tests.dbutil import temporary_database
from tests.e2e.conftest import MODEL, Stack
from tests.factories import seed_demo

OFFSET = int(os.environ.get("BANKBOT_TEST_PORT_OFFSET", "0"))
CORE_PORT, RASA_PORT, ACTIONS_PORT, SANDBOX_PORT = (p + OFFSET for p in (18450, 18455, 18460, 18580))
REDIS_DB = 15  # everything of this stack: the core's keys and Rasa's (prefix `bankbot:`) do not overlap


def _stack(command: str, database_url: str) -> None:
    argv = [sys.executable, "-m", "scripts.stack", command, "--replicas", "2", "--name", f"replicas{OFFSET or ''}",
            "--core-port", str(CORE_PORT), "--rasa-port", str(RASA_PORT), "--actions-port", str(ACTIONS_PORT),
            "--sandbox-port", str(SANDBOX_PORT), "--database-url", database_url,
            "--redis-url", f"{TEST_REDIS_BASE}/{REDIS_DB}", "--redis-tracker-db", str(REDIS_DB),
            "--model", str(MODEL), "--core-workers", "1", "--saga-workers", "1"]
    env = {**os.environ, "MONEY_RATE_LIMIT": "1000/minute", "CHAT_RATE_LIMIT": "1000/minute"}
    result = subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, env=env, timeout=900)
    assert result.returncode == 0, f"stack {command} failed:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="package")
def stack() -> Iterator[Stack]:
    """The e2e suite's Stack, its core URL the balancer's: imported e2e tests run against it unchanged."""
    assert MODEL.exists(), f"no trained model at {MODEL}: run `make train` (make test does it first)"
    redis.Redis.from_url(f"{TEST_REDIS_BASE}/{REDIS_DB}").flushdb()
    with temporary_database(prefix="bankbot_replicas") as url:
        seed_demo(url)
        try:
            _stack("up", url)
            yield Stack(core_url=f"http://127.0.0.1:{CORE_PORT}", database_url=url)
        finally:
            _stack("down", url)


def balanced(port: int) -> dict:
    """The balancer's figures for one listener: requests per upstream and the latest [upstream, method, path]."""
    response = httpx.get(f"http://127.0.0.1:{port}/_balancer", timeout=10)
    response.raise_for_status()
    return response.json()
