"""A transfer's admission: the money rate limit and the Idempotency-Key's in-flight marker, in one Redis
round trip shared by the transfers waiting at that moment (api/batching.py).

Both are two independent commands of one pipeline (not a transaction): every request is counted
against its customer's limit, then its marker is set if no request holds the key. A request over the
limit that set its marker releases it (the caller does, api/transfers/service.py): a refusal holds
nothing. Sharing the round trip matters because each costs the core more CPU than either command.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from api import ratelimit
from api.batching import per_loop_batcher
from api.db_async import redis_client
from api.transfers.idempotency import IN_FLIGHT_MS, InFlight

RATE_SCOPE = "transfers"
MAX_BATCH = 64


@dataclass(frozen=True)
class Admission:
    within_limit: bool  # the money rate limit counted this request and allowed it
    acquired: bool  # this request set the in-flight marker: no other request holds the key


@dataclass(frozen=True)
class _Ask:
    rule: str
    customer: str
    marker: str
    digest: str


async def _admit_batch(asks: list[_Ask]) -> list[Admission]:
    assert 1 <= len(asks) <= MAX_BATCH
    async with (await redis_client.get()).pipeline(transaction=False) as pipe:
        for ask in asks:
            ratelimit.queue_hit(pipe, ask.rule, RATE_SCOPE, ask.customer)
            pipe.set(ask.marker, ask.digest, nx=True, px=IN_FLIGHT_MS)
        results = await pipe.execute()
    assert len(results) == 2 * len(asks)
    return [Admission(within_limit=bool(results[2 * i]), acquired=bool(results[2 * i + 1])) for i in range(len(asks))]


# No retry alone: after a failed pipeline some hits may be counted and some markers set; a retry would
# count twice and find its own marker.
_admitter = per_loop_batcher(_admit_batch, max_batch=MAX_BATCH, retry_alone=False)


async def admit(rule: str, customer_id: uuid.UUID, flight: InFlight) -> Admission:
    """Count the request against `rule` for the customer and try to set its marker (raises Redis errors)."""
    return await (await _admitter.get()).submit(_Ask(rule, str(customer_id), flight.name, flight.digest))
