"""Waiting for a provider's final answer: a webhook if one comes, the provider's status if none does.

Webhooks are delivered at least once, late, out of order or never; the status API always answers. So a
saga waits for a message (api/sagas/webhooks.py sends one per verified event, topic = the object's id)
for a while, then asks the provider, and waits longer each time, up to saga_await_seconds in all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dbos import DBOS

from api.config import get_settings


def final_state(*, object_id: str, terminal: frozenset[str], poll: Callable[[str], dict[str, Any]]) -> \
        dict[str, Any] | None:
    """The object's first terminal state seen (from a webhook or a poll), or None when waiting ran out."""
    settings = get_settings()
    interval, waited = settings.saga_poll_start_seconds, 0.0
    while waited < settings.saga_await_seconds:
        message = DBOS.recv(topic=object_id, timeout_seconds=interval)
        if isinstance(message, dict) and message.get("status") in terminal:
            return message
        if message is None:  # no news within the interval: ask
            current = poll(object_id)
            if current.get("status") in terminal:
                return current
            waited += interval
            interval = min(interval * 2, settings.saga_poll_max_seconds)
    return None
