"""The outermost ASGI layer: body limit, bearer auth, and the API faults (including closing the connection)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.config import PROVIDERS, Settings
from sandbox.faults import EARLY_CAPABLE, FaultDrawer, parse_header
from sandbox.problems import CONTENT_TYPE, Problem
from sandbox.providers.common import check_auth

log = logging.getLogger("sandbox.faults")
_ERRORS = {"error_500": Problem(500, "internal_error", "Injected internal error"),
           "error_500_after_effect": Problem(500, "internal_error", "Injected internal error"),
           "error_503": Problem(503, "unavailable", "Injected unavailability"),
           "rate_limited": Problem(429, "rate_limited", "Injected rate limit", headers={"Retry-After": "1"})}
SENT_PATHS = frozenset(f"/sandbox/{channel}/sent" for channel in ("telegram", "slack", "twilio"))


async def _answer(send: Send, problem: Problem) -> None:
    body = problem.encoded()
    headers = [(b"content-type", CONTENT_TYPE.encode()), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in (problem.headers or {}).items()]
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _drop_connection(send: Send) -> None:
    """Close the TCP connection with no HTTP answer at all."""
    # uvicorn's `send` is a bound method of its request cycle, which holds the transport: aborting that is the
    # only way an ASGI app can make the client see a bare closed connection (raising would answer 500).
    transport: Any = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise ConnectionAbortedError("sandbox fault: no transport to abort")
    transport.abort()
    # Let the server notice the loss before the app returns, so it does not try to answer 500.
    for _ in range(3):
        await asyncio.sleep(0)


class SandboxMiddleware:
    """Reads the whole (bounded) body, checks the key, then plays the call's fault around the app."""

    def __init__(self, app: ASGIApp, settings: Settings, faults: FaultDrawer) -> None:
        self.app, self.settings, self.faults = app, settings, faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body, too_large = await self._read_body(scope, receive)
        if too_large:
            await _answer(send, Problem(413, "payload_too_large", "The request body exceeds 64 KB"))
            return
        replay = _replayer(body, receive)
        section = scope["path"].split("/")[1] if scope["path"].count("/") >= 1 else ""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        # The channels' sent records are the contract's read-only view (DESIGN.md), readable without the key.
        public = scope["method"] == "GET" and scope["path"] in SENT_PATHS
        if (section in PROVIDERS or section == "sandbox") and not public:
            try:
                check_auth(self.settings.api_key, headers.get("authorization"))
            except Problem as problem:
                await _answer(send, problem)
                return
        state = scope.setdefault("state", {})
        try:
            api_kind, hook_kinds = parse_header(headers.get("x-sandbox-fault", "")[:500])
        except ValueError as exc:
            await _answer(send, Problem(400, "unknown_fault", "Bad X-Sandbox-Fault header", str(exc)))
            return
        state["sandbox_webhook_faults"] = [k for k in hook_kinds if k != "early"]
        if section not in PROVIDERS:
            # Admin calls take only webhook faults (for the events they cause), never API faults or draws.
            await self._app(scope, replay, send)
            return
        early = "early" in hook_kinds
        if api_kind is None and "x-sandbox-fault" not in headers:
            api_kind, early = self.faults.draw_api(f"{scope['method']} {scope['path']}")
        state["sandbox_early"] = early and api_kind in EARLY_CAPABLE
        await self._play(api_kind, scope, replay, send)

    async def _read_body(self, scope: Scope, receive: Receive) -> tuple[bytes, bool]:
        limit = self.settings.max_body_bytes
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                return b"", True
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return b"", True
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks), False

    async def _app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The app, with a problem instead of a bare 500 page (or a cut connection) if it fails."""
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception:
            log.exception("unexpected error on %s %s", scope["method"], scope["path"])
            if not started:
                await _answer(send, Problem(500, "internal_error", "Internal error"))

    async def _play(self, kind: str | None, scope: Scope, receive: Receive, send: Send) -> None:
        if kind is None:
            await self._app(scope, receive, send)
            return
        log.info("fault %s on %s %s", kind, scope["method"], scope["path"])
        slow = self.settings.slow_seconds
        if kind == "connection_dropped":
            await _drop_connection(send)
            return
        if kind == "timeout_before_effect":
            await asyncio.sleep(slow)
            await _drop_connection(send)
            return
        if kind in ("error_500", "error_503", "rate_limited"):
            await _answer(send, _ERRORS[kind])
            return
        start: Message = {}
        parts: list[bytes] = []

        async def keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))

        await self._app(scope, receive, keep)
        status = int(start.get("status", 500))
        body = b"".join(parts)
        if not 200 <= status < 300:
            # The call had no effect (refused): the fault has nothing to act after, so the client sees the truth.
            await _send_buffered(send, start, body)
            return
        if kind == "response_lost":
            await _drop_connection(send)
        elif kind == "slow_success":
            await asyncio.sleep(slow)
            await _send_buffered(send, start, body)
        elif kind == "error_500_after_effect":
            await _answer(send, _ERRORS[kind])
        elif kind == "truncated_body":
            await _send_buffered(send, start, body[: len(body) // 2])


async def _send_buffered(send: Send, start: Message, body: bytes) -> None:
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": start.get("status", 500), "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _replayer(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the buffered body once, then passes on what the server says (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
