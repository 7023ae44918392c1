"""Fresh machines: with the binaries installed and no server answering, `make up` starts private PostgreSQL
and Redis under var/ (scripts/services.py) and `make down` stops them; without binaries it says what to install.

The binaries are part of this project's development machine (Debian's postgresql-15 and redis-server): a
machine without them fails here with a message saying so, it does not skip.
"""

from __future__ import annotations

import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis

from api.config import REPO_ROOT
from scripts import services


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def private() -> Iterator[services.Private]:
    # Under the checkout, not /tmp/pytest-of-root: as root PostgreSQL runs as `postgres`, which must be able
    # to walk down to its data directory (pytest's temporary directories are private to their owner).
    root = REPO_ROOT / "var" / "test-private" / uuid.uuid4().hex[:8]
    yield services.Private(root)
    services.stop(services.Private(root))  # whatever the test did, nothing keeps running
    shutil.rmtree(root, ignore_errors=True)


def test_binaries_are_installed() -> None:
    assert services.pg_binary("initdb") and services.pg_binary("pg_ctl"), (
        "no initdb/pg_ctl: install postgresql-15 (Debian) to run these tests")
    assert shutil.which("redis-server"), "no redis-server: install redis-server (Debian) to run these tests"


def test_private_instances_start_answer_and_stop(private: services.Private) -> None:
    pg_port, redis_port = _free_port(), _free_port()
    environ = {"DATABASE_URL": f"postgresql://postgres@127.0.0.1:{pg_port}/bankbot",
               "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0"}

    chosen = services.ensure(private, environ)

    assert chosen == environ  # explicit loopback URLs: the private instances take exactly those ports
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{pg_port}/postgres", connect_timeout=5) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert redis.Redis(port=redis_port).ping()
    assert (private.pg_data / "PG_VERSION").exists() and private.redis_pidfile.exists()
    assert private.env_file.read_text().splitlines() == [f"{k}={v}" for k, v in environ.items()]
    # A second `make up` finds them answering and starts nothing twice.
    assert services.ensure(private, environ) == {}

    assert services.stop(private) == ["PostgreSQL", "Redis"]

    assert not services.port_open("127.0.0.1", pg_port) and not services.port_open("127.0.0.1", redis_port)
    assert not services.postgres_running(private) and services.redis_pid(private) is None
    assert not private.env_file.exists()
    assert services.stop(private) == []  # `make down` twice is fine


def test_default_urls_get_their_own_ports(private: services.Private, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing configured and nothing answering: the private instances stay off 5432/6379 (never posing as
    the machine's servers). Checked without starting anything: the starting itself is tested above."""
    started: list[tuple[str, int]] = []
    monkeypatch.setattr(services, "pg_answers", lambda url: False)
    monkeypatch.setattr(services, "redis_answers", lambda url: False)
    monkeypatch.setattr(services, "start_postgres", lambda p, port: started.append(("pg", port)))
    monkeypatch.setattr(services, "start_redis", lambda p, port: started.append(("redis", port)))
    chosen = services.ensure(private, {})
    assert started == [("pg", services.PRIVATE_PG_PORT), ("redis", services.PRIVATE_REDIS_PORT)]
    assert chosen == {"DATABASE_URL": f"postgresql://postgres@127.0.0.1:{services.PRIVATE_PG_PORT}/bankbot",
                      "REDIS_URL": f"redis://127.0.0.1:{services.PRIVATE_REDIS_PORT}/0"}


def test_without_binaries_the_message_names_compose_and_the_packages(
        private: services.Private, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(services, "pg_binary", lambda name: None)
    monkeypatch.setattr(services.shutil, "which", lambda name: None)
    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres@127.0.0.1:{_free_port()}/bankbot")
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{_free_port()}/0")
    assert services.main(["up", "--root", str(private.root)]) == 1
    message = capsys.readouterr().err
    assert "docker compose up -d postgres redis" in message
    assert "postgresql-15" in message and "redis-server" in message
    assert not Path(private.pg_data / "PG_VERSION").exists()
