"""The process manager behind `make up` / `make down`: clear errors, nothing started twice."""

from __future__ import annotations

import argparse
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

from api.config import REPO_ROOT
from scripts import environment


def _stack(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scripts.stack", *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=60, env=env)


def _env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """The caller's environment without its secrets, the secrets file in a temporary directory."""
    env = {k: v for k, v in os.environ.items() if k not in environment.BY_NAME and k != "ENVIRONMENT"}
    return {**env, environment.FILE_ENV_VAR: str(tmp_path / "secrets.env"), **overrides}


def test_a_port_taken_by_something_else_is_a_clear_error(tmp_path) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        result = _stack("up", "--name", "porttest", "--core-port", str(port), "--actions-port", "1",
                        "--rasa-port", "2", env=_env(tmp_path))
    assert result.returncode != 0
    assert f"port {port} is taken by another process" in result.stderr
    # Nothing was started, not even the services before the core in the stack's order.
    assert not list((REPO_ROOT / "var" / "run" / "porttest").glob("*.pid"))
    # `up` made the development secrets before starting anything: every secret, private to the user.
    assert set(environment.read_file(tmp_path / "secrets.env")) == set(environment.BY_NAME)
    assert stat.S_IMODE((tmp_path / "secrets.env").stat().st_mode) == 0o600


def test_production_up_with_an_unusable_secret_starts_nothing(tmp_path) -> None:
    values = {name: environment.generate(name) for name in environment.BY_NAME}
    del values["ACTION_SERVER_TOKEN"]
    values["JWT_SECRET"] = "dev-only-" + "q7Rt" * 10
    result = _stack("up", "--name", "prodtest", "--core-port", "1", "--actions-port", "2", "--rasa-port", "3",
                    env=_env(tmp_path, ENVIRONMENT="production", **values))
    assert result.returncode != 0
    assert "ACTION_SERVER_TOKEN is not set" in result.stderr and "JWT_SECRET is a development value" in result.stderr
    assert values["JWT_SECRET"] not in result.stderr + result.stdout
    assert not (REPO_ROOT / "var" / "run" / "prodtest").exists()
    assert not (tmp_path / "secrets.env").exists()  # production never writes the file


def test_down_of_a_stack_that_never_ran_stops_nothing(tmp_path) -> None:
    # Even in production without a single secret: stopping needs none.
    result = _stack("down", "--name", "nothing-here", env=_env(tmp_path, ENVIRONMENT="production"))
    assert result.returncode == 0, result.stderr
    # sandbox, two saga workers, core, its internal listener, its transcript ingest, action server, Rasa
    assert result.stdout.count("not running") == 8


def test_missing_python310_is_explained(tmp_path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHON_BOT": ""}  # no pyenv, no python3.10
    result = subprocess.run(["/bin/bash", str(REPO_ROOT / "scripts" / "find-python310.sh")], env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "No Python 3.10 found" in result.stderr and "pyenv install 3.10" in result.stderr


ARGS = argparse.Namespace(name="unit", core_port=1, rasa_port=2, actions_port=3, core_workers=1, saga_workers=2,
                          sandbox_port=4, database_url="postgresql://x/y",
                          redis_url="redis://127.0.0.1:6379/0", redis_tracker_db=1, model="m.tar.gz")


def test_rasa_api_is_on_loopback_with_the_core_s_token() -> None:
    from scripts import stack

    values = {name: environment.generate(name) for name in environment.BY_NAME}
    services = {s.name: s for s in stack.services(ARGS, values)}
    rasa = services["rasa"].argv
    assert rasa[1:4] == ["-m", "scripts.rasa_serve", "run"]  # checks the secrets, adds --auth-token in process
    assert "--enable-api" in rasa
    assert "--auth-token" not in rasa and values["RASA_API_TOKEN"] not in rasa  # not visible in `ps`
    assert rasa[rasa.index("--interface") + 1] == "127.0.0.1"
    assert services["rasa"].env["RASA_API_TOKEN"] == services["core"].env["RASA_API_TOKEN"] == values["RASA_API_TOKEN"]


def test_each_service_gets_exactly_the_secrets_it_reads() -> None:
    from scripts import stack

    values = {name: environment.generate(name) for name in environment.BY_NAME}
    for service in stack.services(ARGS, values):
        given = {name for name in service.env if name in environment.BY_NAME}
        # The internal listener and the ingest are the core's other doors (api/internal.py): the same settings,
        # the same secrets.
        reader = {"core-internal": "core", "core-ingest": "core"}.get(service.name, service.name.rsplit("-", 1)[0]
                                                if service.name.startswith("saga-worker") else service.name)
        reader = "worker" if reader == "saga-worker" else reader
        assert given == set(environment.names_for(reader)), service.name
        assert all(service.env[name] == values[name] for name in given)
        assert not any(value in " ".join(service.argv) for value in values.values()), service.name
    # down and status resolve no secret at all.
    assert not any(name in s.env for s in stack.services(ARGS) for name in environment.BY_NAME)


def test_restart_names_the_services_it_knows(tmp_path) -> None:
    result = _stack("restart", "nope", "--name", "restarttest", "--core-port", "1", "--actions-port", "2",
                    "--rasa-port", "3", env=_env(tmp_path))
    assert result.returncode != 0
    assert "no service 'nope'" in result.stderr and "core" in result.stderr and "rasa" in result.stderr
    assert not (REPO_ROOT / "var" / "run" / "restarttest").exists()  # nothing stopped or started
    assert _stack("restart", env=_env(tmp_path)).returncode == 2  # which service, then?


def test_uvicorn_drains_for_less_than_the_stop_waits() -> None:
    """A SIGTERMed core finishes its requests (--timeout-graceful-shutdown) before `down` would SIGKILL it."""
    from scripts import stack

    assert stack.GRACEFUL_SHUTDOWN_SECONDS < stack.STOP_TIMEOUT_SECONDS
    for service in stack.services(ARGS):
        if "uvicorn" in service.argv[0]:
            assert service.argv[service.argv.index("--timeout-graceful-shutdown") + 1] == str(
                stack.GRACEFUL_SHUTDOWN_SECONDS), service.name


def test_the_transcript_ingest_has_its_own_loopback_process_and_rasa_posts_there() -> None:
    """core-ingest (the core's port + 2) serves the event broker, so redaction never delays core-internal's
    token exchanges; the action server still trades its grants at core-internal."""
    from scripts import stack

    args = argparse.Namespace(**{**vars(ARGS), "core_port": 8000, "rasa_port": 5005, "actions_port": 5055,
                                 "sandbox_port": 8100})
    services = {s.name: s for s in stack.services(args, {})}
    ingest = services["core-ingest"]
    assert ingest.port == 8002 and ingest.health_url == "http://127.0.0.1:8002/healthz"
    assert ingest.argv[1:3] == ["api.internal:ingest_app", "--host"]
    assert ingest.argv[ingest.argv.index("--host") + 1] == "127.0.0.1"
    assert ingest.argv[ingest.argv.index("--workers") + 1] == "1"
    assert ingest.env["PROMETHEUS_MULTIPROC_DIR"] == services["core"].env["PROMETHEUS_MULTIPROC_DIR"]
    assert services["rasa"].env["TRANSCRIPT_INGEST_URL"] == "http://127.0.0.1:8002/v1/transcripts/events"
    assert services["actions"].env["CORE_INTERNAL_URL"] == "http://127.0.0.1:8001"
    assert services["core-internal"].argv[1] == "api.internal:app"
    more = stack.services(argparse.Namespace(**{**vars(args), "ingest_workers": 2}), {})
    ingest = next(s for s in more if s.name == "core-ingest")
    assert ingest.argv[ingest.argv.index("--workers") + 1] == "2"


def test_the_ingest_app_serves_the_ingest_and_nothing_else() -> None:
    from fastapi.testclient import TestClient

    from api.internal import app, ingest_app

    with TestClient(ingest_app) as client:  # runs the lifespan: Presidio warms up before the first batch
        assert client.get("/healthz").status_code == 200
        assert client.post("/v1/transcripts/events", json={"events": []}).status_code == 401  # unsigned
        assert client.post("/v1/auth/service-token", json={}).status_code == 404
        assert client.get("/metrics/").status_code == 404
    client = TestClient(app)
    assert client.post("/v1/auth/service-token", json={}).status_code == 422
    assert client.post("/v1/transcripts/events", json={"events": []}).status_code == 404  # core-ingest's only


def test_up_refuses_ports_two_services_would_share(tmp_path) -> None:
    # The ingest is the core's port + 2: a core two below Rasa would put both on one port.
    result = _stack("up", "--name", "clashtest", "--core-port", "18983", "--rasa-port", "18985", "--actions-port",
                    "18986", env=_env(tmp_path))
    assert result.returncode != 0
    assert "18985: core-ingest and rasa" in result.stderr, result.stderr
    assert not (REPO_ROOT / "var" / "run" / "clashtest").exists()  # refused before anything, metrics included
