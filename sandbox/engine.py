"""The ticker: performs what fell due (jobs), delivers webhooks with retries, and runs `early` objects now."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import timedelta
from typing import Any

import httpx
from psycopg_pool import AsyncConnectionPool

from sandbox.clock import Clock
from sandbox.config import Settings
from sandbox.faults import FaultConfig, FaultDrawer
from sandbox.jobs import Transition, Tx
from sandbox.store import RESET_SQL, get_object
from sandbox.webhooks import sign

log = logging.getLogger("sandbox.engine")
TICK_SECONDS = 0.1
LEASE_SECONDS = 60  # real seconds a claimed webhook is not claimed again; after a crash it is retried
MAX_JOBS_PER_TICK = 500
EARLY_MAX_JOBS = 10


class Engine:
    """The sandbox process's state: settings, database pool, clock, faults and the background work."""

    def __init__(self, settings: Settings, pool: AsyncConnectionPool, transitions: dict[str, Transition]) -> None:
        self.settings, self.pool, self.transitions = settings, pool, transitions
        self.clock = Clock()
        self.faults = FaultDrawer()
        self.http = httpx.AsyncClient(timeout=settings.webhook_timeout_seconds, follow_redirects=False)
        self.tick_lock = asyncio.Lock()
        self._inflight: set[asyncio.Task[None]] = set()
        self._ticker: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Load the durable clock and faults, start ticking."""
        async with self.pool.connection() as conn:
            await self.clock.load(conn)
            # One sandbox process: a lease found at start belongs to a killed predecessor, so its delivery is
            # retried now rather than when the lease runs out.
            await conn.execute("UPDATE sandbox.webhooks SET lease_until = NULL WHERE state = 'pending'")
            row = await (await conn.execute("SELECT config FROM sandbox.faults WHERE id = 1")).fetchone()
        self.faults.configure(FaultConfig(**row["config"]) if row else None)  # type: ignore[call-overload]
        self._ticker = asyncio.create_task(self._tick_forever())

    async def stop(self) -> None:
        """Stop ticking; deliveries in flight are left to the next start (their lease expires)."""
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        for task in list(self._inflight):
            task.cancel()
        await self.http.aclose()

    async def _tick_forever(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be away for a moment: keep ticking
                log.exception("tick failed")
            await asyncio.sleep(TICK_SECONDS)

    async def tick(self, *, wait: bool = False) -> None:
        """Perform every job that fell due, then start delivering due webhooks (awaited when `wait`)."""
        async with self.tick_lock:
            for _ in range(MAX_JOBS_PER_TICK):
                if not await self.run_one_job():
                    break
            tasks = await self.deliver_due()
        if wait:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def advance(self, seconds: float) -> None:
        """Move virtual time and process everything that falls due."""
        async with self.pool.connection() as conn:
            await self.clock.advance(conn, seconds)
        await self.tick(wait=True)

    async def reset(self) -> None:
        """Empty every table, zero the clock, clear faults (tests)."""
        async with self.tick_lock:
            await asyncio.gather(*list(self._inflight), return_exceptions=True)
            async with self.pool.connection() as conn:
                await conn.execute(RESET_SQL)
                await self.clock.load(conn)
            self.faults.configure(None)

    async def run_one_job(self, object_id: str | None = None) -> bool:
        """Claim and perform one due job (or the object's next job, due or not); False when there is none."""
        vnow = self.clock.now()
        claimed: dict[str, Any] | None = None
        try:
            async with self.pool.connection() as conn, conn.transaction():
                if object_id is None:
                    cur = await conn.execute(
                        "SELECT id, object_id, action, due_at FROM sandbox.jobs WHERE due_at <= %s "
                        "ORDER BY due_at, id LIMIT 1 FOR UPDATE SKIP LOCKED", (vnow,))
                else:
                    cur = await conn.execute(
                        "SELECT id, object_id, action, due_at FROM sandbox.jobs WHERE object_id = %s "
                        "ORDER BY due_at, id LIMIT 1 FOR UPDATE SKIP LOCKED", (object_id,))
                claimed = await cur.fetchone()  # type: ignore[assignment]
                if claimed is None:
                    return False
                await conn.execute("DELETE FROM sandbox.jobs WHERE id = %s", (claimed["id"],))
                obj = await get_object(conn, claimed["object_id"], lock=True)
                transition = self.transitions.get(claimed["action"])
                if obj is not None and transition is not None:
                    # A job pulled forward (`early`) happens now; a due one at its own moment, so that "3 days
                    # after settlement" does not depend on when the ticker got to it.
                    await transition(Tx(conn, self, min(claimed["due_at"], vnow)), obj)
        except Exception:
            if claimed is None:
                raise
            log.exception("job %s failed; retried in a second", claimed["id"])
            async with self.pool.connection() as conn:
                await conn.execute(
                    "INSERT INTO sandbox.jobs (object_id, action, due_at) VALUES (%s, %s, %s)",
                    (claimed["object_id"], claimed["action"], vnow + timedelta(seconds=1)))
        return True

    async def run_early(self, object_id: str) -> None:
        """`early`: perform the object's jobs now until it has a webhook, and deliver that before answering."""
        for _ in range(EARLY_MAX_JOBS):
            async with self.pool.connection() as conn:
                has_event = await (await conn.execute(
                    "SELECT 1 FROM sandbox.webhooks WHERE object_id = %s LIMIT 1", (object_id,))).fetchone()
            if has_event or not await self.run_one_job(object_id):
                break
        await asyncio.gather(*await self.deliver_due(object_id=object_id), return_exceptions=True)

    async def deliver_due(self, *, object_id: str | None = None) -> list[asyncio.Task[None]]:
        """Lease the due webhooks and deliver them, each provider's in order, in background tasks."""
        vnow = self.clock.now()
        query = ("SELECT id, event_id, provider, type, object_id, body, fault, bad_signature, attempts "
                 "FROM sandbox.webhooks WHERE state = 'pending' AND due_at <= %s "
                 "AND (lease_until IS NULL OR lease_until < now())")
        params: list[Any] = [vnow]
        if object_id is not None:
            query += " AND object_id = %s"
            params.append(object_id)
        async with self.pool.connection() as conn, conn.transaction():
            rows = await (await conn.execute(
                query + " ORDER BY due_at, id LIMIT 20 FOR UPDATE SKIP LOCKED", params)).fetchall()
            if not rows:
                return []
            await conn.execute(
                "UPDATE sandbox.webhooks SET lease_until = now() + make_interval(secs => %s) WHERE id = ANY(%s)",
                (LEASE_SECONDS, [r["id"] for r in rows]))  # type: ignore[call-overload]
        by_provider: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_provider.setdefault(row["provider"], []).append(row)  # type: ignore[call-overload]
        tasks = [asyncio.create_task(self._deliver_in_order(batch)) for batch in by_provider.values()]
        for task in tasks:
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
        return tasks

    async def _deliver_in_order(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            try:
                await self._deliver(row)
            except Exception:
                log.exception("delivery of %s failed", row["event_id"])

    async def _deliver(self, row: dict[str, Any]) -> None:
        provider, body = row["provider"], row["body"].encode()
        attempt, bad = row["attempts"] + 1, bool(row["bad_signature"])
        secret = self.settings.webhook_secrets.get(provider, "")
        timestamp = int(time.time())
        signature = sign("wrong-" + secret, timestamp, body) if bad else sign(secret, timestamp, body)
        status: int | None = None
        error: str | None = None
        try:
            answer = await self.http.post(
                f"{self.settings.webhook_base_url}/v1/webhooks/{provider}", content=body,
                headers={"Content-Type": "application/json", "X-Timestamp": str(timestamp),
                         "X-Signature": signature, "User-Agent": "bankbot-sandbox"})
            status = answer.status_code
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        # A wrongly signed attempt never counts: the correct one follows whatever the receiver said.
        delivered = status is not None and 200 <= status < 300 and not bad
        vnow = self.clock.now()
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO sandbox.webhook_attempts (webhook_id, event_id, provider, type, object_id, attempt, "
                "fault, signature, status_code, error) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (row["id"], row["event_id"], provider, row["type"], row["object_id"], attempt, row["fault"],
                 "bad" if bad else "good", status, error))
            if delivered:
                await conn.execute("UPDATE sandbox.webhooks SET state = 'delivered', attempts = %s, "
                                   "lease_until = NULL WHERE id = %s", (attempt, row["id"]))
                # An out_of_order event was waiting for the next one of its provider: that was this one.
                await conn.execute(
                    "UPDATE sandbox.webhooks SET held = false, due_at = %s WHERE provider = %s AND held "
                    "AND state = 'pending' AND event_id <> %s", (vnow, provider, row["event_id"]))
            elif attempt >= self.settings.webhook_max_attempts:
                await conn.execute("UPDATE sandbox.webhooks SET state = 'failed', attempts = %s, "
                                   "lease_until = NULL WHERE id = %s", (attempt, row["id"]))
            else:
                backoff = self.settings.webhook_backoff_seconds * 2 ** (attempt - 1)
                await conn.execute(
                    "UPDATE sandbox.webhooks SET attempts = %s, bad_signature = false, lease_until = NULL, "
                    "due_at = %s WHERE id = %s", (attempt, vnow + timedelta(seconds=backoff), row["id"]))
