"""The sandbox application: `uvicorn sandbox.app:app --host 127.0.0.1 --port 8100`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from sandbox import admin, channels, config, problems, store
from sandbox.engine import Engine
from sandbox.middleware import SandboxMiddleware
from sandbox.problems import Problem
from sandbox.providers import ROUTERS, TRANSITIONS

log = logging.getLogger("sandbox")


def create_app(settings: config.Settings | None = None) -> SandboxMiddleware:
    """The FastAPI app wrapped in the sandbox's outermost ASGI layer."""
    settings = settings or config.load()
    pool = store.make_pool(settings.database_url)
    engine = Engine(settings, pool, TRANSITIONS)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(store.ensure_database, settings.database_url)
        await pool.open(wait=True)
        await engine.start()
        try:
            yield
        finally:
            await engine.stop()
            await pool.close()

    api = FastAPI(title="bankbot provider sandbox", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    api.state.engine = engine
    problems.install(api)

    @api.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, psycopg.DataError):
            # PostgreSQL refused a value (a NUL byte, say): the input's fault, and nothing was written.
            return problems.response(Problem(422, "invalid_input", "A value in the request cannot be stored"))
        log.exception("unexpected error")
        return problems.response(Problem(500, "internal_error", "Internal error"))

    @api.get("/healthz")
    async def healthz() -> dict[str, str]:
        """Alive and the database answers."""
        async with pool.connection() as conn:
            await conn.execute("SELECT 1")
        return {"status": "ok"}

    for router in ROUTERS:
        api.include_router(router)
    api.include_router(admin.router)
    api.include_router(channels.router)
    return SandboxMiddleware(api, settings, engine.faults)


app = create_app()
