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
import logging
import os
import sys
from collections.abc import Awaitable, Callable

from rasa_sdk.endpoint import create_app
from sanic import Request, response
from sanic.response import HTTPResponse

from scripts import environment

OPEN_PATHS = frozenset({"/health"})
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
    logging.basicConfig(level=logging.INFO)
    app = create_app("actions", cors_origins=None)
    app.register_middleware(bearer_guard(token), "request")
    logger.info("action server on http://%s:%d (token required)", args.host, args.port)
    app.run(args.host, args.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
