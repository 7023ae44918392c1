"""The core's product metrics: chat turns, NLU, fallbacks, handoffs, transfers (Prometheus).

Every core process writes these to PROMETHEUS_MULTIPROC_DIR and the internal listener's /metrics adds
them up (api/internal.py); state that lives in the database (sagas, saga workers, overdue handoffs) is
read at scrape time instead (api/telemetry_db.py). Labels are bounded: intents through
api/intents.label, statuses and phases from fixed sets. No label or sample carries customer text.

Turn latency by intent. The core times a turn (api/chat/service.py) but does not learn its intent:
Rasa's REST answer has none. The event broker's user event has it, with the turn's request id
(bot/bankbot_broker.py), and reaches the internal listener's ingest, usually before the turn ends.
So both halves meet in Redis under the request id (`meet_turn`): each side writes its half and reads
the hash in one MULTI/EXEC, so exactly one side, the second, sees both and observes the histogram.
It costs one Redis round trip per turn on each side; a turn whose other half never comes (Redis down,
a message logged during a handoff) is simply not observed, and its key expires.
"""

from __future__ import annotations

from decimal import Decimal

import redis
import structlog
from prometheus_client import Counter, Histogram

from api import intents

TURN_BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10)
CHAT_TURN = Histogram("bankbot_chat_turn_seconds", "A chat turn in the core (relay to Rasa included), by intent",
                      ["intent"], buckets=TURN_BUCKETS)
CHAT_PHASE = Histogram("bankbot_chat_phase_seconds", "Parts of a chat turn in the core: total, rasa, grant, db",
                       ["phase"], buckets=(0.001, 0.0025, *TURN_BUCKETS))
NLU_CONFIDENCE = Histogram("bankbot_nlu_confidence", "Confidence of the NLU's top intent, per customer message",
                           buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0))
INTENTS = Counter("bankbot_nlu_intents_total", "Customer messages by the NLU's top intent", ["intent"])
FALLBACKS = Counter("bankbot_fallbacks_total", "Fallbacks: nlu_fallback (NLU unsure), action_default_fallback "
                    "(no policy sure)", ["kind"])
HANDOFFS = Counter("bankbot_handoff_events_total", "Handoffs opened and claimed", ["event"])
TRANSFERS = Counter("bankbot_transfer_outcomes_total", "Transfers asked for, by the status answered", ["status"])

PHASES = ("total", "rasa", "grant", "db")
TRANSFER_STATUSES = frozenset({"completed", "pending", "failed", "awaiting_approval"})
FALLBACK_ACTIONS = frozenset({"action_default_fallback"})
TURN_KEY = "bankbot:turn-metric:{}"
TURN_KEY_SECONDS = 120

log = structlog.get_logger(__name__)


def observe_phases(seconds: dict[str, float]) -> None:
    for phase, value in seconds.items():
        if phase in PHASES:
            CHAT_PHASE.labels(phase).observe(value)


def observe_user_message(intent: str | None, confidence: Decimal | float | None) -> None:
    """A stored customer message's NLU result (the transcript ingest calls this once per stored line)."""
    name = intents.label(intent)
    INTENTS.labels(name).inc()
    if name == intents.FALLBACK:
        FALLBACKS.labels(intents.FALLBACK).inc()
    if confidence is not None:
        NLU_CONFIDENCE.observe(float(confidence))


def observe_action(name: object) -> None:
    """An action event the broker forwards (only the policy fallback, bot/bankbot_broker.py)."""
    if name in FALLBACK_ACTIONS:
        FALLBACKS.labels(str(name)).inc()


def count_transfer(status: object) -> None:
    TRANSFERS.labels(status if isinstance(status, str) and status in TRANSFER_STATUSES else "other").inc()


def count_handoff(event: str) -> None:
    HANDOFFS.labels(event).inc()


def meet_turn(client: redis.Redis, request_id: str | None, *, seconds: float | None = None,
              intent: str | None = None) -> None:
    """One half of a turn (its latency from the chat path, or its intent from the ingest); the side
    that completes the pair observes bankbot_chat_turn_seconds{intent}. Never raises: a metric must
    not fail a turn or a batch."""
    if not request_id or (seconds is None) == (intent is None):
        return
    key = TURN_KEY.format(request_id)
    field, value = ("seconds", repr(seconds)) if seconds is not None else ("intent", intents.label(intent))
    try:
        pipe = client.pipeline(transaction=True)
        pipe.hset(key, field, value)
        pipe.hgetall(key)
        pipe.expire(key, TURN_KEY_SECONDS)
        _, halves, _ = pipe.execute()
    except redis.RedisError as exc:
        log.warning("turn_metric_skipped", error=type(exc).__name__)
        return
    halves = {_text(k): _text(v) for k, v in halves.items()}
    if "seconds" in halves and "intent" in halves:
        CHAT_TURN.labels(intents.label(halves["intent"])).observe(float(halves["seconds"]))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
