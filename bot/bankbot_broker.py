"""A Rasa event broker that sends user and bot messages to the core, which redacts them before storing.

Configured in endpoints.yml (`event_broker: type: bankbot_broker.CoreEventBroker`). Rasa calls
`publish` synchronously for every tracker event; this broker keeps only user and bot messages,
queues them in memory (bounded) and a background task posts them in batches, HMAC-signed, with
retries and backoff (tenacity). A short core outage loses nothing; a long one drops the oldest
events once the queue is full and logs how many, never their text. Nothing is spooled to disk: the
raw text must never be at rest outside Redis.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections import deque
from typing import Any

import httpx
from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_exponential_jitter

import bankbot_logging  # noqa: F401 - installs the PII log filter in the Rasa process

logger = logging.getLogger(__name__)

MAX_QUEUED_EVENTS = 10_000
MAX_BATCH = 50
RETRY_WINDOW_SECONDS = 120.0  # per batch; then the batch goes back to the queue and we try again later
KEPT_EVENTS = ("user", "bot")


class CoreUnavailable(Exception):
    pass


def slim(event: dict[str, Any]) -> dict[str, Any]:
    """Only what a transcript needs; Rasa's parse data carries more text than we want to ship."""
    parse = event.get("parse_data") or {}
    out = {"event": event["event"], "sender_id": event.get("sender_id"), "timestamp": event.get("timestamp"),
           "text": event.get("text"), "input_channel": event.get("input_channel")}
    if event["event"] == "user":
        intent = parse.get("intent") or {}
        out["intent"] = intent.get("name")
        out["confidence"] = intent.get("confidence")
        out["message_id"] = event.get("message_id")
    return out


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


class CoreEventBroker(EventBroker):
    def __init__(self, url: str, secret: str, timeout: float = 10.0) -> None:
        self.url, self.secret, self.timeout = url, secret, timeout
        self.queue: deque[dict[str, Any]] = deque()
        self.dropped = 0
        self.wakeup: asyncio.Event | None = None
        self.sender: asyncio.Task[None] | None = None
        self.client: httpx.AsyncClient | None = None

    @classmethod
    async def from_endpoint_config(cls, broker_config: EndpointConfig,
                                   event_loop: asyncio.AbstractEventLoop | None = None) -> CoreEventBroker:
        kwargs = broker_config.kwargs or {}
        return cls(url=broker_config.url, secret=str(kwargs["secret"]), timeout=float(kwargs.get("timeout", 10)))

    def publish(self, event: dict[str, Any]) -> None:
        if event.get("event") not in KEPT_EVENTS:
            return
        if len(self.queue) >= MAX_QUEUED_EVENTS:
            self.queue.popleft()
            self.dropped += 1
            if self.dropped % 100 == 1:
                logger.error("transcript queue full: %d events dropped so far", self.dropped)
        self.queue.append(slim(event))
        self._ensure_sender()
        assert self.wakeup is not None
        self.wakeup.set()

    def _ensure_sender(self) -> None:
        if self.sender is None or self.sender.done():
            self.wakeup = asyncio.Event()
            self.client = httpx.AsyncClient(timeout=self.timeout)
            self.sender = asyncio.get_event_loop().create_task(self._run())

    async def _post(self, batch: list[dict[str, Any]]) -> None:
        assert self.client is not None
        body = json.dumps({"events": batch}, separators=(",", ":")).encode()
        timestamp = int(time.time())
        try:
            response = await self.client.post(self.url, content=body, headers={
                "Content-Type": "application/json", "X-Timestamp": str(timestamp),
                "X-Signature": sign(self.secret, timestamp, body)})
        except httpx.HTTPError as exc:
            raise CoreUnavailable(type(exc).__name__) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise CoreUnavailable(str(response.status_code))
        if response.status_code >= 400:  # our bug, not an outage: retrying won't help
            logger.error("core refused %d transcript events: HTTP %d", len(batch), response.status_code)

    async def _run(self) -> None:
        assert self.wakeup is not None
        while True:
            if not self.queue:
                self.wakeup.clear()
                await self.wakeup.wait()
            batch = [self.queue.popleft() for _ in range(min(MAX_BATCH, len(self.queue)))]
            try:
                async for attempt in AsyncRetrying(retry=retry_if_exception_type(CoreUnavailable),
                                                   wait=wait_exponential_jitter(initial=0.2, max=10),
                                                   stop=stop_after_delay(RETRY_WINDOW_SECONDS), reraise=True):
                    with attempt:
                        await self._post(batch)
            except CoreUnavailable:
                logger.warning("core unreachable; keeping %d transcript events in memory", len(batch))
                self.queue.extendleft(reversed(batch))
                await asyncio.sleep(5)

    async def flush(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while self.queue and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        await self.flush()
        if self.sender is not None:
            self.sender.cancel()
        if self.client is not None:
            await self.client.aclose()
