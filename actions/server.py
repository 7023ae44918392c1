"""The action server's entry point: rasa_sdk's app, on loopback, answering only callers with the token.

    python -m actions.server --port 5055 [--host 127.0.0.1]

rasa_sdk's own `rasa run actions` listens on every interface and runs any action for anyone who can
reach `/webhook` (a forged tracker was enough to read a customer's balances). Here every request but
`/health` must carry `Authorization: Bearer <ACTION_SERVER_TOKEN>`, which Rasa sends (bot/endpoints.yml);
the comparison is constant-time on bytes, so no header value can make it raise.

ACTION_SERVER_TOKEN and SERVICE_CLIENT_SECRET come from the environment, else (ENVIRONMENT=development)
from var/secrets.env, generated once; with ENVIRONMENT=production the server refuses to start when either
is missing, too short or a development value (scripts/environment.py, docs/operations.md).
"""

from __future__ import annotations

import argparse
import hmac
import json
import logging
import os
import sys
import time
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

from rasa_sdk.endpoint import create_app
from sanic import Request, response
from sanic.response import HTTPResponse

import bankbot_correlation
from actions import telemetry
from scripts import environment

# /metrics is open like /health: counts and timings only, and the server listens on loopback or the
# internal network only (as the core's internal /metrics, docs/operations.md).
OPEN_PATHS = frozenset({"/health", "/metrics"})
logger = logging.getLogger(__name__)


def bearer_guard(token: str) -> Callable[[Request], Awaitable[HTTPResponse | None]]:
    """A request middleware that answers 401 unless the request carries the token (or is a health check)."""
    expected = token.encode()

    async def guard(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        header = request.headers.get("authorization") or ""
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected):
            return response.json({"error": "unauthorized"}, status=401)
        return None

    return guard


def _action_call(request: Request) -> dict[str, Any]:
    """The body of Rasa's action call (rasa_sdk accepts it deflated too); {} when it is not JSON."""
    try:
        if request.headers.get("Content-Encoding") == "deflate":
            body = json.loads(zlib.decompress(request.body))
        else:
            body = request.json
    except (ValueError, zlib.error):
        return {}
    return body if isinstance(body, dict) else {}


async def start_turn(request: Request) -> None:
    """Bind the core's request id of the message being handled (its metadata) for this request's task:
    every log line and every core call of the action carries it (bankbot_correlation.py)."""
    if request.path != "/webhook":
        return
    call = _action_call(request)
    tracker = call.get("tracker") if isinstance(call.get("tracker"), dict) else {}
    latest = tracker.get("latest_message") if isinstance(tracker.get("latest_message"), dict) else {}
    bankbot_correlation.current.set(bankbot_correlation.from_metadata(latest.get("metadata")))
    request.ctx.action = telemetry.action_label(call.get("next_action"))
    request.ctx.started = time.perf_counter()


async def finish_turn(request: Request, response: HTTPResponse) -> None:
    started = getattr(request.ctx, "started", None)
    if started is None:
        return
    elapsed = time.perf_counter() - started
    telemetry.ACTION_RUN.observe(request.ctx.action, elapsed)
    logger.info("action %s answered %d in %.1f ms", request.ctx.action, response.status, elapsed * 1000)


async def metrics(_: Request) -> HTTPResponse:
    return response.text(telemetry.exposition(), content_type="text/plain; version=0.0.4; charset=utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--host", default=os.environ.get("ACTION_SERVER_HOST", "127.0.0.1"))
    args = parser.parse_args(argv)
    try:
        values = environment.require(environment.names_for("actions"), who="the action server")
    except environment.SecretsError as exc:
        sys.exit(str(exc))
    token = values["ACTION_SERVER_TOKEN"]  # the same value Rasa sends: the action server answers no one else
    environment.export(values)  # actions/settings.py reads SERVICE_CLIENT_SECRET per call
    # bankbot_logging already gave the root logger a handler (so basicConfig would do nothing): set the
    # level here. httpx logs every request's URL at INFO, and a query string may carry what the customer
    # asked about (a merchant, a search): it stays at WARNING, as in the core (api/logging_setup.py).
    logging.getLogger().setLevel(logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    app = create_app("actions", cors_origins=None)
    app.register_middleware(bearer_guard(token), "request")
    app.register_middleware(start_turn, "request")  # after the guard: an unauthorised call is never timed
    app.register_middleware(finish_turn, "response")
    app.add_route(metrics, "/metrics", methods=["GET"])
    logger.info("action server on http://%s:%d (token required)", args.host, args.port)
    app.run(args.host, args.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
