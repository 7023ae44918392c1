"""Start, check and stop the project's processes (core, its internal listener and transcript ingest, saga
workers, provider sandbox, action server, Rasa) as one named stack.

    python -m scripts.stack up   [--name dev] [--model PATH]   # idempotent: running services are kept
    python -m scripts.stack down [--name dev]                  # stops exactly what `up` started
    python -m scripts.stack status [--name dev]
    python -m scripts.stack restart SERVICE [--name dev]       # SIGTERM (drains), start again, wait healthy
    python -m scripts.stack reload core [--name dev]           # replace the workers one at a time, no downtime
    python -m scripts.stack up --replicas 2 ...                # two cores, Rasas, action servers behind a
                                                               # local balancer (scripts/replicas.py)

Pids live in var/run/<name>/, logs in var/log/. Stdlib only: it runs before any venv is trusted.

Secrets: `up` resolves every secret the services read (scripts/environment.py: the environment's value,
else in development var/secrets.env's, generated once) and hands each service exactly the ones it reads
(Secret.readers); with ENVIRONMENT=production it refuses to start anything while one is unusable.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from scripts import environment

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
HEALTH_TIMEOUT_SECONDS = 240  # Rasa loads TensorFlow and the model: slow on 2 cores
# uvicorn finishes in-flight requests on SIGTERM for at most this long, then cancels them; it must stay
# below stop_pid's patience (STOP_TIMEOUT_SECONDS), else a draining core would be SIGKILLed mid-request.
GRACEFUL_SHUTDOWN_SECONDS = 10
STOP_TIMEOUT_SECONDS = 15
# How long uvicorn's parent waits for a new worker to serve during a rolling reload (`reload`): the core's
# workers load Presidio and spaCy first, 20-50 s on two busy cores; uvicorn's default of 5 s aborts the reload.
WORKER_READY_SECONDS = 180


@dataclass(frozen=True)
class Service:
    name: str
    port: int | None  # None: no HTTP port (a saga worker); healthy while its process runs
    argv: list[str]
    health_path: str
    env: dict[str, str] = field(default_factory=dict)

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.health_path}"


def services(args: argparse.Namespace, secret_values: dict[str, str] | None = None) -> list[Service]:
    """The stack's services. With `secret_values` (what `up` resolved), each gets the secrets it reads."""
    if getattr(args, "replicas", 1) > 1:
        from scripts import replicas  # imports this module: only when asked for

        return replicas.services(args, secret_values)
    return single_services(args, secret_values)


def single_services(args: argparse.Namespace, secret_values: dict[str, str] | None = None) -> list[Service]:
    """One of each service (`make up`, the test stacks); scripts/replicas.py composes several of these."""
    redis = urlsplit(args.redis_url)
    core_url = f"http://127.0.0.1:{args.core_port}"
    # The core's internal listener (api/internal.py: token exchange, metrics) is the port after the core's,
    # the transcript ingest (core-ingest) the one after that; on loopback like every service here.
    internal_port, ingest_port = args.core_port + 1, args.core_port + 2
    internal_url, ingest_url = f"http://127.0.0.1:{internal_port}", f"http://127.0.0.1:{ingest_port}"
    # Namespaces built by hand (tests, older callers) may lack the option: one worker, the command's default.
    ingest_workers = getattr(args, "ingest_workers", 1)
    sandbox_url = f"http://127.0.0.1:{args.sandbox_port}"
    # The providers' base URLs (docs/providers.md): this stack's sandbox serves all four.
    provider_env = {f"{kind.upper()}_API_URL": f"{sandbox_url}/{kind}" for kind in ("rails", "cards", "crypto", "kyc")}
    # The messaging channels' outbound APIs (api/channels): the sandbox emulates Telegram, Slack and Twilio.
    channel_env = {"TELEGRAM_API_URL": f"{sandbox_url}/telegram", "SLACK_API_URL": f"{sandbox_url}/slack/api",
                   "TWILIO_API_URL": f"{sandbox_url}/twilio"}
    core_env = {"DATABASE_URL": args.database_url, "REDIS_URL": args.redis_url,
                "RASA_URL": f"http://127.0.0.1:{args.rasa_port}",
                "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir(args.name)), **provider_env, **channel_env,
                # What Twilio signs: the core's public URL (here, this stack's own).
                "PUBLIC_BASE_URL": core_url}
    common = {"PYTHONPATH": f"{ROOT}:{ROOT / 'bot'}", "RASA_TELEMETRY_ENABLED": "false",
              "TF_CPP_MIN_LOG_LEVEL": "2", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}

    def secrets_of(service: str) -> dict[str, str]:
        """The secrets `service` reads: list a new service in the `readers` of its secrets (scripts/environment.py)."""
        if secret_values is None:  # down, status: nothing is started
            return {}
        return {name: secret_values[name] for name in environment.names_for(service) if name in secret_values}

    workers = [
        Service(f"saga-worker-{n}", None,
                [str(ROOT / ".venv/bin/python"), "-m", "api.sagas.worker", "--executor-id", f"{args.name}-worker-{n}"],
                "", {**common, **secrets_of("worker"), "PROCESS_ROLE": "worker", "DATABASE_URL": args.database_url,
                     "REDIS_URL": args.redis_url, **provider_env, **channel_env})
        for n in range(1, args.saga_workers + 1)]
    return [
        Service("sandbox", args.sandbox_port,
                [str(ROOT / ".venv/bin/uvicorn"), "sandbox.app:app", "--host", "127.0.0.1", "--port",
                 str(args.sandbox_port), "--no-access-log", *GRACEFUL],
                "/healthz", {**common, **secrets_of("sandbox"),
                             "SANDBOX_DATABASE_URL": sandbox_database_url(args.database_url),
                             "SANDBOX_WEBHOOK_BASE_URL": core_url}),
        *workers,
        Service("core", args.core_port,
                [str(ROOT / ".venv/bin/uvicorn"), "api.main:app", "--host", "127.0.0.1", "--port",
                 str(args.core_port), "--workers", str(args.core_workers), "--no-access-log", *GRACEFUL,
                 "--timeout-worker-healthcheck", str(WORKER_READY_SECONDS)],
                "/healthz", {**common, **secrets_of("core"), **core_env}),
        Service("core-internal", internal_port,
                [str(ROOT / ".venv/bin/uvicorn"), "api.internal:app", "--host", "127.0.0.1", "--port",
                 str(internal_port), "--workers", "1", "--no-access-log", *GRACEFUL],
                "/healthz", {**common, **secrets_of("core"), **core_env}),
        # The transcript ingest in a process of its own: its redaction (Presidio, spaCy: tens of ms of CPU
        # per turn, holding the GIL) would otherwise delay core-internal's token exchanges, which every
        # action waits for during the turn. Rasa's event broker posts here (TRANSCRIPT_INGEST_URL). It is
        # the core's code with the core's settings, hence the core's secrets (TRANSCRIPT_INGEST_SECRET to
        # verify batches, PII_ENCRYPTION_KEY to seal originals) and its metrics directory.
        Service("core-ingest", ingest_port,
                [str(ROOT / ".venv/bin/uvicorn"), "api.internal:ingest_app", "--host", "127.0.0.1", "--port",
                 str(ingest_port), "--workers", str(ingest_workers), "--no-access-log", *GRACEFUL,
                 "--timeout-worker-healthcheck", str(WORKER_READY_SECONDS)],
                "/healthz", {**common, **secrets_of("core"), **core_env}),
        Service("actions", args.actions_port,
                [str(ROOT / ".venv-bot/bin/python"), "-m", "actions.server", "--host", "127.0.0.1", "--port",
                 str(args.actions_port)],
                "/health", {**common, **secrets_of("actions"), "CORE_URL": core_url,
                            "CORE_INTERNAL_URL": internal_url}),
        # Through scripts.rasa_serve: it checks Rasa's secrets first, and passes RASA_API_TOKEN as Rasa's
        # `--auth-token` inside the process (the HTTP API the core posts `resume` to; never on a command line).
        Service("rasa", args.rasa_port,
                [str(ROOT / ".venv-bot/bin/python"), "-m", "scripts.rasa_serve", "run", "--model",
                 str(args.model), "--endpoints", str(ROOT / "bot/endpoints.yml"), "--credentials",
                 str(ROOT / "bot/credentials.yml"), "--interface", "127.0.0.1", "--port", str(args.rasa_port),
                 "--enable-api"],
                "/webhooks/rest/",
                {**common, **secrets_of("rasa"), "ACTION_SERVER_URL": f"http://127.0.0.1:{args.actions_port}/webhook",
                 "TRANSCRIPT_INGEST_URL": f"{ingest_url}/v1/transcripts/events",
                 "REDIS_HOST": redis.hostname or "127.0.0.1", "REDIS_PORT": str(redis.port or 6379),
                 "REDIS_TRACKER_DB": str(args.redis_tracker_db), "REDIS_LOCK_DB": str(args.redis_tracker_db)}),
    ]


GRACEFUL = ["--timeout-graceful-shutdown", str(GRACEFUL_SHUTDOWN_SECONDS)]


def sandbox_database_url(database_url: str) -> str:
    """The sandbox's own database on the same server: the stack's database name plus `_sandbox`."""
    parts = urlsplit(database_url)
    return parts._replace(path=parts.path.rstrip("/") + "_sandbox").geturl()


def resolve_secrets() -> dict[str, str]:
    """Every secret the services read; exits naming the unusable ones (production) before anything starts."""
    try:
        return environment.require(environment.names_for(), who="the stack")
    except environment.SecretsError as exc:
        sys.exit(str(exc))


def metrics_dir(stack: str) -> Path:
    """Where every core process of this stack writes its Prometheus samples (api/internal.py adds them up)."""
    return VAR / "run" / stack / "metrics"


def reset_metrics(stack: str) -> None:
    """An empty metrics directory for a core that starts afresh (samples of dead processes would linger)."""
    directory = metrics_dir(stack)
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()


def pidfile(stack: str, service: str) -> Path:
    return VAR / "run" / stack / f"{service}.pid"


def running_pid(stack: str, service: Service) -> int | None:
    """The pid we started for this service, if that process still runs the same command."""
    path = pidfile(stack, service.name)
    try:
        pid = int(path.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (FileNotFoundError, ValueError, ProcessLookupError):
        path.unlink(missing_ok=True)
        return None
    if service.argv[0].encode() not in cmdline and Path(service.argv[0]).name.encode() not in b" ".join(cmdline):
        path.unlink(missing_ok=True)  # the pid was reused by something else
        return None
    return pid


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def service_healthy(service: Service, pid: int) -> bool:
    if service.port is None:
        return pid_alive(pid)
    return healthy(service.health_url)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback health URL
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def log_path(stack: str, service: str) -> Path:
    return VAR / "log" / (f"{service}.log" if stack == "dev" else f"{stack}-{service}.log")


def log_tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else "(no log)"


def start(stack: str, service: Service) -> int:
    (VAR / "log").mkdir(parents=True, exist_ok=True)
    pidfile(stack, service.name).parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path(stack, service.name), "ab")  # noqa: SIM115 - handed to the child
    env = {**os.environ, **service.env}
    process = subprocess.Popen(service.argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,  # noqa: S603
                               stdin=subprocess.DEVNULL, start_new_session=True)
    pidfile(stack, service.name).write_text(str(process.pid))
    return process.pid


def wait_healthy(stack: str, service: Service, pid: int, deadline: float) -> None:
    log = log_path(stack, service.name)
    while time.monotonic() < deadline:
        if service.port is None:
            if not pid_alive(pid):
                sys.exit(f"{service.name} exited during start-up; last lines of {log}:\n{log_tail(log)}")
            return
        if healthy(service.health_url):
            return
        try:
            os.kill(pid, 0)
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = 0
        except ProcessLookupError:
            done = pid
        if done == pid:
            sys.exit(f"{service.name} exited during start-up; last lines of {log}:\n{log_tail(log)}")
        time.sleep(0.5)
    sys.exit(f"{service.name} not healthy at {service.health_url} after {HEALTH_TIMEOUT_SECONDS}s; "
             f"see {log}:\n{log_tail(log)}")


def up(args: argparse.Namespace) -> None:
    todo: list[tuple[Service, int]] = []
    stack = services(args, resolve_secrets())
    # The ports follow from a few options (the internal listener and the ingest are the core's + 1 and + 2):
    # a --core-port two below --rasa-port would give two services one port, and the second would fail late.
    ports = [s.port for s in stack if s.port is not None]
    if clashes := sorted({p for p in ports if ports.count(p) > 1}):
        sys.exit("these services would share a port: " + ", ".join(
            f"{p}: {' and '.join(s.name for s in stack if s.port == p)}" for p in clashes) +
            "; choose other --core-port / --rasa-port / --actions-port / --sandbox-port")
    if not any(running_pid(args.name, s) for s in stack if s.name.startswith("core")):
        reset_metrics(args.name)
    missing = []
    for service in stack:
        pid = running_pid(args.name, service)
        if pid is not None:
            print(f"{service.name:13} already running (pid {pid}) on port {service.port}")
            continue
        missing.append(service)
    # Every port is checked before anything starts: a taken one leaves nothing half started.
    for service in missing:
        if service.port is not None and port_in_use(service.port):
            sys.exit(f"port {service.port} is taken by another process, so {service.name} cannot start.\n"
                     f"Find it with:  ss -ltnp 'sport = :{service.port}'  and stop it, or run `make down`.")
    for service in missing:
        pid = start(args.name, service)
        where = f"on port {service.port}" if service.port else "(no port)"
        print(f"{service.name:13} starting (pid {pid}) {where}, "
              f"log {log_path(args.name, service.name).relative_to(ROOT)}")
        todo.append((service, pid))
    deadline = time.monotonic() + HEALTH_TIMEOUT_SECONDS
    for service, pid in todo:
        wait_healthy(args.name, service, pid, deadline)
        print(f"{service.name:13} " + (f"healthy at {service.health_url}" if service.port else "running"))


def stop_pid(pid: int, name: str) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            print(f"{name:13} stopped")
            return
        time.sleep(0.2)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:  # it ended between the last look and now
        print(f"{name:13} stopped")
        return
    print(f"{name:13} killed after {STOP_TIMEOUT_SECONDS} s")


def restart(args: argparse.Namespace) -> None:
    """Stop one service (SIGTERM: uvicorn and Sanic finish in-flight requests) and start it again.

    The last line is `service=... stop_s=... start_s=...`: how long the drain took and how long until
    the service answered its health check again.
    """
    by_name = {s.name: s for s in services(args, resolve_secrets())}
    if args.service not in by_name:
        sys.exit(f"no service {args.service!r} in this stack; one of: {', '.join(by_name)}")
    service = by_name[args.service]
    started = time.monotonic()
    pid = running_pid(args.name, service)
    if pid is not None:
        stop_pid(pid, service.name)
    pidfile(args.name, service.name).unlink(missing_ok=True)
    stopped = time.monotonic()
    if service.port is not None and not wait_port_free(service.port, stopped + STOP_TIMEOUT_SECONDS):
        sys.exit(f"port {service.port} still taken after {service.name} stopped")
    new_pid = start(args.name, service)
    wait_healthy(args.name, service, new_pid, time.monotonic() + HEALTH_TIMEOUT_SECONDS)
    print(f"{service.name:13} restarted (pid {new_pid})")
    print(f"service={service.name} stop_s={stopped - started:.2f} start_s={time.monotonic() - stopped:.2f}")


def reload(args: argparse.Namespace) -> None:
    """Replace a uvicorn service's workers one at a time: SIGHUP to uvicorn's parent, which starts each new
    worker and stops the old one only once the new one serves (uvicorn 0.54). New code, no downtime;
    a restart instead leaves the core away while its workers load Presidio (docs/scaling.md)."""
    by_name = {s.name: s for s in services(args)}
    service = by_name.get(args.service)
    if service is None or "--workers" not in service.argv or int(service.argv[service.argv.index("--workers") + 1]) < 2:
        sys.exit(f"reload needs a uvicorn service with several workers (the core); {args.service!r} is not one: "
                 f"use restart")
    pid = running_pid(args.name, service)
    if pid is None:
        sys.exit(f"{service.name} is not running")
    before = worker_pids(pid)
    log = log_path(args.name, service.name)
    offset = log.stat().st_size if log.exists() else 0
    started = time.monotonic()
    os.kill(pid, signal.SIGHUP)
    while not ((now := worker_pids(pid)) and len(now) >= len(before) and not now & before):
        with open(log, "rb") as lines:
            lines.seek(offset)
            if b"aborting the restart" in lines.read():  # uvicorn kept an old worker: its replacement failed
                sys.exit(f"{service.name}: a new worker did not start serving; see {log}:\n{log_tail(log)}")
        if time.monotonic() - started > HEALTH_TIMEOUT_SECONDS:
            sys.exit(f"{service.name}: workers {sorted(now & before)} not replaced after {HEALTH_TIMEOUT_SECONDS} s; "
                     f"see {log_path(args.name, service.name)}")
        time.sleep(0.2)
    print(f"{service.name:13} workers {sorted(before)} replaced by {sorted(now)}")
    print(f"service={service.name} reload_s={time.monotonic() - started:.2f}")


def worker_pids(parent: int) -> set[int]:
    """uvicorn's workers: the parent's children started by multiprocessing's spawn (not its resource tracker)."""
    workers = set()
    try:
        children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    except FileNotFoundError:
        return workers
    for child in children:
        try:
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                workers.add(int(child))
        except FileNotFoundError:
            continue  # ended meanwhile
    return workers


def wait_port_free(port: int, deadline: float) -> bool:
    while time.monotonic() < deadline:
        if not port_in_use(port):
            return True
        time.sleep(0.1)
    return False


def down(args: argparse.Namespace) -> None:
    for service in reversed(services(args)):
        pid = running_pid(args.name, service)
        if pid is None:
            print(f"{service.name:13} not running")
            continue
        stop_pid(pid, service.name)
        pidfile(args.name, service.name).unlink(missing_ok=True)


def status(args: argparse.Namespace) -> None:
    for service in services(args):
        pid = running_pid(args.name, service)
        state = "down" if pid is None else ("healthy" if service_healthy(service, pid) else "unhealthy")
        print(f"{service.name:13} {state:9} port {service.port or '-'}" + (f" pid {pid}" if pid else ""))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("up", "down", "status", "restart", "reload"))
    parser.add_argument("service", nargs="?", help="restart, reload: the service's name (see `status`)")
    parser.add_argument("--replicas", type=int, default=1,
                        help="cores, Rasas and action servers each, behind a local balancer (scripts/replicas.py)")
    parser.add_argument("--name", default="dev")
    parser.add_argument("--core-port", type=int, default=8000)
    parser.add_argument("--rasa-port", type=int, default=5005)
    parser.add_argument("--actions-port", type=int, default=5055)
    parser.add_argument("--core-workers", type=int, default=int(os.environ.get("CORE_WORKERS", "2")))
    parser.add_argument("--saga-workers", type=int, default=int(os.environ.get("SAGA_WORKERS", "2")))
    # One is enough for a few turns a second (a turn's redaction is 22-47 ms); each more takes a core's
    # worth of redaction and loads its own Presidio (docs/scaling.md).
    parser.add_argument("--ingest-workers", type=int, default=int(os.environ.get("INGEST_WORKERS", "1")),
                        help="core-ingest's uvicorn workers (transcript redaction)")
    parser.add_argument("--sandbox-port", type=int, help="default: the core's port + 100 (8100)")
    parser.add_argument("--database-url", default=os.environ.get(
        "DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/bankbot"))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--redis-tracker-db", type=int, default=1)
    parser.add_argument("--model", default=str(VAR / "models" / "current.tar.gz"))
    args = parser.parse_args(argv)
    if args.sandbox_port is None:
        args.sandbox_port = args.core_port + 100
    if args.command in ("restart", "reload") and not args.service:
        parser.error(f"{args.command} needs a service name")
    {"up": up, "down": down, "status": status, "restart": restart, "reload": reload}[args.command](args)


if __name__ == "__main__":
    main()
