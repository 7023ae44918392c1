"""bankbot_events.py: an event's class by name from a dict, the same class Rasa's own lookup finds."""

from __future__ import annotations

import pytest
from rasa.shared.core.events import BotUttered, Event, SlotSet, deserialise_events
from rasa.shared.utils.common import all_subclasses

import bankbot_events

RASA_LOOKUP = Event.__dict__["resolve_by_type"].__func__  # before install() replaces it
bankbot_events.install()


def test_every_event_name_resolves_to_the_class_rasa_finds() -> None:
    names = {cls.type_name for cls in all_subclasses(Event)}
    assert {"user", "bot", "action", "slot", "session_started", "active_loop"} <= names
    for name in names:
        assert Event.resolve_by_type(name) is RASA_LOOKUP(name)
    assert Event.resolve_by_type is not RASA_LOOKUP


def test_other_names_are_rasas_lookup_default_and_error() -> None:
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no_such_event", BotUttered) is BotUttered
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        Event.resolve_by_type("no_such_event")


def test_deserialised_events_are_those_rasa_makes() -> None:
    raw = [{"event": "slot", "name": "amount", "value": "30"}, {"event": "bot", "text": "hi"}, {"no_event": 1}]
    assert deserialise_events(raw) == [SlotSet("amount", "30"), BotUttered("hi")]
