"""Conversation grants: issued when the core forwards a customer's message, spent by the action server.

A grant is an opaque random token. The core issues one for every message it relays to Rasa (in the
message's metadata); the action server trades it, with its own client secret, for a short-lived
service token that acts for that conversation's customer. Knowing a conversation id, or holding the
client secret alone, gives nothing: only a message the customer really sent carries a grant.

Each grant records the conversation's message sequence number, so the core can tell a later message
from an earlier one (a payee transfer needs a confirmation made before the message that executes it).
Only the grant's SHA-256 is stored, in Redis, with an expiry and a count of uses left.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass

import redis

GRANT_KEY = "bankbot:grant:{digest}"
SEQUENCE_KEY = "bankbot:conversation-seq:{conversation_id}"
SEQUENCE_TTL_SECONDS = 30 * 24 * 3600  # far longer than a conversation's tracker lives in Rasa
TOKEN_BYTES = 32
MAX_TOKEN_CHARS = 128

# Issue in one round trip: the conversation's next sequence number, and the grant that carries it.
_ISSUE = """
local seq = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], 'conversation_id', ARGV[2], 'customer_id', ARGV[3], 'seq', seq, 'uses', ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[5])
return seq
"""

# Spend one use atomically: no grant, or no use left, answers nothing.
_SPEND = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
if redis.call('HINCRBY', KEYS[1], 'uses', -1) < 0 then return false end
return redis.call('HMGET', KEYS[1], 'conversation_id', 'customer_id', 'seq')
"""


class GrantRefused(Exception):
    """The grant is unknown, expired, used up, or for another conversation."""


@dataclass(frozen=True)
class Grant:
    conversation_id: uuid.UUID
    customer_id: uuid.UUID
    seq: int


def _key(token: str) -> str:
    return GRANT_KEY.format(digest=hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest())


@dataclass(frozen=True)
class Issued:
    token: str
    seq: int  # the message's sequence number in its conversation


def issue(*, client: redis.Redis, conversation_id: uuid.UUID, customer_id: uuid.UUID, ttl_seconds: int,
          uses: int) -> Issued:
    """A new grant for the message the customer just sent in this conversation."""
    assert ttl_seconds > 0 and uses > 0
    token = secrets.token_urlsafe(TOKEN_BYTES)
    seq = client.eval(_ISSUE, 2, SEQUENCE_KEY.format(conversation_id=conversation_id), _key(token),
                      SEQUENCE_TTL_SECONDS, str(conversation_id), str(customer_id), uses, ttl_seconds)
    return Issued(token=token, seq=int(seq))


def spend(*, client: redis.Redis, token: str, conversation_id: uuid.UUID | None = None) -> Grant:
    """Use the grant once; what it allows. GrantRefused when it allows nothing (any more)."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise GrantRefused("malformed grant")
    found = client.eval(_SPEND, 1, _key(token))
    if not found:
        raise GrantRefused("unknown, expired or used-up grant")
    grant = Grant(conversation_id=uuid.UUID(found[0].decode()), customer_id=uuid.UUID(found[1].decode()),
                  seq=int(found[2]))
    if conversation_id is not None and grant.conversation_id != conversation_id:
        raise GrantRefused("the grant is for another conversation")
    return grant

