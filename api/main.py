"""The core's public ASGI application: what customers, agents and channel providers reach.

The token exchange, the transcript ingest and the metrics are not here: they are on the internal
listener (api/internal.py), which only the other services reach.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from api import db_async, metrics_cleanup, privacy, problems
from api.accounts.views import router as accounts_router
from api.auth.views import router as auth_router
from api.cards.refunds import router as card_refunds_router
from api.cards.views import router as cards_router
from api.channels.views import router as channels_router
from api.chat.views import router as chat_router
from api.config import get_settings
from api.crypto.views import router as crypto_router
from api.fraud.views import router as fraud_router
from api.handoffs.views import router as handoffs_router
from api.health.views import router as health_router
from api.insights.views import router as insights_router
from api.kyc.views import router as kyc_router
from api.live.views import router as live_router
from api.logging_setup import configure
from api.middleware import BodyLimitMiddleware, RequestIdMiddleware
from api.sagas.views import router as sagas_router
from api.sagas.webhooks import router as provider_webhooks_router
from api.transcripts.views import router as transcripts_router
from api.transfers.views import router as transfers_router
from api.web.views import router as web_router


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Presidio and spaCy load in seconds: pay it at start-up, not on a customer's first message.
    await run_in_threadpool(privacy.warm_up)
    metrics_cleanup.sweep_dead_live_gauges()  # a worker that replaces a dead one drops its live gauges
    # What start-up loaded lives as long as the process: keep it out of the cyclic collector's full
    # passes, which would otherwise walk those millions of objects again and again under load.
    gc.collect()
    gc.freeze()
    yield
    await db_async.close_all()


def create_app() -> FastAPI:
    settings = get_settings()
    configure(settings.log_level)
    # The interactive docs are for developers: production serves none (nothing to map the API from outside).
    docs = {} if settings.environment == "development" else {"docs_url": None, "redoc_url": None,
                                                              "openapi_url": None}
    app = FastAPI(title="Bankbot core", version="0.1.0", lifespan=lifespan, **docs,
                  description="Core banking API behind the conversational assistant. Errors are RFC 9457 problems.")
    problems.install(app)
    for router in (health_router, auth_router, accounts_router, transfers_router, cards_router, card_refunds_router,
                   fraud_router, insights_router, kyc_router, provider_webhooks_router, sagas_router, chat_router,
                   transcripts_router, live_router, handoffs_router, crypto_router, channels_router, web_router):
        app.include_router(router)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestIdMiddleware)
    return app


app = create_app()
