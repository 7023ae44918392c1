"""The channels' webhooks (Telegram, Slack, Twilio SMS) and the customer's channel links.

Each webhook verifies its signature before anything else (401 problem, nothing stored, nothing forwarded),
then parses the body (4xx problem when it is not the channel's shape), then claims the delivery's id in
Redis (`SET NX` with a TTL: a replay or a provider's retry is answered 200 and done nothing with), and
answers at once; the message itself is handled after the answer (api/channels/service.py).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import redis
from fastapi import APIRouter, BackgroundTasks, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api import ratelimit
from api.auth.security import Principal
from api.channels import inbound as parse
from api.channels import links, service, signatures
from api.channels.models import ChannelLink, ChannelName
from api.config import Settings
from api.deps import PrincipalDep, SessionDep, SettingsDep
from api.problems import Problem
from api.redis_client import redis_for

router = APIRouter(prefix="/v1", tags=["channels"])
TWILIO_PATH = "/v1/channels/twilio/sms"
CODE_SCOPE = "channel_link_code"


def _first_time(settings: Settings, key: str) -> bool:
    """Claim a delivery id: True the first time, False for a replay (503 when Redis cannot say)."""
    try:
        claimed = redis_for(settings.redis_url).set(f"bankbot:channels:seen:{key}", "1", nx=True,
                                                     ex=settings.channel_dedupe_ttl_seconds)
    except redis.RedisError as exc:
        # Without the claim a retry could act twice: let the provider retry later instead.
        raise Problem(503, "channel_unavailable", "Cannot take channel messages right now",
                      headers={"Retry-After": "5"}) from exc
    return bool(claimed)


async def _accept(settings: Settings, background: BackgroundTasks, key: str | None,
                  message: parse.Inbound | None) -> dict[str, Any]:
    if key is None:
        return {"ok": True}
    if not await run_in_threadpool(_first_time, settings, key):
        return {"ok": True, "duplicate": True}
    if message is not None:
        background.add_task(service.handle, settings, inbound=message)
    return {"ok": True}


@router.post("/channels/telegram/webhook")
async def telegram_webhook(request: Request, settings: SettingsDep, background: BackgroundTasks) -> dict[str, Any]:
    signatures.verify_telegram(settings.telegram_webhook_secret,
                               request.headers.get("x-telegram-bot-api-secret-token"))
    key, message = parse.telegram(await request.body())
    return await _accept(settings, background, key, message)


@router.post("/channels/slack/events")
async def slack_events(request: Request, settings: SettingsDep, background: BackgroundTasks) -> dict[str, Any]:
    body = await request.body()
    signatures.verify_slack(settings.slack_signing_secret, settings.slack_tolerance_seconds,
                            request.headers.get("x-slack-request-timestamp"),
                            request.headers.get("x-slack-signature"), body)
    key, message = parse.slack(body, request.headers.get("content-type", ""))
    if isinstance(message, parse.SlackChallenge):
        return {"challenge": message.challenge}
    # A retry (X-Slack-Retry-Num) carries the event_id of the first delivery: the claim answers it.
    return await _accept(settings, background, key, message)


@router.post("/channels/twilio/sms")
async def twilio_sms(request: Request, settings: SettingsDep, background: BackgroundTasks) -> Response:
    params = parse.form_params(await request.body())
    # Twilio signs the URL it called: ours as configured, never what the Host header claims.
    url = settings.public_base_url.rstrip("/") + TWILIO_PATH + (f"?{request.url.query}" if request.url.query else "")
    signatures.verify_twilio(settings.twilio_auth_token, url, params, request.headers.get("x-twilio-signature"))
    key, message = parse.twilio(params)
    await _accept(settings, background, key, message)
    # Empty TwiML: the answer goes out through the Messages API, like every other line to the customer.
    return Response('<?xml version="1.0" encoding="UTF-8"?><Response></Response>', media_type="application/xml")


class LinkIn(BaseModel):
    channel: ChannelName


class CodeOut(BaseModel):
    code: str
    expires_at: datetime
    channel: ChannelName


class LinkOut(BaseModel):
    id: uuid.UUID
    channel: ChannelName
    conversation_id: uuid.UUID
    linked_at: datetime
    revoked_at: datetime | None


def _link_out(link: ChannelLink) -> LinkOut:
    # The external id (a phone number, a chat id) stays out: the app shows the channel and the dates.
    return LinkOut(id=link.id, channel=link.channel, conversation_id=link.conversation_id,  # type: ignore[arg-type]
                   linked_at=link.linked_at, revoked_at=link.revoked_at)


def _customer(principal: Principal) -> uuid.UUID:
    # The customer in person: the assistant's service token (acting for a customer) may not link channels.
    if "customer" not in principal.roles or principal.is_service or principal.customer_id is None:
        raise Problem(403, "customer_only", "Only a signed-in customer manages channel links")
    return principal.customer_id


@router.post("/channel-links", status_code=201, response_model=CodeOut)
def create_link_code(body: LinkIn, principal: PrincipalDep, settings: SettingsDep, session: SessionDep) -> CodeOut:
    customer_id = _customer(principal)
    ratelimit.hit(settings.redis_url, settings.channel_link_code_rate_limit, CODE_SCOPE, str(customer_id),
                  fail_open=True)
    code, row = links.create_code(session, actor=principal, customer_id=customer_id, channel=body.channel,
                                  minutes=settings.channel_link_code_minutes)
    session.commit()
    return CodeOut(code=code, expires_at=row.expires_at, channel=body.channel)


@router.get("/channel-links", response_model=list[LinkOut])
def list_links(principal: PrincipalDep, session: SessionDep) -> list[LinkOut]:
    return [_link_out(link) for link in links.links_of(session, customer_id=_customer(principal))]


@router.delete("/channel-links/{link_id}", response_model=LinkOut)
def delete_link(link_id: uuid.UUID, principal: PrincipalDep, session: SessionDep) -> LinkOut:
    link = links.revoke_from_app(session, actor=principal, customer_id=_customer(principal), link_id=link_id)
    session.commit()
    return _link_out(link)
