"""Building rasa_sdk trackers, running an action in process, and reading what it said and did."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

DEMO_TZ = "Europe/Dublin"  # both demo customers' time zone (data/seed.py)
_STANDARD_KEYS = {"text", "buttons", "elements", "custom", "template", "response", "image", "attachment"}
_PLACEHOLDER = re.compile(r"{([^\n{}]+?)}")
# conversation id -> the grant on its latest customer message (conftest.Core.message fills it), which
# Rasa would hand the action server in the tracker's latest message metadata.
GRANTS: dict[str, str] = {}


def tracker(sender_id: str, text: str = "", intent: str | None = None, *, confidence: float = 0.98,
            entities: dict[str, str] | None = None, slots: dict[str, Any] | None = None,
            ranking: list[dict[str, Any]] | None = None, events: list[dict[str, Any]] | None = None,
            active_loop: str | None = None) -> Tracker:
    """The tracker an action receives right after the customer's message `text` (NLU: intent, entities)."""
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence} if intent else {},
        "entities": [{"entity": k, "value": v} for k, v in (entities or {}).items()],
        "intent_ranking": ranking if ranking is not None else ([{"name": intent, "confidence": confidence}]
                                                               if intent else []),
        "metadata": {"grant": GRANTS[sender_id]} if sender_id in GRANTS else {},
    }
    if events is None:
        events = [{"event": "action", "name": "action_listen"}, {"event": "user", "text": text, "parse_data": latest}]
    return Tracker(sender_id, dict(slots or {}), latest, events, False, None,
                   {"name": active_loop} if active_loop else {}, events[-1].get("name") if events else None)


@dataclass
class Outcome:
    """What an action did: the dispatcher's messages and the events it returned."""

    messages: list[dict[str, Any]]
    events: list[dict[str, Any]]
    domain: dict[str, Any]

    @property
    def responses(self) -> list[str | None]:
        return [m.get("response") for m in self.messages]

    @property
    def said(self) -> list[str]:
        """Each message as the customer reads it: plain text, or the domain response filled with its kwargs.

        A response that is not in the domain, or whose template names a value the action did not pass,
        fails here: the customer would have seen a raw `{placeholder}` or nothing."""
        out = []
        for m in self.messages:
            if m.get("response"):
                variants = self.domain["responses"].get(m["response"])
                assert variants, f"{m['response']} is not a response in bot/domain"
                values = {k: v for k, v in m.items() if k not in _STANDARD_KEYS}
                template = variants[0]["text"]
                missing = set(_PLACEHOLDER.findall(template)) - set(values)
                assert not missing, f"{m['response']} needs {missing}, the action passed {sorted(values)}"
                out.append(_PLACEHOLDER.sub(lambda g, v=values: str(v[g.group(1)]), template))
            else:
                assert m.get("text"), f"a message with neither text nor response: {m}"
                out.append(m["text"])
        return out

    @property
    def text(self) -> str:
        return "\n".join(self.said)

    @property
    def buttons(self) -> list[dict[str, str]]:
        """The buttons the customer sees: a response's own (from the domain), then those the action added."""
        def of_response(m: dict[str, Any]) -> list[dict[str, str]]:
            return self.domain["responses"][m["response"]][0].get("buttons") or [] if m.get("response") else []
        return [b for m in self.messages for b in [*of_response(m), *(m.get("buttons") or [])]]

    @property
    def slots(self) -> dict[str, Any]:
        """The slots the returned events set (the last value wins)."""
        return {e["name"]: e["value"] for e in self.events if e.get("event") == "slot"}

    def kinds(self) -> list[str]:
        return [e["event"] for e in self.events]

    def followup(self) -> str | None:
        return next((e["name"] for e in self.events if e.get("event") == "followup"), None)


async def run(action: Action, tracker_: Tracker, domain: dict[str, Any]) -> Outcome:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker_, domain)
    assert isinstance(events, list), events
    return Outcome(dispatcher.messages, events, domain)


def with_events(slots: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, Any]:
    """The slots after Rasa applied the returned SlotSet events."""
    out = dict(slots)
    out.update({e["name"]: e["value"] for e in events if e.get("event") == "slot"})
    return out


def eur(amount: str | Decimal) -> str:
    """An amount as the customer reads it in euro: €1,234.56, -€3.45."""
    value = Decimal(str(amount))
    return f"{'-' if value < 0 else ''}€{abs(value):,.2f}"


def day(timestamp: str, tz: str = DEMO_TZ) -> str:
    """A day as the assistant says it: '20 Nov' this year, '20 Nov 2025' another year (customer's zone)."""
    when = date.fromisoformat(timestamp) if len(timestamp) == 10 else \
        datetime.fromisoformat(timestamp.replace("Z", "+00:00")).astimezone(ZoneInfo(tz))
    this_year = datetime.now(ZoneInfo(tz)).year
    return f"{when.day} {when:%b}" + ("" if when.year == this_year else f" {when.year}")


def total_sentence(spent: dict[str, Any], subject: str, label: str) -> str:
    """How a total from /v1/insights/spending is said (first line): "You spent €12.30 at Starbucks in
    November 2026 (3 payments)." or "You didn't spend anything at Starbucks in November 2026."."""
    if spent["count"] == 0:
        return f"You didn't spend anything {subject} {label}."
    payments = "payment" if spent["count"] == 1 else "payments"
    return f"You spent {eur(spent['total'])} {subject} {label} ({spent['count']} {payments})."


def today(tz: str = DEMO_TZ) -> date:
    return datetime.now(ZoneInfo(tz)).date()


def last_month(tz: str = DEMO_TZ) -> tuple[str, str, str]:
    """The previous calendar month in the customer's zone: first day, last day, and how it is said."""
    end = today(tz).replace(day=1) - timedelta(days=1)
    start = end.replace(day=1)
    return start.isoformat(), end.isoformat(), f"in {start:%B} {start.year}"


def covers(*action_classes: type[Action]) -> pytest.MarkDecorator:
    """Mark a test with the action classes it exercises (test_coverage.py checks that none is left out).

    `with_args`, because `pytest.mark.covers(SomeClass)` with one class would decorate that class."""
    return pytest.mark.covers.with_args(*action_classes)
