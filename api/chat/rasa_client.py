"""Talks to the Rasa server's REST channel. Rasa listens on loopback only; the core is the public door."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import httpx

from api.problems import Problem

MAX_BOT_MESSAGES = 20  # a reply longer than this is a bot loop, not an answer
# Kept-alive connections to Rasa shared by the process's threads (the chat route runs in the thread pool):
# a new connection per turn cost a TCP handshake and a client set-up on every message. Timeouts stay per call.
_POOL_LIMITS = httpx.Limits(max_connections=64, max_keepalive_connections=32)


@lru_cache(maxsize=1)
def _client() -> httpx.Client:
    """The process's one pooled client for Rasa (httpx.Client is thread-safe)."""
    return httpx.Client(limits=_POOL_LIMITS)


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
        response = _client().post(f"{rasa_url}/webhooks/rest/webhook", json=payload, timeout=timeout)
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


def _api_post(rasa_url: str, token: str, timeout: float, path: str, body: Any) -> dict[str, Any]:
    """POST to Rasa's HTTP API (`rasa run --enable-api --auth-token`); the tracker state it answers.

    The token goes in the query string (Rasa's token auth); httpx's request log, which would print the
    URL, is kept at WARNING (api/logging_setup.py). The answer holds the tracker, raw text included:
    callers read a flag from it and drop it.
    """
    try:
        response = _client().post(f"{rasa_url}{path}", params={"token": token, "include_events": "NONE"}, json=body,
                              timeout=timeout)
    except httpx.HTTPError as exc:
        raise Problem(503, "assistant_unavailable", "The assistant is not reachable right now; nothing changed, "
                      "try again") from exc
    try:
        state = response.json() if response.status_code == 200 else None
    except ValueError:
        state = None
    if not isinstance(state, dict):
        raise Problem(502, "assistant_error", "The assistant could not take this; nothing changed, try again",
                      upstream_status=response.status_code)
    return state


def log_user_message(rasa_url: str, token: str, timeout: float, conversation_id: uuid.UUID, text: str) -> None:
    """During a handoff: add the customer's message to the tracker without running the bot.

    Rasa's `POST /conversations/{id}/messages` parses and logs the message (so the event broker, and
    through it the redacted transcript, sees it) and predicts nothing. The bot stays quiet whatever
    Rasa's own state: a paused tracker that expired from Redis, a new session after an hour, a typed
    "/restart" would each have let the REST channel answer.
    """
    _api_post(rasa_url, token, timeout, f"/conversations/{conversation_id}/messages",
              {"text": text, "sender": "user"})


def say(rasa_url: str, token: str, timeout: float, conversation_id: uuid.UUID, response: str) -> list[BotMessage]:
    """Have the bot say a domain response in the conversation (Rasa's `execute`), then listen again.

    Through Rasa, so the line is in its tracker and, through the event broker, in the transcript and the
    live events. Returns what the bot said (for delivery on a messaging channel). Raises the problems of
    `_api_post` when Rasa cannot do it: the caller decides whether that matters.
    """
    state = _api_post(rasa_url, token, timeout, f"/conversations/{conversation_id}/execute", {"name": response})
    # Without action_listen the next message would be predicted on top of the utterance.
    _api_post(rasa_url, token, timeout, f"/conversations/{conversation_id}/tracker/events",
              [{"event": "action", "name": "action_listen"}])
    messages = state.get("messages")
    if not isinstance(messages, list):
        return []
    return [BotMessage(text=m["text"]) for m in messages[:MAX_BOT_MESSAGES]
            if isinstance(m, dict) and isinstance(m.get("text"), str)]


def resume(rasa_url: str, token: str, timeout: float, conversation_id: uuid.UUID) -> None:
    """Hand the conversation back to the bot: `resume`, then `action_listen`.

    The paused bot never listened after `action_request_human`; without `action_listen` the next message
    is predicted on top of that action (a fallback, and the rewound `request_human` opened a new
    handoff). What the customer typed during the handoff was the agent's to answer, not the bot's.
    """
    state = _api_post(rasa_url, token, timeout, f"/conversations/{conversation_id}/tracker/events",
                      [{"event": "resume"}, {"event": "action", "name": "action_listen"}])
    if state.get("paused") is not False:
        raise Problem(502, "assistant_error", "The assistant did not take the conversation back; try again")
