"""The core's internal listeners: what only the other services and the operator call, never the public door.

    uvicorn api.internal:app        --host 127.0.0.1 --port 8001   core-internal: token exchange, metrics
    uvicorn api.internal:ingest_app --host 127.0.0.1 --port 8002   core-ingest: the transcript ingest only

The public app (api/main.py) is what the internet reaches. The action server's token exchange, the
event broker's transcript ingest and the Prometheus metrics are served here only, on loopback (or the
compose network, never published), so a caller from outside cannot even reach them. Each still
authenticates its caller (client secret and grant; HMAC signature): a listener is not a credential.

Why the ingest has a process of its own (core-ingest, scripts/stack.py): redaction (Presidio and spaCy)
costs 22-47 ms of CPU per turn's batch and holds the GIL while it runs. In one process with the token
exchange, every action's `POST /v1/auth/service-token` waited behind the previous turn's redaction, on
the chat turn's critical path; the ingest is off that path (the broker posts after the turn, and retries).
So `app` neither serves the ingest nor loads Presidio (about 250 MB and seconds of warm-up per start);
the in-process tests build one app with both (`create_internal_app(with_ingest=True)`).

Metrics: every core process writes its samples to PROMETHEUS_MULTIPROC_DIR when it is set (the public
workers and core-ingest included; scripts/stack.py empties it at each start), and /metrics on `app` adds
them all up. Without it (tests in one process) the process's own registry is served.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from prometheus_client import REGISTRY, CollectorRegistry, make_asgi_app, multiprocess
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp

from api import db_async, privacy, problems
from api.auth.views import internal_router as auth_internal_router
from api.config import get_settings
from api.health.views import router as health_router
from api.logging_setup import configure
from api.middleware import BodyLimitMiddleware, RequestIdMiddleware
from api.telemetry_db import DatabaseCollector
from api.transcripts.views import internal_router as transcripts_internal_router


class _ThisProcess(Collector):
    """The process's default registry, inside another registry (tests run without a multiprocess directory)."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def metrics_app(database_url: str | None = None) -> ASGIApp:
    """Prometheus exposition: every core process's samples when they share a directory, else this one's;
    with `database_url`, what the database says of sagas, saga workers and handoffs (api/telemetry_db.py).

    Dead processes: their files stay and their counts stay in the sums, which is what counters and
    histograms need; live gauges of dead workers are dropped by api/metrics_cleanup.py (uvicorn has no
    hook for a dead worker, unlike gunicorn's child_exit). The directory is emptied when the stack starts
    (scripts/stack.py, docker-compose.yml)."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    if database_url:
        registry.register(DatabaseCollector(database_url))
    return make_asgi_app(registry)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    if app.state.redacts:  # the transcript ingest redacts: load Presidio before the first batch
        await run_in_threadpool(privacy.warm_up)
    yield
    await db_async.close_all()


def _listener(title: str, routers: Iterable[APIRouter], *, ingest: bool) -> FastAPI:
    """An internal app: the core's settings, problem answers, body limit and request ids, these routers."""
    settings = get_settings()
    configure(settings.log_level)
    app = FastAPI(title=title, lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.redacts = ingest
    problems.install(app)
    for router in (health_router, *routers):
        app.include_router(router)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestIdMiddleware)
    return app


def create_internal_app(*, with_ingest: bool = False) -> FastAPI:
    """core-internal: the token exchange and the metrics of every core process; with the ingest too for
    tests that run the whole core in one process."""
    routers = (auth_internal_router, transcripts_internal_router) if with_ingest else (auth_internal_router,)
    app = _listener("Bankbot core (internal)", routers, ingest=with_ingest)
    app.mount("/metrics", metrics_app(get_settings().database_url))
    return app


def create_ingest_app() -> FastAPI:
    """core-ingest: the event broker's transcript batches and health, nothing else. Its redaction metrics
    reach Prometheus through the shared multiprocess directory and core-internal's /metrics."""
    return _listener("Bankbot core (transcript ingest)", (transcripts_internal_router,), ingest=True)


app = create_internal_app()
ingest_app = create_ingest_app()
