"""A Rasa event broker that sends user and bot messages to the core, which redacts them before storing.

Configured in endpoints.yml (`event_broker: type: bankbot_broker.CoreEventBroker`). Rasa calls
`publish` synchronously for every tracker event; this broker keeps only user and bot messages,
queues them in memory (bounded) and a background task posts them in batches, HMAC-signed, with
retries and backoff (tenacity). A short core outage loses nothing; a long one drops the oldest
events once the queue is full and logs how many, never their text. Nothing is spooled to disk: the
raw text must never be at rest outside Redis.

Two kinds of failure are told apart (docs/privacy.md, "Bounded work"):

- *The core is unavailable* (connection refused, 502/503/504, 429, a signature it cannot check: 401/403):
  nothing is wrong with the batch, so it is kept and retried, as before, for as long as the queue holds.
- *The core answered and failed or refused this batch* (500 or another 4xx, or no answer within the
  timeout: it took the batch and choked on it): the batch is retried `max_attempts` times with backoff,
  then split in halves, each half retried the same way, until the events that fail are alone; an event
  that still fails alone is dead-lettered. The dead letter is a count and an error log (counts, status,
  no text, no ids), not a store: raw text may not be at rest outside Redis' tracker store, and the
  tracker (with its one-hour expiry) still holds the event should an operator need to look. So one
  poisoned event costs at most about log2(batch) x max_attempts posts, never an endless loop, and the
  events around it are delivered.

A 200 answer with `deferred` > 0 means the core ran out of its batch time budget before the end: the
same batch is sent again at once (the stored part comes back as duplicates, which costs the core one query).
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import hmac
import json
import logging
import random
import time
from collections import deque
from typing import Any

import httpx
from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_exponential_jitter

import bankbot_correlation
import bankbot_imports  # noqa: F401 - httpcore's per-request `import sniffio` fails at once, not by a search
import bankbot_logging  # noqa: F401 - installs the PII log filter in the Rasa process

logger = logging.getLogger(__name__)

MAX_QUEUED_EVENTS = 10_000
MAX_BATCH = 50
RETRY_WINDOW_SECONDS = 120.0  # per batch; then the batch goes back to the queue and we try again later
KEPT_EVENTS = ("user", "bot")
# Action events are not transcript lines; the policy fallback is sent (name only) so the core counts it
# (bankbot_fallbacks_total, api/telemetry.py). NLU fallbacks are the user events' `nlu_fallback` intent.
COUNTED_ACTIONS = frozenset({"action_default_fallback"})
MAX_ATTEMPTS = 4  # posts of one batch (or part) that the core answers with a failure, before it is split
MAX_DEFERRALS = 50  # 200 answers with `deferred` > 0 in a row for one batch; each stores at least one line
OUTAGE_STATUSES = (401, 403, 429, 502, 503, 504)


class CoreUnavailable(Exception):
    """The core cannot take any batch now: keep the events and try later."""


class BatchFailed(Exception):
    """The core took this batch and failed on it, or refused it: retry, split, then dead-letter."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Deferred(Exception):
    """The core stored part of the batch and asks for the rest again."""


def slim(event: dict[str, Any]) -> dict[str, Any]:
    """Only what a transcript needs; Rasa's parse data carries more text than we want to ship."""
    if event["event"] == "action":
        return {"event": "action", "name": event.get("name"), "sender_id": event.get("sender_id"),
                "timestamp": event.get("timestamp")}
    parse = event.get("parse_data") or {}
    out = {"event": event["event"], "sender_id": event.get("sender_id"), "timestamp": event.get("timestamp"),
           "text": event.get("text"), "input_channel": event.get("input_channel")}
    if event["event"] == "user":
        intent = parse.get("intent") or {}
        out["intent"] = intent.get("name")
        out["confidence"] = intent.get("confidence")
        out["message_id"] = event.get("message_id")
        # The core's request id of this turn: it matches the turn's latency to its intent (api/telemetry.py).
        out["request_id"] = bankbot_correlation.from_metadata(event.get("metadata"))
    return out


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


class CoreEventBroker(EventBroker):
    def __init__(self, url: str, secret: str, timeout: float = 10.0, max_attempts: int = MAX_ATTEMPTS,
                 backoff: float = 0.5, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.url, self.secret, self.timeout = url, secret, timeout
        self.max_attempts, self.backoff, self.transport = max_attempts, backoff, transport
        self.queue: deque[dict[str, Any]] = deque()
        self.dropped = 0
        self.dead_lettered = 0  # events given up on because the core kept failing on them (counted, not kept)
        self.delivered = 0
        self.wakeup: asyncio.Event | None = None
        self.sender: asyncio.Task[None] | None = None
        self.client: httpx.AsyncClient | None = None
        self.sending = False

    @classmethod
    async def from_endpoint_config(cls, broker_config: EndpointConfig,
                                   event_loop: asyncio.AbstractEventLoop | None = None) -> CoreEventBroker:
        kwargs = broker_config.kwargs or {}
        return cls(url=broker_config.url, secret=str(kwargs["secret"]), timeout=float(kwargs.get("timeout", 10)),
                   max_attempts=int(kwargs.get("max_attempts", MAX_ATTEMPTS)))

    def publish(self, event: dict[str, Any]) -> None:
        if event.get("event") not in KEPT_EVENTS and not (
                event.get("event") == "action" and event.get("name") in COUNTED_ACTIONS):
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
            self.client = httpx.AsyncClient(timeout=self.timeout, transport=self.transport)
            # Created in an empty context: the task outlives this turn, and would otherwise carry the
            # request id of the turn that started it on every log line (bankbot_correlation.py).
            loop = asyncio.get_event_loop()
            self.sender = contextvars.Context().run(loop.create_task, self._run())

    async def _post(self, batch: list[dict[str, Any]]) -> None:
        assert self.client is not None
        body = json.dumps({"events": batch}, separators=(",", ":")).encode()
        timestamp = int(time.time())
        try:
            response = await self.client.post(self.url, content=body, headers={
                "Content-Type": "application/json", "X-Timestamp": str(timestamp),
                "X-Signature": sign(self.secret, timestamp, body)})
        except (httpx.ReadTimeout, httpx.WriteTimeout, httpx.RemoteProtocolError) as exc:
            # The core took the batch and did not answer in time (or dropped the connection while on it).
            raise BatchFailed(type(exc).__name__) from exc
        except httpx.HTTPError as exc:
            raise CoreUnavailable(type(exc).__name__) from exc
        if response.status_code in OUTAGE_STATUSES:
            if response.status_code in (401, 403):
                logger.error("core refused the broker's signature: HTTP %d (is TRANSCRIPT_INGEST_SECRET the same "
                             "on both sides?); keeping the events", response.status_code)
            raise CoreUnavailable(str(response.status_code))
        if response.status_code >= 400:
            raise BatchFailed(f"HTTP {response.status_code}")
        try:
            deferred = int(response.json().get("deferred", 0))
        except (ValueError, AttributeError, TypeError):
            deferred = 0
        if deferred:
            raise Deferred(str(deferred))

    async def _post_while_available(self, batch: list[dict[str, Any]]) -> None:
        """Post, retrying an outage with backoff for up to RETRY_WINDOW_SECONDS (then CoreUnavailable)."""
        async for attempt in AsyncRetrying(retry=retry_if_exception_type(CoreUnavailable),
                                           wait=wait_exponential_jitter(initial=0.2, max=10),
                                           stop=stop_after_delay(RETRY_WINDOW_SECONDS), reraise=True):
            with attempt:
                await self._post(batch)

    async def _deliver_part(self, part: list[dict[str, Any]]) -> bool:
        """Deliver one batch or part of one; False when the core kept failing on it (max_attempts)."""
        failures = deferrals = 0
        while True:
            try:
                await self._post_while_available(part)
                self.delivered += len(part)
                return True
            except Deferred:
                deferrals += 1
                if deferrals <= MAX_DEFERRALS:
                    continue
                failures += 1  # the core keeps deferring: treat it as failing on this batch
            except BatchFailed as exc:
                failures += 1
                logger.warning("core failed on %d transcript events (%s), attempt %d of %d", len(part), exc.reason,
                               failures, self.max_attempts)
            if failures >= self.max_attempts:
                return False
            await asyncio.sleep(self.backoff * 2 ** (failures - 1) * (0.5 + random.random()))

    async def _deliver(self, batch: list[dict[str, Any]]) -> None:
        """Deliver a batch; a part the core keeps failing on is halved until the failing events are alone,
        and those are dead-lettered. CoreUnavailable leaves the undelivered parts to the caller (kept)."""
        parts = [batch]
        try:
            while parts:
                part = parts[0]
                if await self._deliver_part(part):
                    parts.pop(0)
                elif len(part) > 1:
                    half = len(part) // 2
                    parts[0:1] = [part[:half], part[half:]]
                else:
                    parts.pop(0)
                    self.dead_lettered += 1
                    logger.error("transcript event dead-lettered after %d failed attempts: %d so far; the core "
                                 "kept failing on it (see the core's log for the reason)",
                                 self.max_attempts, self.dead_lettered)
        except CoreUnavailable:
            remaining = [event for part in parts for event in part]
            logger.warning("core unreachable; keeping %d transcript events in memory", len(remaining))
            self.queue.extendleft(reversed(remaining))
            raise

    async def _run(self) -> None:
        assert self.wakeup is not None
        while True:
            if not self.queue:
                self.wakeup.clear()
                await self.wakeup.wait()
            batch = [self.queue.popleft() for _ in range(min(MAX_BATCH, len(self.queue)))]
            self.sending = True
            try:
                await self._deliver(batch)
            except CoreUnavailable:
                await asyncio.sleep(5)
            finally:
                self.sending = False

    async def flush(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while (self.queue or self.sending) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        await self.flush()
        if self.sender is not None:
            self.sender.cancel()
        if self.client is not None:
            await self.client.aclose()
