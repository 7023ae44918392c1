"""The assistant's payee transfers need the customer's confirmation in a later message.

The action server may act for a customer only on a grant (api/grants), but within one grant it could
state a summary and send it in the same breath. So money leaving the customer's own accounts (a saved
payee or a counterparty) by the `service` role needs a confirmation the core recorded when the summary
was stated, and executes only under the grant of a later customer message in the same conversation,
for exactly the body that was stated, once (one Idempotency-Key). Between own accounts the customer's
money stays theirs and no confirmation is needed in the app's chat; on a messaging channel every transfer
needs one. A customer's own session never needs one.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import redis

from api.auth.security import Principal
from api.db_async import REDIS_TIMEOUT_S, redis_client

CONFIRMATION_KEY = "bankbot:transfer-confirmation:{confirmation_id}"

# Check the confirmation against this transfer, then bind it to the first Idempotency-Key that executes it
# (the same key may replay; no other may use it). Answers a reason for a refusal, or 'ok'.
_CLAIM = """
local found = redis.call('HMGET', KEYS[1], 'customer_id', 'conversation_id', 'seq', 'digest')
if not found[1] then return 'unknown or expired confirmation' end
if found[1] ~= ARGV[1] or found[2] ~= ARGV[2] then return 'the confirmation is for another conversation' end
if tonumber(ARGV[3]) <= tonumber(found[3]) then return 'the customer has not answered the summary yet' end
if found[4] ~= ARGV[4] then return 'the transfer differs from the summary the customer saw' end
redis.call('HSETNX', KEYS[1], 'used_by', ARGV[5])
if redis.call('HGET', KEYS[1], 'used_by') ~= ARGV[5] then return 'this confirmation was already used' end
return 'ok'
"""


class ConfirmationRefused(Exception):
    """No confirmation, or not one that covers this transfer now."""


class ConfirmationUnavailable(Exception):
    """The confirmation store cannot answer: refuse, never move money unconfirmed."""


@dataclass(frozen=True)
class Stated:
    confirmation_id: uuid.UUID
    expires_in: int


def needs_confirmation(principal: Principal, *, leaves_customer: bool, on_channel: bool = False) -> bool:
    """Whether this transfer needs a confirmation from an earlier message: the assistant paying someone, or
    moving any money for a customer on a messaging channel (where a message proves less than the app)."""
    return principal.is_service and (leaves_customer or on_channel)


async def state(*, principal: Principal, digest: str, ttl_seconds: int) -> Stated:
    """Record that the assistant stated this transfer (by its body digest) to the customer, now."""
    if not principal.is_service or principal.conversation_id is None or principal.grant_seq is None:
        raise ConfirmationRefused("only the assistant, on a grant, states transfers for confirmation")
    assert principal.customer_id is not None
    confirmation_id = uuid.uuid4()
    key = CONFIRMATION_KEY.format(confirmation_id=confirmation_id)
    try:
        async with asyncio.timeout(REDIS_TIMEOUT_S):
            client = await redis_client.get()
            async with client.pipeline(transaction=True) as pipe:
                pipe.hset(key, mapping={"customer_id": str(principal.customer_id),
                                        "conversation_id": str(principal.conversation_id),
                                        "seq": principal.grant_seq, "digest": digest})
                pipe.expire(key, ttl_seconds)
                await pipe.execute()
    except (redis.RedisError, TimeoutError) as exc:
        raise ConfirmationUnavailable from exc
    return Stated(confirmation_id=confirmation_id, expires_in=ttl_seconds)


async def check(*, principal: Principal, confirmation_id: uuid.UUID | None, digest: str, key: str) -> None:
    """Pass when the confirmation covers this body, for this conversation, from an earlier message."""
    if confirmation_id is None:
        raise ConfirmationRefused("a payee transfer by the assistant needs the customer's confirmation")
    if principal.grant_seq is None or principal.conversation_id is None:
        raise ConfirmationRefused("the assistant acts on a message's grant only")
    try:
        async with asyncio.timeout(REDIS_TIMEOUT_S):
            verdict = await (await redis_client.get()).eval(
                _CLAIM, 1, CONFIRMATION_KEY.format(confirmation_id=confirmation_id), str(principal.customer_id),
                str(principal.conversation_id), principal.grant_seq, digest, key)
    except (redis.RedisError, TimeoutError) as exc:
        raise ConfirmationUnavailable from exc
    verdict = verdict.decode() if isinstance(verdict, bytes) else str(verdict)
    if verdict != "ok":
        raise ConfirmationRefused(verdict)
