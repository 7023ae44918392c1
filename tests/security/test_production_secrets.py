"""Secrets per environment (scripts/environment.py, docs/operations.md), tested on the real entry points.

Production: the core (`import api.main`, uvicorn), the action server (`python -m actions.server`) and the
Rasa wrapper (`python -m scripts.rasa_serve run ...`) are started as subprocesses, each with its own
interpreter, and must exit non-zero, quickly (before any model), naming the secret and never printing it,
when a secret is missing, a development value or too short. Development: var/secrets.env (here in a
temporary directory, through BANKBOT_SECRETS_FILE) is made once, 0600, by racing processes alike.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from api.config import REPO_ROOT, Settings
from scripts import environment
from scripts.rasa_serve import prepare

CORE_PYTHON = str(REPO_ROOT / ".venv" / "bin" / "python")
BOT_PYTHON = str(REPO_ROOT / ".venv-bot" / "bin" / "python")
QUICK_SECONDS = 30  # the refusals take about a second; Rasa loading TensorFlow and a model takes far longer


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def good_values() -> dict[str, str]:
    return {s.name: environment.generate(s.name) for s in environment.SECRETS}


def base_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """A clean environment: no secret from the caller's, the secrets file pointed at a temporary path."""
    env = {k: v for k, v in os.environ.items() if k not in environment.BY_NAME and k != "ENVIRONMENT"}
    env.update({"PYTHONPATH": f"{REPO_ROOT}:{REPO_ROOT / 'bot'}", "PYTHONDONTWRITEBYTECODE": "1",
                environment.FILE_ENV_VAR: str(tmp_path / "var" / "secrets.env"),
                "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"})
    env.update(overrides)
    return env


ENTRY_POINTS = {
    "core": lambda: [CORE_PYTHON, "-c", "import api.main"],
    "core-uvicorn": lambda: [str(REPO_ROOT / ".venv" / "bin" / "uvicorn"), "api.main:app", "--host", "127.0.0.1",
                             "--port", str(_free_port())],
    "actions": lambda: [BOT_PYTHON, "-m", "actions.server", "--host", "127.0.0.1", "--port", str(_free_port())],
    "rasa": lambda: [BOT_PYTHON, "-m", "scripts.rasa_serve", "run", "--model", "/nonexistent/model.tar.gz",
                     "--enable-api", "--interface", "127.0.0.1", "--port", str(_free_port())],
}
READERS = {"core": "core", "core-uvicorn": "core", "actions": "actions", "rasa": "rasa"}
BAD_VALUES = {
    "missing": None,
    "dev-only": "dev-only-" + "k3y-Z" * 8,
    "too-short": "Xy7-short-Q2",
    "demo-password": "demo-password",
}


def start(argv: list[str], env: dict[str, str], timeout: float = QUICK_SECONDS) -> tuple[int, str, float]:
    started = time.monotonic()
    result = subprocess.run(argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout,
                            stdin=subprocess.DEVNULL)
    return result.returncode, result.stdout + result.stderr, time.monotonic() - started


@pytest.mark.parametrize("case", list(BAD_VALUES))
@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_production_refuses_an_unusable_secret(entry: str, case: str, tmp_path: Path) -> None:
    names = [n for n in environment.names_for(READERS[entry]) if not environment.BY_NAME[n].optional]
    # A different secret of the entry point for each case, so every one of them is seen refused.
    victim = names[list(BAD_VALUES).index(case) % len(names)]
    values = good_values()
    bad = BAD_VALUES[case]
    if bad is None:
        del values[victim]
    else:
        values[victim] = bad
    code, output, seconds = start(ENTRY_POINTS[entry](), base_env(tmp_path, ENVIRONMENT="production", **values))
    assert code != 0, output
    assert victim in output, output
    assert "refuses to start" in output and "generate" in output, output
    others = [n for n in names if n != victim]
    assert not any(f"- {n} " in output for n in others), output  # only the bad one is named
    assert not any(value in output for value in values.values()), "a secret was printed"
    assert seconds < QUICK_SECONDS
    assert not (tmp_path / "var").exists(), "production must not write a secrets file"


@pytest.mark.parametrize("entry", ["core", "actions", "rasa"])
def test_production_names_every_missing_secret_at_once(entry: str, tmp_path: Path) -> None:
    code, output, _ = start(ENTRY_POINTS[entry](), base_env(tmp_path, ENVIRONMENT="production"))
    assert code != 0
    for name in environment.names_for(READERS[entry]):
        if not environment.BY_NAME[name].optional:
            assert f"{name} is not set" in output, output
    assert "PII_ENCRYPTION_KEY" not in output  # optional while originals are not sealed


def test_production_core_loads_with_good_secrets(tmp_path: Path) -> None:
    code, output, _ = start([CORE_PYTHON, "-c", "from api.config import get_settings; "
                                                "s = get_settings(); print(s.environment, len(s.jwt_secret))"],
                            base_env(tmp_path, ENVIRONMENT="production", **good_values()))
    assert code == 0, output
    assert output.split()[-2:] == ["production", "43"], output
    assert not (tmp_path / "var").exists()


def test_production_sealing_needs_a_real_fernet_key(tmp_path: Path) -> None:
    values = good_values()
    key = values.pop("PII_ENCRYPTION_KEY")
    argv = [CORE_PYTHON, "-c", "from api.config import get_settings; print(get_settings().transcript_seal_originals)"]
    sealing = base_env(tmp_path, ENVIRONMENT="production", TRANSCRIPT_SEAL_ORIGINALS="true", **values)
    code, output, _ = start(argv, sealing)
    assert code != 0 and "PII_ENCRYPTION_KEY is not set" in output, output
    code, output, _ = start(argv, {**sealing, "PII_ENCRYPTION_KEY": "not-a-fernet-key-but-long-enough-0123456789"})
    assert code != 0 and "PII_ENCRYPTION_KEY is not a comma-separated list of Fernet keys" in output, output
    code, output, _ = start(argv, {**sealing, "PII_ENCRYPTION_KEY": key})
    assert code == 0 and output.split()[-1] == "True", output
    # The compliance module really opens with it (the same check as api/privacy/crypto.py's Fernet).
    from cryptography.fernet import Fernet

    assert Fernet(key.encode()).decrypt(Fernet(key.encode()).encrypt(b"x")) == b"x"


def test_every_entry_point_refuses_a_misspelt_environment(tmp_path: Path) -> None:
    """`Production` is not `production`: nothing falls back to development (and its generated secrets)."""
    for argv in (ENTRY_POINTS["rasa"](), ENTRY_POINTS["core"](), [CORE_PYTHON, "-m", "scripts.environment", "check"]):
        code, output, _ = start(argv, base_env(tmp_path, ENVIRONMENT="Production", **good_values()))
        assert code != 0, (argv, output)
        assert "ENVIRONMENT" in output or "environment" in output, output


def test_production_action_server_starts_with_good_secrets(tmp_path: Path) -> None:
    port = _free_port()
    values = good_values()
    env = base_env(tmp_path, ENVIRONMENT="production", **values)
    process = subprocess.Popen([BOT_PYTHON, "-m", "actions.server", "--host", "127.0.0.1", "--port", str(port)],
                               cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "the action server did not answer /health"
                time.sleep(0.3)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/actions",
                                         headers={"Authorization": f"Bearer {values['ACTION_SERVER_TOKEN']}"})
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            assert response.status == 200
    finally:
        process.terminate()
        process.wait(timeout=15)
    assert not (tmp_path / "var").exists()


def test_the_rasa_wrapper_hands_rasa_the_token_inside_the_process(tmp_path: Path) -> None:
    values = good_values()
    env = {**values, "ENVIRONMENT": "production"}
    argv, exported = prepare(["run", "--model", "m.tar.gz", "--enable-api", "--port", "5005"], env)
    assert argv == ["run", "--model", "m.tar.gz", "--enable-api", "--port", "5005", "--auth-token",
                    values["RASA_API_TOKEN"]]
    assert exported["ACTION_SERVER_TOKEN"] == values["ACTION_SERVER_TOKEN"]
    assert exported["TRANSCRIPT_INGEST_SECRET"] == values["TRANSCRIPT_INGEST_SECRET"]
    # Without the API, no API token is needed; other commands (training, `run actions`) are not checked.
    argv, exported = prepare(["run", "--model", "m.tar.gz"], {**env, "RASA_API_TOKEN": ""})
    assert "--auth-token" not in argv and "RASA_API_TOKEN" not in exported
    assert prepare(["train", "--fixed-model-name", "x"], {"ENVIRONMENT": "production"}) == (
        ["train", "--fixed-model-name", "x"], {})
    # A command-line token is checked like the environment's.
    with pytest.raises(environment.SecretsError, match="RASA_API_TOKEN is a development value"):
        prepare(["run", "--enable-api", "--auth-token", "dev-only-" + "x1y2z3" * 6], env)


# --- development ---------------------------------------------------------------------------------------

def test_development_creates_the_file_once_private_and_random(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secrets.env"
    first = environment.ensure_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert set(first) == set(environment.BY_NAME)
    before = path.read_bytes()
    assert environment.ensure_file(path) == first
    assert path.read_bytes() == before
    assert environment.problems(first, production=True, required=list(first)) == []  # usable even in production
    assert not any(v.startswith("dev-only") for v in first.values())
    assert all(len(first[s.name]) >= s.min_length for s in environment.SECRETS)
    other = environment.ensure_file(tmp_path / "elsewhere" / "secrets.env")
    assert not set(other.values()) & set(first.values())  # drawn at random, not a constant


def test_two_processes_starting_together_get_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secrets.env"
    go = time.time() + 1.5
    script = ("import json, sys, time; from scripts import environment; time.sleep(max(0, float(sys.argv[1]) - "
              "time.time())); print(json.dumps(environment.resolve(environment.names_for())))")
    env = base_env(tmp_path)
    processes = [subprocess.Popen([sys.executable, "-c", script, str(go)], cwd=REPO_ROOT, env=env,
                                  stdout=subprocess.PIPE, text=True) for _ in range(8)]
    answers = [json.loads(p.communicate(timeout=60)[0]) for p in processes]
    assert all(p.returncode == 0 for p in processes)
    assert all(answer == answers[0] for answer in answers)
    assert environment.read_file(path) == answers[0]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".secrets-")] == []  # no temporary left


def test_a_secret_added_later_is_appended_and_the_others_kept(tmp_path: Path) -> None:
    path = tmp_path / "secrets.env"
    path.write_text("JWT_SECRET=kept-from-an-older-file-0123456789abcdef\n")
    path.chmod(0o644)
    values = environment.ensure_file(path)
    assert values["JWT_SECRET"] == "kept-from-an-older-file-0123456789abcdef"
    assert set(values) == set(environment.BY_NAME)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_environment_wins_over_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "var" / "secrets.env"
    monkeypatch.setenv(environment.FILE_ENV_VAR, str(path))
    monkeypatch.delenv("ENVIRONMENT", raising=False)
    for name in environment.BY_NAME:
        monkeypatch.delenv(name, raising=False)
    mine = "set-in-the-environment-" + "A1b2C3d4" * 3
    monkeypatch.setenv("RASA_API_TOKEN", mine)
    settings = Settings()
    from_file = environment.read_file(path)
    assert settings.environment == "development"
    assert settings.rasa_api_token == mine and from_file["RASA_API_TOKEN"] != mine
    assert settings.jwt_secret == from_file["JWT_SECRET"]
    assert settings.service_client_secret == from_file["SERVICE_CLIENT_SECRET"]
    assert settings.kyc_webhook_secret == from_file["KYC_WEBHOOK_SECRET"]
    assert settings.transcript_ingest_secret == from_file["TRANSCRIPT_INGEST_SECRET"]
    assert all(v not in repr(settings) for v in [*from_file.values(), mine])  # no secret in the repr
    # The action server's process reads the same file, the environment first.
    code, output, _ = start([BOT_PYTHON, "-c", "from actions.settings import load; from scripts import environment;"
                             " print(load().client_secret == environment.read_file(environment.secrets_file())"
                             "['SERVICE_CLIENT_SECRET'], environment.value('RASA_API_TOKEN') == "
                             f"{mine!r})"], base_env(tmp_path, RASA_API_TOKEN=mine))
    assert code == 0 and output.split()[-2:] == ["True", "True"], output


def test_development_still_refuses_a_too_short_secret_from_the_environment(tmp_path: Path) -> None:
    code, output, _ = start(ENTRY_POINTS["core"](), base_env(tmp_path, JWT_SECRET="short-but-set"))
    assert code != 0 and "JWT_SECRET is too short (13 characters; at least 32)" in output, output
    assert "short-but-set" not in output


def test_no_public_development_value_is_left_in_the_code() -> None:
    """The old `dev-only-...` defaults are gone from code and configuration (tests may still use such values)."""
    tracked = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO_ROOT,
                             capture_output=True, text=True, check=True).stdout.split()
    offenders = [name for name in tracked
                 if not name.startswith("tests/") and Path(name).suffix in {".py", ".yml", ".yaml", ".sh", ".toml"}
                 and (REPO_ROOT / name).is_file() and "dev-only-" in (REPO_ROOT / name).read_text(errors="replace")]
    assert offenders == [], offenders
