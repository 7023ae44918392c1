"""The Idempotency-Key contract (after the IETF draft) for POST /v1/transfers.

- Redis `SET NX PX` marks a key in flight: a second request with the same key while the first runs
  gets 409 (same body) or 422 (different body) without touching PostgreSQL.
- The durable record (request hash, response status and body) is written in PostgreSQL in the same
  database transaction as the transfer, so a transfer never exists without its record or the reverse,
  even if Redis loses the key. Its primary key (customer, key) is the last line against duplicates.
- Only completed requests (201) are recorded. A rejection (4xx) records nothing and releases the key:
  the customer may fix the cause (top up, verify identity) and retry with the same key. After a
  success the marker is left to expire: a retry finds the durable record (committed before the
  response) and gets the first response again.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from api.db_async import redis_client
from api.problems import Problem

KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII, as the draft's sf-string allows
IN_FLIGHT_MS = 30_000  # longer than any transfer takes; after it a stuck key frees itself


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: dict[str, Any]


def check_key(key: str | None) -> str:
    if key is None:
        raise Problem(400, "idempotency_key_missing", "The Idempotency-Key header is required for transfers")
    if not KEY_PATTERN.fullmatch(key):
        raise Problem(400, "idempotency_key_invalid", "The Idempotency-Key must be 1-255 visible ASCII characters")
    return key


def request_hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def marker_name(customer_id: uuid.UUID, key: str) -> str:
    """The Redis key of the in-flight marker for (customer, Idempotency-Key)."""
    return f"idem:transfers:{customer_id}:{hashlib.sha256(key.encode()).hexdigest()}"


def replay_of(request_hash: str, status: int, body: dict[str, Any], digest: str) -> StoredResponse:
    """The stored first response; 422 when the key was used with another body."""
    if request_hash != digest:
        raise Problem(422, "idempotency_key_reused", "This Idempotency-Key was used with a different request body")
    return StoredResponse(status, body)


# Delete only our own marker (same digest), atomically.
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class InFlight:
    """The Redis fast-path marker for one key, set by api/transfers/admission.py (the durable record is
    written by transfers_record_batch())."""

    def __init__(self, customer_id: uuid.UUID, key: str, digest: str) -> None:
        self.name, self.digest = marker_name(customer_id, key), digest

    async def holder_digest(self) -> str | None:
        value = await (await redis_client.get()).get(self.name)
        return value.decode() if isinstance(value, bytes) else value

    async def release(self) -> None:
        await (await redis_client.get()).eval(_RELEASE, 1, self.name, self.digest)
