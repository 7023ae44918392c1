"""docker-compose.yml is parsed and checked here (this machine has no Docker engine to run it)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
import yaml

from api.config import REPO_ROOT
from scripts import environment

COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_services_present() -> None:
    assert {"postgres", "redis", "core", "actions", "rasa"} <= set(SERVICES)


def test_long_running_services_have_health_checks() -> None:
    for name in ("postgres", "redis", "core", "actions", "rasa"):
        assert "healthcheck" in SERVICES[name], name
        assert SERVICES[name]["healthcheck"]["test"], name


def test_dependencies_exist_and_conditions_are_valid() -> None:
    for name, service in SERVICES.items():
        for dependency, spec in (service.get("depends_on") or {}).items():
            assert dependency in SERVICES, (name, dependency)
            assert spec["condition"] in {"service_healthy", "service_completed_successfully", "service_started"}
            if spec["condition"] == "service_healthy":
                assert "healthcheck" in SERVICES[dependency], (name, dependency)


def test_only_the_core_publishes_a_port_and_only_on_loopback() -> None:
    published = {name: s["ports"] for name, s in SERVICES.items() if s.get("ports")}
    assert set(published) == {"core"}
    assert all(re.fullmatch(r"127\.0\.0\.1:\d+:\d+", p) for p in published["core"])


def test_dockerfiles_and_images_exist() -> None:
    for name, service in SERVICES.items():
        if "build" in service:
            assert (REPO_ROOT / service["build"]["dockerfile"]).is_file(), name
        else:
            built = {s.get("image") for s in SERVICES.values() if "build" in s}
            assert service["image"] in built or ":" in service["image"], name


def test_rasa_tracker_store_is_redis_not_sql() -> None:
    endpoints = yaml.safe_load((REPO_ROOT / "bot" / "endpoints.yml").read_text())
    # Rasa's Redis store, windowed (bot/bankbot_tracker_store.py): a subclass, so still Redis with an expiry.
    assert endpoints["tracker_store"]["type"] == "bankbot_tracker_store.WindowedRedisTrackerStore"
    source = (REPO_ROOT / "bot" / "bankbot_tracker_store.py").read_text()
    assert "class WindowedRedisTrackerStore(RedisTrackerStore):" in source
    assert endpoints["tracker_store"]["record_exp"] > 0
    assert endpoints["lock_store"]["type"] == "redis"
    env = SERVICES["rasa"]["environment"]
    for variable in re.findall(r"\$\{(\w+)\}", (REPO_ROOT / "bot" / "endpoints.yml").read_text()):
        assert variable in env, variable


def test_rasa_http_api_needs_the_token_the_core_has() -> None:
    """The core releases a handoff through Rasa's HTTP API: on, token-protected, the same token, unpublished.

    scripts.rasa_serve checks Rasa's secrets and adds `--auth-token $RASA_API_TOKEN` inside the process.
    """
    command = SERVICES["rasa"]["command"]
    assert command[:4] == ["python", "-m", "scripts.rasa_serve", "run"], command
    assert "--enable-api" in command
    assert "--auth-token" not in " ".join(command)  # no token on a command line
    assert SERVICES["rasa"]["environment"]["RASA_API_TOKEN"] == SERVICES["core"]["environment"]["RASA_API_TOKEN"]
    assert SERVICES["core"]["environment"]["RASA_API_TOKEN"].startswith("${RASA_API_TOKEN:?")
    assert not SERVICES["rasa"].get("ports")


def test_the_action_server_answers_only_rasa_with_a_required_token() -> None:
    """actions.server refuses requests without the token; compose refuses to start without it."""
    assert SERVICES["actions"]["command"][:3] == ["python", "-m", "actions.server"]
    token = SERVICES["actions"]["environment"]["ACTION_SERVER_TOKEN"]
    assert token.startswith("${ACTION_SERVER_TOKEN:?")
    assert SERVICES["rasa"]["environment"]["ACTION_SERVER_TOKEN"] == token
    assert not SERVICES["actions"].get("ports")
    endpoints = yaml.safe_load((REPO_ROOT / "bot" / "endpoints.yml").read_text())
    assert endpoints["action_endpoint"]["headers"]["Authorization"] == "Bearer ${ACTION_SERVER_TOKEN}"


APP_SERVICES = {"core": "core", "actions": "actions", "rasa": "rasa", "setup": "core", "seed": "core",
                "saga-worker-1": "worker", "saga-worker-2": "worker"}


def test_every_secret_is_required_and_has_no_default() -> None:
    """Each service gets exactly the secrets it reads (scripts/environment.py), each `${NAME:?message}`."""
    for service, reader in APP_SERVICES.items():
        env = SERVICES[service]["environment"]
        assert env["ENVIRONMENT"] == "production", service
        for name in environment.names_for(reader):
            if environment.BY_NAME[name].optional:
                assert env[name] == f"${{{name}:-}}", (service, name)  # empty unless set; the core checks it
                continue
            assert re.fullmatch(rf"\$\{{{name}:\?[^}}]*{name}[^}}]*\}}", env[name]), (service, name, env[name])
        others = set(environment.BY_NAME) - set(environment.names_for(reader))
        assert not others & set(env), (service, others & set(env))  # no secret where it is not read
    assert SERVICES["core"]["environment"]["KYC_WEBHOOK_SECRET"].startswith("${KYC_WEBHOOK_SECRET:?")
    text = (REPO_ROOT / "docker-compose.yml").read_text()
    assert "dev-only" not in text and "dev-password" not in text
    assert "${POSTGRES_PASSWORD:?" in SERVICES["postgres"]["environment"]["POSTGRES_PASSWORD"]
    assert not re.search(r"\$\{(POSTGRES_PASSWORD|[A-Z_]*(SECRET|TOKEN)):-", text)


def test_the_core_checks_its_secrets_before_uvicorn_forks_workers() -> None:
    """uvicorn --workers N restarts a worker that fails at import forever: the check runs first and exits."""
    command = SERVICES["core"]["command"]
    assert command[:2] == ["sh", "-c"]
    steps = command[2].split("&&")
    assert steps[0].split() == ["python", "-m", "scripts.environment", "check", "core"]
    assert steps[-1].split()[:3] == ["exec", "uvicorn", "api.main:app"]
    internal = SERVICES["core-internal"]["command"][2].split("&&")
    assert internal[0].split() == steps[0].split()
    assert internal[-1].split()[:3] == ["exec", "uvicorn", "api.internal:app"]
    assert "ports" not in SERVICES["core-internal"]  # the internal listener is on the compose network only


def test_demo_data_is_loaded_only_in_the_development_profile() -> None:
    seeding = [name for name, s in SERVICES.items() if "data.seed" in " ".join(s.get("command") or [])]
    assert seeding == ["seed"]
    assert SERVICES["seed"]["profiles"] == ["development"]
    assert SERVICES["sandbox"]["profiles"] == ["development"]  # a stand-in for the providers: never in production
    for name, service in SERVICES.items():
        if name not in ("seed", "sandbox"):
            assert "profiles" not in service, name
            # would not start without the profile
            assert not {"seed", "sandbox"} & set(service.get("depends_on") or {}), name


def test_saga_workers_have_stable_executor_ids_and_no_port() -> None:
    workers = {name: s for name, s in SERVICES.items() if name.startswith("saga-worker")}
    assert len(workers) >= 2
    ids = [s["command"][s["command"].index("--executor-id") + 1] for s in workers.values()]
    assert sorted(ids) == sorted(workers) and len(set(ids)) == len(ids)
    assert not any("ports" in s for s in workers.values())
    assert all(s["environment"]["PROCESS_ROLE"] == "worker" for s in workers.values())


def _compose() -> list[str] | None:
    for command in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(command[0]) is None:
            continue
        try:
            version = subprocess.run([*command, "version"], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if version.returncode == 0 and re.search(r"\bv?2\.\d+", version.stdout):
            return command
    return None


@pytest.mark.skipif(_compose() is None, reason="no Docker Compose v2 binary on this machine")
def test_docker_compose_config_validates_and_requires_every_secret() -> None:
    command = _compose()
    assert command is not None
    secrets_env = {name: environment.generate(name) for name in environment.BY_NAME}
    secrets_env["POSTGRES_PASSWORD"] = environment.generate("JWT_SECRET")
    base = {k: v for k, v in os.environ.items() if k not in secrets_env}
    ok = subprocess.run([*command, "--profile", "development", "config", "-q"], cwd=REPO_ROOT,
                        env={**base, **secrets_env}, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    for name in ("JWT_SECRET", "KYC_WEBHOOK_SECRET", "ACTION_SERVER_TOKEN", "POSTGRES_PASSWORD"):
        missing = subprocess.run([*command, "config", "-q"], cwd=REPO_ROOT, capture_output=True, text=True,
                                 env={**base, **{k: v for k, v in secrets_env.items() if k != name}}, timeout=60)
        # Some compose builds print the interpolation error but exit 0: the error is what counts.
        assert missing.returncode != 0 or "required variable" in missing.stderr, name
        assert name in missing.stderr, missing.stderr
