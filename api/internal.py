"""The core's internal listener: what only the other services and the operator call, never the public door.

    uvicorn api.internal:app --host 127.0.0.1 --port 8001      (scripts/stack.py starts it beside the core)

The public app (api/main.py) is what the internet reaches. The action server's token exchange, the
event broker's transcript ingest and the Prometheus metrics are served here only, on loopback (or the
compose network, never published), so a caller from outside cannot even reach them. Each still
authenticates its caller (client secret and grant; HMAC signature): a listener is not a credential.

Metrics: every core process writes its samples to PROMETHEUS_MULTIPROC_DIR when it is set (the public
workers included; scripts/stack.py empties it at each start), and /metrics here adds them all up.
Without it (tests in one process) the process's own registry is served.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, make_asgi_app, multiprocess
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp

from api import db_async, privacy, problems
from api.auth.views import internal_router as auth_internal_router
from api.config import get_settings
from api.health.views import router as health_router
from api.logging_setup import configure
from api.middleware import BodyLimitMiddleware, RequestIdMiddleware
from api.transcripts.views import internal_router as transcripts_internal_router


def metrics_app() -> ASGIApp:
    """Prometheus exposition: every core process's samples when they share a directory, else this one's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return make_asgi_app(registry)
    return make_asgi_app()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    await run_in_threadpool(privacy.warm_up)  # the transcript ingest redacts: load Presidio before the first batch
    yield
    await db_async.close_all()


def create_internal_app() -> FastAPI:
    settings = get_settings()
    configure(settings.log_level)
    app = FastAPI(title="Bankbot core (internal)", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    problems.install(app)
    for router in (health_router, auth_internal_router, transcripts_internal_router):
        app.include_router(router)
    app.mount("/metrics", metrics_app())
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestIdMiddleware)
    return app


app = create_internal_app()
