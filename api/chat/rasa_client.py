"""Talks to the Rasa server's REST channel. Rasa listens on loopback only; the core is the public door."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from api.problems import Problem

MAX_BOT_MESSAGES = 20  # a reply longer than this is a bot loop, not an answer


@dataclass(frozen=True)
class BotMessage:
    text: str | None
    buttons: list[dict[str, str]] = field(default_factory=list)


def _button(raw: Any) -> dict[str, str] | None:
    if isinstance(raw, dict) and isinstance(raw.get("title"), str) and isinstance(raw.get("payload"), str):
        return {"title": raw["title"], "payload": raw["payload"]}
    return None


def send(rasa_url: str, timeout: float, conversation_id: uuid.UUID, text: str,
         metadata: dict[str, Any]) -> list[BotMessage]:
    payload = {"sender": str(conversation_id), "message": text, "metadata": metadata}
    try:
        response = httpx.post(f"{rasa_url}/webhooks/rest/webhook", json=payload, timeout=timeout)
    except httpx.HTTPError as exc:
        raise Problem(503, "assistant_unavailable", "The assistant is not reachable right now") from exc
    if response.status_code != 200:
        raise Problem(502, "assistant_error", "The assistant could not answer", upstream_status=response.status_code)
    raw = response.json()
    if not isinstance(raw, list):
        raise Problem(502, "assistant_error", "The assistant answered in an unexpected shape")
    messages = []
    for item in raw[:MAX_BOT_MESSAGES]:
        if not isinstance(item, dict):
            continue
        buttons = [b for b in (_button(x) for x in item.get("buttons") or []) if b]
        messages.append(BotMessage(text=item.get("text"), buttons=buttons))
    return messages
