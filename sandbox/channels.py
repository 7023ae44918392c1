"""The messaging channels' outbound APIs, as the core calls them: Telegram's Bot API (`/telegram`),
Slack's Web API (`/slack/api`) and Twilio's Messages API (`/twilio`).

Each checks its credential like the real one (the bot token in the path, the bearer bot token, HTTP basic
auth with the account SID and auth token; 401 otherwise) and records every message it was asked to send
in `sandbox.channel_messages`, readable at `GET /sandbox/{telegram,slack,twilio}/sent?to=` oldest first:
`[{"text", "buttons": [{"title", "payload"}], "to", "at", "request"}]`, where `request` is what the core
sent (the inline keyboard, the Block Kit blocks, the SMS form).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sandbox.providers.common import engine_of
from sandbox.store import iso

router = APIRouter()
DEFAULT_TWILIO_ACCOUNT_SID = "ACdevelopment0000000000000000000"  # the core's default (api/config.py)
Text = Annotated[str, Field(max_length=40_000)]


def _secret(name: str) -> str:
    return os.environ.get(name, "")


def _same(given: str, expected: str) -> bool:
    """Constant-time, and never true for an unset credential."""
    return bool(expected) and hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode())


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _TgButton(_Lenient):
    text: Annotated[str, Field(max_length=200)]
    callback_data: Annotated[str | None, Field(max_length=64)] = None  # Telegram's own limit: 1-64 bytes


class _TgMarkup(_Lenient):
    inline_keyboard: Annotated[list[list[_TgButton]], Field(max_length=100)] = []


class _TgSend(_Lenient):
    chat_id: int | Annotated[str, Field(max_length=100)]
    text: Annotated[str, Field(min_length=1, max_length=4096)]
    reply_markup: _TgMarkup | None = None


class _TgAnswer(_Lenient):
    callback_query_id: Annotated[str, Field(min_length=1, max_length=100)]


class _SlackText(_Lenient):
    text: Annotated[str, Field(max_length=3000)] = ""


class _SlackElement(_Lenient):
    type: Annotated[str, Field(max_length=40)]
    text: _SlackText | None = None
    value: Annotated[str | None, Field(max_length=2000)] = None


class _SlackBlock(_Lenient):
    type: Annotated[str, Field(max_length=40)]
    elements: Annotated[list[_SlackElement], Field(max_length=25)] = []


class _SlackPost(_Lenient):
    channel: Annotated[str, Field(min_length=1, max_length=100)]
    text: Text = ""
    blocks: Annotated[list[_SlackBlock], Field(max_length=50)] = []


async def _json(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return None


async def _record(request: Request, *, channel: str, method: str, recipient: str, text: str,
                  buttons: list[dict[str, str]], body: dict[str, Any]) -> int:
    async with engine_of(request).pool.connection() as conn:
        row = await (await conn.execute(
            "INSERT INTO sandbox.channel_messages (channel, method, recipient, text, buttons, request) "
            "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
            (channel, method, recipient, text, Jsonb(buttons), Jsonb(body)))).fetchone()
    assert row is not None
    return int(row["id"])  # type: ignore[call-overload]


def _telegram_error(status: int, description: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error_code": status, "description": description}, status_code=status)


@router.post("/telegram/bot{token}/{method}")
async def telegram(request: Request, token: str, method: str) -> JSONResponse:
    """sendMessage and answerCallbackQuery of the Bot API; 401 for any other token."""
    if not _same(token, _secret("TELEGRAM_BOT_TOKEN")):
        return _telegram_error(401, "Unauthorized")
    raw = await _json(request)
    try:
        if method == "sendMessage":
            send = _TgSend.model_validate(raw)
        elif method == "answerCallbackQuery":
            answer = _TgAnswer.model_validate(raw)
            await _record(request, channel="telegram", method=method, recipient=answer.callback_query_id, text="",
                          buttons=[], body=raw)
            return JSONResponse({"ok": True, "result": True})
        else:
            return _telegram_error(404, "Not Found: method not found")
    except ValidationError:
        return _telegram_error(400, "Bad Request: invalid parameters")
    buttons = [{"title": b.text, "payload": b.callback_data or ""}
               for row in (send.reply_markup.inline_keyboard if send.reply_markup else []) for b in row]
    message_id = await _record(request, channel="telegram", method=method, recipient=str(send.chat_id),
                               text=send.text, buttons=buttons, body=raw)
    return JSONResponse({"ok": True, "result": {"message_id": message_id, "chat": {"id": send.chat_id},
                                                "text": send.text}})


@router.post("/slack/api/chat.postMessage")
async def slack_post(request: Request) -> JSONResponse:
    """chat.postMessage with `Authorization: Bearer <bot token>`."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not _same(token.strip(), _secret("SLACK_BOT_TOKEN")):
        return JSONResponse({"ok": False, "error": "invalid_auth"}, status_code=401)
    raw = await _json(request)
    try:
        post = _SlackPost.model_validate(raw)
    except ValidationError:
        return JSONResponse({"ok": False, "error": "invalid_arguments"})  # Slack answers 200 with ok=false
    buttons = [{"title": e.text.text if e.text else "", "payload": e.value or ""}
               for block in post.blocks if block.type == "actions" for e in block.elements if e.type == "button"]
    await _record(request, channel="slack", method="chat.postMessage", recipient=post.channel, text=post.text,
                  buttons=buttons, body=raw)
    return JSONResponse({"ok": True, "channel": post.channel, "ts": f"{uuid.uuid4().int % 10**10}.000100"})


def _basic(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


def _twilio_error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "status": status}, status_code=status)


@router.post("/twilio/2010-04-01/Accounts/{account_sid}/Messages.json")
async def twilio_messages(request: Request, account_sid: str) -> JSONResponse:
    """Messages.json with HTTP basic auth (account SID, auth token): one SMS."""
    expected_sid = os.environ.get("TWILIO_ACCOUNT_SID") or DEFAULT_TWILIO_ACCOUNT_SID
    credentials = _basic(request.headers.get("authorization", ""))
    if credentials is None or not _same(credentials[0], expected_sid) or account_sid != expected_sid \
            or not _same(credentials[1], _secret("TWILIO_AUTH_TOKEN")):
        return _twilio_error(401, 20003, "Authenticate")
    form = await request.form(max_fields=50)
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    to, sender, body = fields.get("To", ""), fields.get("From", ""), fields.get("Body", "")
    if not to or not sender or not body or len(body) > 1600 or len(to) > 32:
        return _twilio_error(400, 21602, "A 'To', 'From' and 'Body' (at most 1600 characters) are required")
    await _record(request, channel="twilio", method="Messages", recipient=to, text=body, buttons=[], body=fields)
    return JSONResponse({"sid": f"SM{uuid.uuid4().hex}", "to": to, "from": sender, "body": body,
                         "status": "queued"}, status_code=201)


@router.get("/sandbox/{channel}/sent")
async def sent(request: Request, channel: Literal["telegram", "slack", "twilio"],
               to: Annotated[str | None, Query(max_length=100)] = None,
               limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> list[dict[str, Any]]:
    """What the core asked this channel to send (to one recipient if `to` is given), oldest first."""
    async with engine_of(request).pool.connection() as conn:
        rows = await (await conn.execute(
            "SELECT id, recipient, text, buttons, request, created_at FROM sandbox.channel_messages "
            "WHERE channel = %(c)s AND method <> 'answerCallbackQuery' "
            "AND (%(to)s::text IS NULL OR recipient = %(to)s) ORDER BY id LIMIT %(n)s",
            {"c": channel, "to": to, "n": limit})).fetchall()
    return [{"id": r["id"], "to": r["recipient"], "text": r["text"], "buttons": r["buttons"],  # type: ignore[call-overload]
             "request": r["request"], "at": iso(r["created_at"])} for r in rows]  # type: ignore[call-overload]


@router.get("/sandbox/telegram/callback-answers")
async def callback_answers(request: Request) -> list[str]:
    """The callback query ids the core acknowledged with answerCallbackQuery, oldest first."""
    async with engine_of(request).pool.connection() as conn:
        rows = await (await conn.execute(
            "SELECT recipient FROM sandbox.channel_messages WHERE channel = 'telegram' "
            "AND method = 'answerCallbackQuery' ORDER BY id LIMIT 10000")).fetchall()
    return [r["recipient"] for r in rows]  # type: ignore[call-overload]
