"""docker-compose.yml is parsed and checked here (this machine has no Docker engine to run it)."""

from __future__ import annotations

import re

import yaml

from api.config import REPO_ROOT

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
    assert endpoints["tracker_store"]["type"] == "redis"
    assert endpoints["tracker_store"]["record_exp"] > 0
    assert endpoints["lock_store"]["type"] == "redis"
    env = SERVICES["rasa"]["environment"]
    for variable in re.findall(r"\$\{(\w+)\}", (REPO_ROOT / "bot" / "endpoints.yml").read_text()):
        assert variable in env, variable


def test_rasa_http_api_needs_the_token_the_core_has() -> None:
    """The core releases a handoff through Rasa's HTTP API: on, token-protected, the same token, unpublished."""
    command = " ".join(SERVICES["rasa"]["command"])
    assert "--enable-api" in command
    assert re.search(r"--auth-token \"?\$\$RASA_API_TOKEN\b", command), command  # `$$`: expanded in the container
    assert SERVICES["rasa"]["environment"]["RASA_API_TOKEN"] == SERVICES["core"]["environment"]["RASA_API_TOKEN"]
    assert SERVICES["core"]["environment"]["RASA_API_TOKEN"].startswith("${RASA_API_TOKEN")
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
