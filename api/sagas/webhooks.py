"""POST /v1/webhooks/{rails,cards,crypto}: provider events, verified before anything else, then handed to
the saga they are about (api/sagas/client.py), each event once.

A saga is found from the object's idempotency key, which is its workflow id (`transfer_out:<id>`), or that
id and a suffix after a dot for a saga's second call (`crypto_purchase:<id>.refund`). Money coming in
starts a saga of its own. An event about an object no saga knows is answered 200 (so the provider stops
retrying) and recorded as `unknown_object` for operators.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import psycopg
from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from api.config import Settings
from api.db import get_engine
from api.deps import SettingsDep
from api.problems import Problem
from api.sagas import client
from api.webhooks.signing import verify

router = APIRouter(prefix="/v1", tags=["webhooks"])
ProviderName = Literal["rails", "cards", "crypto"]


class ProviderEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    event_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")
    type: str = Field(min_length=1, max_length=64, pattern=r"^[a-z_]+\.[a-z_]+$")
    data: dict[str, Any]


def secret_for(settings: Settings, provider: str) -> str:
    return {"rails": settings.rails_webhook_secret, "cards": settings.cards_webhook_secret,
            "crypto": settings.crypto_webhook_secret, "kyc": settings.kyc_webhook_secret}[provider]


def saga_of(data: dict[str, Any]) -> str | None:
    """The workflow id an object's idempotency key names."""
    key = data.get("idempotency_key")
    if not isinstance(key, str) or ":" not in key or len(key) > 200:
        return None
    return key.split(".", 1)[0]


def dispatch(provider: str, event: ProviderEvent) -> str:
    """Hand the event to its saga (idempotent on the event id); answer what was done with it."""
    data = event.data
    object_id = str(data.get("id") or "")[:100]
    if provider == "rails" and event.type == "credit_transfer.received":
        if not object_id or not isinstance(data.get("amount_minor"), int) or not isinstance(data.get("currency"), str):
            outcome = "invalid_object"
        else:
            client.enqueue("incoming_credit", f"incoming_credit:{object_id}", data)
            outcome = "saga_started"
    elif provider == "cards" and event.type == "chargeback.created":
        outcome = "recorded"  # for the disputes team; no saga of ours waits for it
    elif (workflow_id := saga_of(data)) is None or not object_id:
        outcome = "unknown_object"
    else:
        message = {"id": object_id, "status": data.get("status"), "reason_code": data.get("reason_code"),
                   "type": event.type}
        try:
            client.signal(workflow_id, topic=object_id, message=message,
                          idempotency_key=f"{provider}:{event.event_id}")
            outcome = "delivered"
        except client.NoSuchSaga:
            outcome = "unknown_object"
        if outcome == "delivered" and event.type == "credit_transfer.returned" and \
                workflow_id.startswith("transfer_out:"):
            transfer_id = workflow_id.split(":", 1)[1]
            client.enqueue("transfer_return", f"transfer_return:{transfer_id}", transfer_id, data.get("reason_code"))
        if outcome == "delivered" and workflow_id.startswith("crypto_purchase:") and \
                event.type in ("transfer.dropped", "credit_transfer.returned"):  # dropped, or its refund returned
            cause = "dropped" if event.type == "transfer.dropped" else "refund_returned"
            client.enqueue("crypto_dropped", f"crypto_{cause}:{workflow_id}", workflow_id, data.get("reason_code"),
                           cause)
    _record(provider, event, object_id, outcome)
    return outcome


def _record(provider: str, event: ProviderEvent, object_id: str, outcome: str) -> None:
    with get_engine().begin() as connection:
        conn = connection.connection.driver_connection
        assert isinstance(conn, psycopg.Connection)
        conn.execute("INSERT INTO provider_webhook_events (provider, event_id, type, object_id, outcome) "
                     "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (provider, event_id) DO NOTHING",
                     (provider, event.event_id, event.type, object_id or None, outcome))


async def receive(provider: str, request: Request, settings: Settings) -> dict[str, Any]:
    """Verify, then parse and dispatch: the body of every provider's webhook route."""
    body = await request.body()
    # Verify before parsing: an unsigned body is never even read as JSON.
    verify(secret_for(settings, provider), settings.webhook_tolerance_seconds, request.headers.get("x-timestamp"),
           request.headers.get("x-signature"), body)
    return await provider_event(provider, body)


async def provider_event(provider: str, body: bytes) -> dict[str, Any]:
    """A verified body: parse it as a provider event and hand it to its saga."""
    try:
        event = ProviderEvent.model_validate_json(body)
    except ValidationError as exc:
        raise Problem(422, "validation_error", "The provider event is not valid",
                      errors=[{"loc": list(map(str, e["loc"])), "msg": e["msg"]} for e in exc.errors()]) from exc
    outcome = await run_in_threadpool(dispatch, provider, event)
    return {"event_id": event.event_id, "outcome": outcome}


@router.post("/webhooks/{provider}", status_code=200)
async def provider_webhook(provider: Annotated[ProviderName, Path()], request: Request,
                           settings: SettingsDep) -> dict[str, Any]:
    return await receive(provider, request, settings)
