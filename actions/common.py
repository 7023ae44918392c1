"""Small helpers shared by the actions: the latest message, entities, and the customer's clock."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.core_client import CoreClient, CoreError, CoreUnavailable

__all__ = ["CoreClient", "CoreError", "CoreUnavailable", "button", "core_down", "core_for", "entity", "intent",
           "local_now", "short_date", "text_of"]


def core_for(tracker: Tracker) -> CoreClient:
    """The core, for this conversation's customer, on the grant the core put on the message being handled."""
    metadata = tracker.latest_message.get("metadata") or {}
    if not isinstance(metadata, dict):
        metadata = {}
    grant = metadata.get("grant")
    return CoreClient(tracker.sender_id, grant if isinstance(grant, str) else None,
                      sealed_token=metadata.get("service_token"))


def text_of(tracker: Tracker) -> str:
    return str(tracker.latest_message.get("text") or "")


def intent(tracker: Tracker) -> str:
    return str((tracker.latest_message.get("intent") or {}).get("name") or "")


def entity(tracker: Tracker, name: str) -> str | None:
    value = next(tracker.get_latest_entity_values(name), None)
    return None if value is None else str(value)


def local_now(tz: str) -> datetime:
    return datetime.now(timezone.utc).astimezone(ZoneInfo(tz))


def short_date(value: str | date | datetime, tz: str = "UTC") -> str:
    """'20 Nov' for this year, '20 Nov 2025' otherwise, in the customer's zone."""
    if isinstance(value, str):  # a day ("2026-12-04") is a day everywhere; an instant is moved into the zone
        value = date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, datetime):
        value = value.astimezone(ZoneInfo(tz)).date()
    this_year = local_now(tz).year
    return f"{value.day} {value:%b}" + ("" if value.year == this_year else f" {value.year}")


def button(title: str, intent_name: str, **entities: Any) -> dict[str, str]:
    """A button whose payload is an intent with entities, so the choice needs no NLU."""
    payload = f"/{intent_name}" + (json.dumps(entities, separators=(",", ":")) if entities else "")
    return {"title": title, "payload": payload}


def core_down(dispatcher: CollectingDispatcher) -> list[dict[str, Any]]:
    dispatcher.utter_message(response="utter_core_unavailable")
    return []
