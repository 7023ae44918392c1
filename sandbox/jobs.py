"""What a transition may do, inside the transaction that claimed its job."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import psycopg

from sandbox import store, webhooks
from sandbox.store import Obj, iso

if TYPE_CHECKING:
    from sandbox.engine import Engine


@dataclass
class Tx:
    """A job's transaction, at the virtual moment the job fell due."""

    conn: psycopg.AsyncConnection
    engine: Engine
    at: datetime

    @property
    def settle(self) -> float:
        """SANDBOX_SETTLE_SECONDS."""
        return self.engine.settings.settle_seconds

    async def save(self, obj: Obj, status: str, reason_code: str | None = None, **fields: Any) -> None:
        """Move an object to a status (and reason), stamped with the job's moment."""
        obj.status, obj.reason_code, obj.updated_at = status, reason_code, self.at
        obj.data.update(fields, status=status, reason_code=reason_code, updated_at=iso(self.at))
        await store.save_object(self.conn, obj)

    async def later(self, obj: Obj, action: str, seconds: float) -> None:
        """Another job for this object, `seconds` of virtual time after this one."""
        await store.schedule(self.conn, obj.id, action, self.at + timedelta(seconds=seconds))

    async def emit(self, obj: Obj, event_type: str, data: dict[str, Any] | None = None) -> None:
        """A webhook about the object, carrying it as GET returns it now."""
        await webhooks.emit(self.conn, self.engine, provider=obj.provider, event_type=event_type, obj=obj,
                            data=dict(obj.data) if data is None else data, at=self.at)


Transition = Callable[[Tx, Obj], Awaitable[None]]
