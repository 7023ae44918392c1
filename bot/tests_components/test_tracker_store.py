"""The windowed Redis tracker store (bankbot_tracker_store.py), against the real Redis: a long conversation
is stored as a bounded window that replays to the same slots, form and pause as the whole history, and
the event broker sees every event exactly once."""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import Any

import pytest
import redis
from rasa.core.brokers.broker import EventBroker
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bankbot_tracker_store import KEEP_EVENTS, MAX_EVENTS, WindowedRedisTrackerStore, cut_index

BOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REDIS_URL = os.environ.get("BANKBOT_TEST_REDIS", "redis://127.0.0.1:6379").rstrip("/")
DB = 9


class Collector(EventBroker):
    """Keeps what the store streams (the project's own broker posts it to the core; here it is counted)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def publish(self, event: dict[str, Any]) -> None:
        self.events.append(event)


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(os.path.join(BOT, "domain"))


def _store(domain: Domain, broker: EventBroker) -> WindowedRedisTrackerStore:
    host, port = REDIS_URL.removeprefix("redis://").split(":")
    redis.Redis(host=host, port=int(port), db=DB).flushdb()
    return WindowedRedisTrackerStore(domain=domain, host=host, port=int(port), db=DB, event_broker=broker,
                                     record_exp=600, key_prefix="windowtest")


def _turn(n: int) -> list[Any]:
    """One turn as Rasa records it: the user message, the bot's answer, a slot, back to listening."""
    return [UserUttered(f"message {n}", {"name": "faq", "confidence": 0.9}), ActionExecuted("utter_faq"),
            BotUttered(f"answer {n}"), SlotSet("fallback_streak", float(n % 3)), ActionExecuted("action_listen")]


def test_cut_only_at_a_whole_turn() -> None:
    events = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
    for n in range(60):
        events += _turn(n)
    cut = cut_index(events, KEEP_EVENTS)
    assert cut is not None and isinstance(events[cut + 1], UserUttered)
    assert events[cut].action_name == "action_listen" and len(events) - cut <= KEEP_EVENTS + 5


def test_a_long_conversation_is_stored_bounded_with_the_same_state(domain: Domain) -> None:
    broker = Collector()
    store = _store(domain, broker)
    sender = uuid.uuid4().hex

    async def conversation() -> tuple[DialogueStateTracker, DialogueStateTracker]:
        tracker = await store.get_or_create_tracker(sender)
        # Early on: slots that stay set, then a form that is still active at the end, then a pause.
        tracker.update(SlotSet("transfer_amount", "20 EUR"))
        tracker.update(ActiveLoop("transfer_form"))
        tracker.update(SlotSet("requested_slot", "transfer_recipient_id"))
        await store.save(tracker)
        for n in range(120):
            tracker = await store.retrieve(sender)
            assert tracker is not None
            for event in _turn(n):
                tracker.update(event)
            if n == 10:
                tracker.update(ConversationPaused())
            if n == 11:
                tracker.update(ConversationResumed())
            if n == 100:
                tracker.update(ConversationPaused())
            await store.save(tracker)
            await store.save(tracker)  # saved twice in one turn: nothing streamed twice
        full = DialogueStateTracker.from_events(sender, [e for e in _all_events(broker)], slots=list(domain.slots))
        stored = await store.retrieve(sender)
        assert stored is not None
        return full, stored

    full, stored = asyncio.run(conversation())
    assert len(stored.events) <= MAX_EVENTS, "the stored conversation is bounded"
    assert full.current_slot_values() == stored.current_slot_values()
    assert stored.active_loop_name == "transfer_form" and stored.is_paused()
    assert stored.latest_message.text == "message 119"
    texts = [e["text"] for e in broker.events if e["event"] == "user"]
    assert texts == [f"message {n}" for n in range(120)], "every user message streamed exactly once"


def _all_events(broker: Collector) -> list[Any]:
    from rasa.shared.core.events import Event

    return [Event.from_parameters({k: v for k, v in e.items() if k != "sender_id"}) for e in broker.events]
