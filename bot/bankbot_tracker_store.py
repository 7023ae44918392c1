"""Rasa's Redis tracker store, with work per turn bounded by a window instead of the whole conversation.

Rasa 3.6's RedisTrackerStore does, on every save: a GET and a full deserialisation (every event replayed)
to find the events the broker has not seen, another GET and deserialisation to merge with the stored
tracker (a replay back in time and an event-by-event comparison), then a serialisation of the whole
history; and every message starts with a load that replays it all again. The policies then featurise
every event of the tracker. So a turn cost grew with the conversation: measured, the same FAQ took 21 ms
at the start of a conversation and 88 ms at its 80th turn in Rasa alone (issue 16).

This store keeps what the dialogue needs and bounds the rest:

* **Broker delta by count.** A tracker this store loaded remembers how many events it had; on save only
  the events after those are new. A tracker it did not load (a new conversation, one replaced through the
  HTTP API) falls back to Rasa's diff once.
* **A window, with the state carried over.** When the stored conversation exceeds MAX_EVENTS, it is cut at
  a user turn so that about KEEP_EVENTS remain. What the cut-off part had established is kept as events at
  the front of the stored tracker: the session's start, a `SlotSet` for every slot whose value differs from
  its initial one, the active form, and a pause. Replaying the stored events gives the same slots, form and
  pause as the whole history; only turns the policies never look back to (our rules and the memoization
  policy look a few turns back) are dropped. The transcript (redacted, in the core) is the full record.
* **No merge with earlier sessions.** Only the current session is kept (Rasa's retrieve returns only that
  anyway); earlier ones are in the transcript.

Configured in endpoints.yml: `tracker_store: type: bankbot_tracker_store.WindowedRedisTrackerStore`.
"""

from __future__ import annotations

import json
import logging

from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.conversation import Dialogue
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    ConversationPaused,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

import bankbot_events

logger = logging.getLogger(__name__)

# A stored conversation longer than MAX_EVENTS is cut down to about KEEP_EVENTS of its latest events (whole
# turns: 40 events are eight to ten turns, more than any rule or action looks back). The RulePolicy featurises
# every stored event on each prediction, so the window bounds a turn's cost: with 200/80 the 80th turn of a
# conversation cost 1.14-1.38 times the first, with 100/40 0.98-1.03 (make bench-chat, 3 December 2026).
MAX_EVENTS = 100
KEEP_EVENTS = 40
_LOADED = "_bankbot_loaded_events"  # on a tracker this store loaded: how many events it had then
# Every load deserialises each stored event: its class by name from a dict (bankbot_events.py).
bankbot_events.install()


def _loaded_count(tracker: DialogueStateTracker) -> int | None:
    return getattr(tracker, _LOADED, None)


def _mark_loaded(tracker: DialogueStateTracker | None) -> DialogueStateTracker | None:
    if tracker is not None:
        setattr(tracker, _LOADED, len(tracker.events))
    return tracker


def cut_index(events: list[Event], keep: int) -> int | None:
    """Where to cut so that about `keep` events remain: at the `action_listen` before a user message, so the
    kept part starts with a whole turn. None when there is no such place (nothing is cut)."""
    for index in range(max(1, len(events) - keep), len(events)):
        if isinstance(events[index], UserUttered) and isinstance(events[index - 1], ActionExecuted) \
                and events[index - 1].action_name == "action_listen":
            return index - 1
    return None


def carried_state(tracker: DialogueStateTracker, at: float) -> list[Event]:
    """Events that re-establish `tracker`'s slots, active form and pause (timestamped `at`)."""
    state: list[Event] = []
    for slot in tracker.slots.values():
        if slot.value != slot.initial_value:
            state.append(SlotSet(slot.name, slot.value, timestamp=at))
    if tracker.active_loop_name:
        state.append(ActiveLoop(tracker.active_loop_name, timestamp=at))
    if tracker.is_paused():
        state.append(ConversationPaused(timestamp=at))
    return state


class WindowedRedisTrackerStore(RedisTrackerStore):
    """RedisTrackerStore whose load, save and broker delta cost a bounded window, not the conversation."""

    def window(self, tracker: DialogueStateTracker) -> list[Event]:
        """The events to store: all of them, or the carried state and the latest turns."""
        events = list(tracker.events)
        if len(events) <= MAX_EVENTS:
            return events
        cut = cut_index(events, KEEP_EVENTS)
        if cut is None:
            return events
        # The session's opening (action_session_start, session_started, action_listen) stays first, so the
        # stored tracker is one session; then the state the cut-off turns left; then the kept turns.
        opening = [e for e in events[:3] if isinstance(e, SessionStarted | ActionExecuted)]
        before = DialogueStateTracker.from_events(tracker.sender_id, events[:cut], slots=list(self.domain.slots))
        return [*opening, *carried_state(before, at=events[cut - 1].timestamp), *events[cut:]]

    async def save(self, tracker: DialogueStateTracker, timeout: float | None = None) -> None:
        """Stream the new events to the broker, then store the window (with the record's expiry)."""
        loaded = _loaded_count(tracker)
        if loaded is None:
            await self.stream_events(tracker)  # not loaded here: Rasa's diff against what is stored, once
        elif self.event_broker is not None:
            await self._stream_new_events(self.event_broker, list(tracker.events)[loaded:], tracker.sender_id)
        stored = Dialogue(tracker.sender_id, self.window(tracker)).as_dict()
        self.red.set(self.key_prefix + tracker.sender_id, json.dumps(stored), ex=timeout or self.record_exp)
        _mark_loaded(tracker)  # a second save of the same tracker in this turn streams only what came since

    async def _retrieve(self, sender_id: str, fetch_all_sessions: bool) -> DialogueStateTracker | None:
        return _mark_loaded(await super()._retrieve(sender_id, fetch_all_sessions))
