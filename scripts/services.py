"""PostgreSQL and Redis for `make up` on a fresh machine: private instances under var/ when none answers.

    python -m scripts.services up     # a server answers: nothing to do; else start a private one and say so
    python -m scripts.services down   # stop the private instances `up` started (the data stays in var/)

When the configured server (DATABASE_URL / REDIS_URL, default 127.0.0.1:5432 and :6379) does not answer
and the binaries are installed, `up` starts a private instance: PostgreSQL in var/pg (initdb, trust auth
on loopback, its socket in var/pg/run) and Redis with --dir var/redis, on the URL's port when the URL was
given, else on their own ports (55432, 56379) so they never pose as the machine's servers. It writes
var/services.env (`DATABASE_URL=...` lines) for scripts/up.sh to read. Without binaries the message
names `docker compose up -d postgres redis` and the Debian packages. The tests keep using the running
servers: only `make up` / `make down` call this.

As root (containers, CI), initdb refuses to run, so PostgreSQL is initialised and run as the `postgres`
user through `runuser`, the data directory chowned to it.

The stopping half is stdlib only: scripts/down.sh runs before any virtual environment is trusted.
"""

from __future__ import annotations

import argparse
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/bankbot"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
PRIVATE_PG_PORT = 55432
PRIVATE_REDIS_PORT = 56379
START_TIMEOUT_SECONDS = 60
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
INSTALL_HINT = ("Start the project's containers:  docker compose up -d postgres redis\n"
                "  or install the Debian packages:  apt-get install -y postgresql-15 redis-server\n"
                "  or point DATABASE_URL / REDIS_URL at running servers.")


class ServiceError(RuntimeError):
    """A server cannot be provided; the message says what to do."""


@dataclass(frozen=True)
class Private:
    """Where the private instances live (var/ for `make up`; a temporary directory in tests)."""

    root: Path

    @property
    def pg_data(self) -> Path:
        return self.root / "pg" / "data"

    @property
    def pg_sockets(self) -> Path:
        return self.root / "pg" / "run"

    @property
    def pg_log(self) -> Path:
        return self.root / "pg" / "postgres.log"

    @property
    def redis_dir(self) -> Path:
        return self.root / "redis"

    @property
    def redis_pidfile(self) -> Path:
        return self.redis_dir / "redis.pid"

    @property
    def env_file(self) -> Path:
        return self.root / "services.env"


# --- finding the binaries -----------------------------------------------------------------------

def pg_binary(name: str) -> Path | None:
    """initdb / pg_ctl: on the PATH, else the newest /usr/lib/postgresql/<version>/bin (Debian keeps them there)."""
    found = shutil.which(name)
    if found:
        return Path(found)
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name)
                      if p.parent.name.isdigit() else 0)
    for directory in reversed(versions):
        if (directory / name).is_file():
            return directory / name
    return None


def as_postgres() -> list[str]:
    """The prefix that runs a PostgreSQL tool as a non-root user: initdb and postgres refuse root."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        raise ServiceError("running as root and there is no runuser to start PostgreSQL as the postgres user")
    return [runuser, "-u", "postgres", "--"]


# --- answering ----------------------------------------------------------------------------------

def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) == 0


def pg_answers(url: str) -> bool:
    import psycopg  # the core's venv; only `up` gets here

    from api.dbadmin import with_database
    try:
        with psycopg.connect(with_database(url, "postgres"), connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def _wait(check: Callable[[], bool], what: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not check():
        if time.monotonic() > deadline:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:]) if log.exists() else "(no log)"
            raise ServiceError(f"{what} did not answer within {START_TIMEOUT_SECONDS} s; {log}:\n{tail}")
        time.sleep(0.2)


# --- PostgreSQL ---------------------------------------------------------------------------------

def start_postgres(private: Private, port: int) -> None:
    initdb, pg_ctl = pg_binary("initdb"), pg_binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise ServiceError(f"No PostgreSQL server binaries (initdb, pg_ctl) on this machine.\n  {INSTALL_HINT}")
    if port_open("127.0.0.1", port):
        raise ServiceError(f"port {port} is taken by something that is not PostgreSQL answering for us")
    prefix = as_postgres()
    for directory in (private.pg_data, private.pg_sockets):
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        if prefix:  # the postgres user owns its data and socket directories
            user = pwd.getpwnam("postgres")
            os.chown(directory, user.pw_uid, user.pw_gid)
    if not (private.pg_data / "PG_VERSION").exists():
        _run([*prefix, str(initdb), "-D", str(private.pg_data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
              "--no-instructions"], "initdb")
    private.pg_log.touch()
    if prefix:
        user = pwd.getpwnam("postgres")
        os.chown(private.pg_log, user.pw_uid, user.pw_gid)
    # Loopback only, its socket in var/ (not /var/run/postgresql, which may not exist or be another's).
    options = f"-p {port} -k {private.pg_sockets} -c listen_addresses=127.0.0.1"
    _run([*prefix, str(pg_ctl), "-D", str(private.pg_data), "-l", str(private.pg_log), "-o", options,
          "-w", "-t", str(START_TIMEOUT_SECONDS), "start"], "pg_ctl start")


def postgres_running(private: Private) -> bool:
    return (private.pg_data / "postmaster.pid").exists()


def stop_postgres(private: Private) -> bool:
    """Stop the private PostgreSQL (fast shutdown: sessions are ended, data is kept); False if none ran."""
    pg_ctl = pg_binary("pg_ctl")
    if not postgres_running(private) or pg_ctl is None:
        return False
    _run([*as_postgres(), str(pg_ctl), "-D", str(private.pg_data), "-m", "fast", "-w", "stop"], "pg_ctl stop")
    return True


# --- Redis --------------------------------------------------------------------------------------

def start_redis(private: Private, port: int) -> None:
    server = shutil.which("redis-server")
    if server is None:
        raise ServiceError(f"No redis-server on this machine.\n  {INSTALL_HINT}")
    if port_open("127.0.0.1", port):
        raise ServiceError(f"port {port} is taken by something that is not Redis answering for us")
    private.redis_dir.mkdir(parents=True, exist_ok=True)
    # Nothing persisted: Redis holds rate limits, in-flight markers and the tracker store, all short-lived.
    _run([server, "--daemonize", "yes", "--bind", "127.0.0.1", "--port", str(port), "--dir", str(private.redis_dir),
          "--pidfile", str(private.redis_pidfile), "--logfile", str(private.redis_dir / "redis.log"),
          "--save", "", "--appendonly", "no"], "redis-server")
    _wait(lambda: private.redis_pidfile.exists() and port_open("127.0.0.1", port), "Redis",
          private.redis_dir / "redis.log")


def redis_pid(private: Private) -> int | None:
    try:
        pid = int(private.redis_pidfile.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ValueError):
        return None
    return pid if b"redis-server" in cmdline else None


def stop_redis(private: Private) -> bool:
    pid = redis_pid(private)
    if pid is None:
        private.redis_pidfile.unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    if Path(f"/proc/{pid}").exists():
        os.kill(pid, signal.SIGKILL)
    private.redis_pidfile.unlink(missing_ok=True)
    return True


# --- the two together ---------------------------------------------------------------------------

def _run(argv: list[str], what: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=START_TIMEOUT_SECONDS + 30, cwd="/")  # noqa: S603
    if result.returncode != 0:
        raise ServiceError(f"{what} failed ({result.returncode}):\n{result.stdout}{result.stderr}")


def _private_port(url: str, explicit: bool, private_port: int, what: str) -> int:
    """The URL's own port when the operator named a loopback URL; our own port for the default URL."""
    parts = urlsplit(url)
    if parts.hostname not in LOOPBACK:
        raise ServiceError(f"{what} does not answer at {parts.hostname}:{parts.port} and is not on this machine,"
                           f" so no private instance can stand in for it.\n  {INSTALL_HINT}")
    return int(parts.port or private_port) if explicit else private_port


def ensure(private: Private, environ: dict[str, str] | None = None) -> dict[str, str]:
    """Make PostgreSQL and Redis answer; the URLs to use instead of the configured ones (empty: none).

    Raises ServiceError with what to install when a server is missing and cannot be started.
    """
    environ = dict(os.environ if environ is None else environ)
    chosen: dict[str, str] = {}
    database_url = environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if not pg_answers(database_url):
        port = _private_port(database_url, "DATABASE_URL" in environ, PRIVATE_PG_PORT, "PostgreSQL")
        url = urlsplit(database_url)._replace(netloc=f"postgres@127.0.0.1:{port}").geturl()
        if pg_answers(url):
            print(f"PostgreSQL: using the private instance in {private.pg_data} on 127.0.0.1:{port}")
        else:
            start_postgres(private, port)
            print(f"PostgreSQL did not answer at {_where(database_url)}: started a private instance in "
                  f"{private.pg_data} on 127.0.0.1:{port} (log {private.pg_log}; `make down` stops it)")
        chosen["DATABASE_URL"] = url
    redis_url = environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    if not redis_answers(redis_url):
        port = _private_port(redis_url, "REDIS_URL" in environ, PRIVATE_REDIS_PORT, "Redis")
        url = urlsplit(redis_url)._replace(netloc=f"127.0.0.1:{port}").geturl()
        if redis_answers(url):
            print(f"Redis: using the private instance in {private.redis_dir} on 127.0.0.1:{port}")
        else:
            start_redis(private, port)
            print(f"Redis did not answer at {_where(redis_url)}: started a private instance in {private.redis_dir} "
                  f"on 127.0.0.1:{port} (`make down` stops it)")
        chosen["REDIS_URL"] = url
    private.root.mkdir(parents=True, exist_ok=True)
    private.env_file.write_text("".join(f"{name}={value}\n" for name, value in chosen.items()))
    return chosen


def stop(private: Private) -> list[str]:
    """Stop what `ensure` started; the names of the stopped services."""
    stopped = [name for name, stop_one in (("PostgreSQL", stop_postgres), ("Redis", stop_redis)) if stop_one(private)]
    private.env_file.unlink(missing_ok=True)
    return stopped


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("up", "down"))
    parser.add_argument("--root", type=Path, default=VAR, help="where the private instances live (default var/)")
    args = parser.parse_args(argv)
    private = Private(args.root)
    try:
        if args.command == "up":
            ensure(private)
        else:
            for name in stop(private):
                print(f"{name:13} private instance stopped")
    except ServiceError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
