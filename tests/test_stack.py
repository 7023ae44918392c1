"""The process manager behind `make up` / `make down`: clear errors, nothing started twice."""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys

from api.config import REPO_ROOT


def _stack(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scripts.stack", *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=60)


def test_a_port_taken_by_something_else_is_a_clear_error() -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        result = _stack("up", "--name", "porttest", "--core-port", str(port), "--actions-port", "1",
                        "--rasa-port", "2")
    assert result.returncode != 0
    assert f"port {port} is taken by another process" in result.stderr
    assert not (REPO_ROOT / "var" / "run" / "porttest" / "core.pid").exists()


def test_down_of_a_stack_that_never_ran_stops_nothing() -> None:
    result = _stack("down", "--name", "nothing-here")
    assert result.returncode == 0
    assert result.stdout.count("not running") == 3


def test_missing_python310_is_explained(tmp_path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHON_BOT": ""}  # no pyenv, no python3.10
    result = subprocess.run(["/bin/bash", str(REPO_ROOT / "scripts" / "find-python310.sh")], env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "No Python 3.10 found" in result.stderr and "pyenv install 3.10" in result.stderr


def test_rasa_api_is_on_loopback_with_the_core_s_token(monkeypatch) -> None:
    from scripts import stack

    monkeypatch.setenv("RASA_API_TOKEN", "a-token-for-this-test-only")
    args = argparse.Namespace(
        core_port=1, rasa_port=2, actions_port=3, core_workers=1, database_url="postgresql://x/y",
        redis_url="redis://127.0.0.1:6379/0", redis_tracker_db=1, model="m.tar.gz")
    services = {s.name: s for s in stack.services(args)}
    rasa = services["rasa"].argv
    assert "--enable-api" in rasa
    assert rasa[rasa.index("--auth-token") + 1] == "a-token-for-this-test-only"
    assert rasa[rasa.index("--interface") + 1] == "127.0.0.1"
    assert services["core"].env["RASA_API_TOKEN"] == "a-token-for-this-test-only"
