"""The virtual clock: real time plus a durable offset that only `advance` grows."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import psycopg


class Clock:
    """Virtual now; the offset lives in sandbox.clock and is cached here (one sandbox process)."""

    def __init__(self) -> None:
        self.offset_seconds = 0.0

    def now(self) -> datetime:
        """Virtual now, timezone-aware UTC."""
        return datetime.fromtimestamp(time.time() + self.offset_seconds, tz=timezone.utc)

    async def load(self, conn: psycopg.AsyncConnection) -> None:
        """Read the durable offset (at start and after a reset)."""
        row = await (await conn.execute("SELECT offset_seconds FROM sandbox.clock WHERE id = 1")).fetchone()
        self.offset_seconds = float(row["offset_seconds"]) if row else 0.0  # type: ignore[index,call-overload]

    async def advance(self, conn: psycopg.AsyncConnection, seconds: float) -> datetime:
        """Move virtual time forward, durably."""
        row = await (await conn.execute(
            "UPDATE sandbox.clock SET offset_seconds = offset_seconds + %s WHERE id = 1 RETURNING offset_seconds",
            (seconds,))).fetchone()
        self.offset_seconds = float(row["offset_seconds"])  # type: ignore[index,call-overload]
        return self.now()
