"""Run the provider sandbox as a real subprocess for tests, on a throwaway database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
from psycopg import sql

from api.dbadmin import with_database

REPO_ROOT = Path(__file__).resolve().parent.parent
TEST_API_KEY = "sandbox-test-key"
TEST_SECRETS = {f"{p.upper()}_WEBHOOK_SECRET": f"test-{p}-webhook-secret" for p in ("rails", "cards", "crypto", "kyc")}
START_TIMEOUT_SECONDS = 30.0


class Sandbox(str):
    """The base URL (a str, so callers may use it as one), plus control of the process behind it."""

    port: int
    database_url: str
    env: dict[str, str]
    api_key: str
    process: subprocess.Popen[bytes] | None

    def __new__(cls, port: int, database_url: str, env: dict[str, str]) -> Sandbox:
        self = super().__new__(cls, f"http://127.0.0.1:{port}")
        self.port, self.database_url, self.env = port, database_url, env
        self.api_key = env["PROVIDER_API_KEY"]
        self.process = None
        return self

    @property
    def headers(self) -> dict[str, str]:
        """The bearer header every call needs."""
        return {"Authorization": f"Bearer {self.api_key}"}

    def start(self) -> None:
        """Start uvicorn in its own process group and wait until /healthz answers."""
        assert self.process is None or self.process.poll() is not None, "already running"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "sandbox.app:app", "--host", "127.0.0.1", "--port", str(self.port),
             "--log-level", "warning"],
            cwd=REPO_ROOT, env=self.env, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the sandbox exited with {self.process.returncode} while starting")
            try:
                if httpx.get(f"{self}/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"the sandbox did not answer /healthz within {START_TIMEOUT_SECONDS}s")

    def kill(self) -> None:
        """SIGKILL the whole process group, as a crash would."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not go within a few seconds."""
        if self._signal(signal.SIGTERM):
            try:
                assert self.process is not None
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self, *, hard: bool = True) -> None:
        """Kill (or stop) and start again on the same database and port."""
        self.kill() if hard else self.stop()
        self.start()

    def _signal(self, sig: signal.Signals) -> bool:
        process = self.process
        if process is None or process.poll() is not None:
            return False
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return False
        if sig == signal.SIGKILL:
            process.wait(timeout=10)
        return True


@contextmanager
def _throwaway_database(server_url: str) -> Iterator[str]:
    name = f"bankbot_sandbox_test_{uuid.uuid4().hex[:10]}"
    admin = with_database(server_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield with_database(server_url, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def running_sandbox(*, port: int, database_url: str, webhook_base_url: str,
                    env: dict[str, str] | None = None, throwaway: bool = True) -> Iterator[Sandbox]:
    """The sandbox on 127.0.0.1:`port`, on a new database of `database_url`'s server (dropped afterwards).

    Yields its base URL, a str that also has `.kill()`, `.start()`, `.restart()`, `.headers` and `.api_key`.
    `env` overrides the defaults (test API key and webhook secrets, SANDBOX_SLOW_SECONDS=1). With
    `throwaway=False` the sandbox uses `database_url` itself and leaves it in place.
    """
    database = _throwaway_database(database_url) if throwaway else _as_is(database_url)
    with database as url:
        full_env = {**os.environ, "PROVIDER_API_KEY": TEST_API_KEY, **TEST_SECRETS, "SANDBOX_SLOW_SECONDS": "1",
                    "SANDBOX_WEBHOOK_BASE_URL": webhook_base_url, **(env or {}), "SANDBOX_DATABASE_URL": url}
        sandbox = Sandbox(port, url, full_env)
        sandbox.start()
        try:
            yield sandbox
        finally:
            sandbox.stop()


@contextmanager
def _as_is(url: str) -> Iterator[str]:
    yield url


def kill_sandbox(sandbox: Sandbox) -> None:
    """SIGKILL a sandbox started by running_sandbox."""
    sandbox.kill()


def restart_sandbox(sandbox: Sandbox) -> None:
    """SIGKILL and start again, on the same database and port."""
    sandbox.restart(hard=True)
