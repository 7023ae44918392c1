"""A saga stack as real processes, for the saga tests, the chaos test and `make chaos`: a throwaway
database (migrated, demo data), the provider sandbox, the core (uvicorn) and N saga workers.

Every process gets the same provider key and webhook secrets, drawn at random for the run, and short
timings (leases, polls, settlements) so a test sees many sagas end in seconds.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
LOG_DIR = ROOT / "var" / "log"
TEST_REDIS_BASE = os.environ.get("BANKBOT_TEST_REDIS", "redis://127.0.0.1:6379").rstrip("/")
TERMINAL = ("completed", "compensated", "failed", "dead_lettered")

# Short timings: a lease of 3 s means a dead worker's sagas move again within 6 s (the target: twice the lease).
FAST = {
    "SAGA_LEASE_SECONDS": "3", "SAGA_POLL_START_SECONDS": "0.5", "SAGA_POLL_MAX_SECONDS": "2",
    "SAGA_SWEEP_SECONDS": "2", "SAGA_AWAIT_SECONDS": "120", "SAGA_RETURN_WINDOW_SECONDS": "900",
    "SAGA_RETURN_POLL_SECONDS": "4", "PROVIDER_TIMEOUT_SECONDS": "1.0",
    "SANDBOX_SETTLE_SECONDS": "0.3", "SANDBOX_SLOW_SECONDS": "1.5", "SANDBOX_WEBHOOK_BACKOFF_SECONDS": "0.3",
    "MONEY_RATE_LIMIT": "1000000/minute", "LOG_LEVEL": "WARNING", "SAGA_WORKER_CONCURRENCY": "40",
    "LOGIN_RATE_LIMIT": "1000/minute", "LOGIN_USER_RATE_LIMIT": "10000/hour", "LOGIN_IP_RATE_LIMIT": "10000/hour",
}


@dataclass
class Process:
    name: str
    argv: list[str]
    env: dict[str, str]
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        log = open(LOG_DIR / f"sagas-{self.name}.log", "ab")  # noqa: SIM115 - handed to the child
        self.popen = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, start_new_session=True)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.popen is not None and self.popen.poll() is None:
            os.killpg(self.popen.pid, sig)
            self.popen.wait(timeout=30)

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None


@dataclass
class SagaStack:
    database_url: str
    core_url: str
    sandbox_url: str
    provider_key: str
    workers: dict[str, Process] = field(default_factory=dict)
    others: list[Process] = field(default_factory=list)

    def sandbox(self) -> httpx.Client:
        return httpx.Client(base_url=self.sandbox_url, timeout=30,
                            headers={"Authorization": f"Bearer {self.provider_key}"})

    def core(self) -> httpx.Client:
        return httpx.Client(base_url=self.core_url, timeout=30)

    def login(self, client: httpx.Client, username: str) -> dict[str, str]:
        response = client.post("/v1/auth/token", data={"username": username, "password": "demo-password"})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def sagas_by_status(self) -> dict[str, int]:
        with psycopg.connect(self.database_url) as conn:
            return dict(conn.execute("SELECT status, count(*) FROM sagas GROUP BY status").fetchall())

    def wait_until(self, predicate: Any, *, timeout: float, interval: float = 0.25) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(interval)
        return bool(predicate())


def _free_ports_ok(ports: list[int]) -> None:
    import socket

    for port in ports:
        with socket.socket() as s:
            s.settimeout(0.3)
            assert s.connect_ex(("127.0.0.1", port)) != 0, f"port {port} is taken"


def _wait_http(url: str, process: Process, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.alive, f"{process.name} exited; see var/log/sagas-{process.name}.log"
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{process.name} not healthy at {url}")


@contextmanager
def saga_stack(*, port: int, workers: int = 2, env: dict[str, str] | None = None) -> Iterator[SagaStack]:
    """Start everything on `port` (core), `port + 100` (sandbox); stop it and drop the databases after."""
    from tests.dbutil import temporary_database
    from tests.factories import seed_demo

    _free_ports_ok([port, port + 100])
    # The database outlives every process (an ExitStack inside it stops them first).
    with temporary_database("bankbot_sagas") as database_url, ExitStack() as stack:
        seed_demo(database_url)
        redis.Redis.from_url(f"{TEST_REDIS_BASE}/6").flushdb()  # this stack's rate limits start from zero
        key = secrets.token_urlsafe(32)
        common = {**os.environ, "PYTHONPATH": str(ROOT), "ENVIRONMENT": "development", **FAST, **(env or {}),
                  "DATABASE_URL": database_url, "REDIS_URL": f"{TEST_REDIS_BASE}/6", "PROVIDER_API_KEY": key,
                  **{f"{p}_WEBHOOK_SECRET": secrets.token_urlsafe(32) for p in ("RAILS", "CARDS", "CRYPTO", "KYC")},
                  **{f"{p.upper()}_API_URL": f"http://127.0.0.1:{port + 100}/{p}"
                     for p in ("rails", "cards", "crypto", "kyc")}}
        result = SagaStack(database_url=database_url, core_url=f"http://127.0.0.1:{port}",
                           sandbox_url=f"http://127.0.0.1:{port + 100}", provider_key=key)
        sandbox = Process("sandbox", [str(ROOT / ".venv/bin/uvicorn"), "sandbox.app:app", "--host", "127.0.0.1",
                                      "--port", str(port + 100), "--no-access-log", "--log-level", "warning"],
                          {**common, "SANDBOX_DATABASE_URL": database_url + "_sandbox",
                           "SANDBOX_WEBHOOK_BASE_URL": result.core_url})
        core = Process("core", [str(ROOT / ".venv/bin/uvicorn"), "api.main:app", "--host", "127.0.0.1", "--port",
                                str(port), "--no-access-log", "--log-level", "warning"], common)
        result.others = [sandbox, core]
        stack.callback(lambda: [p.kill(signal.SIGTERM) for p in result.others])
        stack.callback(lambda: [p.kill() for p in result.workers.values()])
        sandbox.start()
        core.start()
        _wait_http(f"{result.sandbox_url}/healthz", sandbox)
        _wait_http(f"{result.core_url}/healthz", core)
        for n in range(1, workers + 1):
            name = f"worker-{n}"
            result.workers[name] = Process(name, [sys.executable, "-m", "api.sagas.worker", "--executor-id", name],
                                           {**common, "PROCESS_ROLE": "worker"})
            result.workers[name].start()
        yield result


def counterparty(n: int) -> dict[str, str]:
    """A checksum-valid IBAN per payee number (the demo data's generator)."""
    from data.seed import iban_ie

    return {"name": f"Payee {n}", "iban": iban_ie(f"{n % 100_000_000:08d}")}


def new_key() -> str:
    return str(uuid.uuid4())
