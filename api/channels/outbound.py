"""The channels' outbound APIs: Telegram sendMessage, Slack chat.postMessage, Twilio Messages.

One pooled httpx client per channel and process. Retried only when nothing can have been sent: the
connection was never made, or the API answered 429 (it did nothing). A read timeout or a 5xx after the
request went out is not retried (the customer might get the line twice). Failures raise SendFailed;
neither the text nor the URL (Telegram's holds the bot token) is ever logged or put in an error.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import httpx
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from api.config import Settings

TELEGRAM_MAX_TEXT = 4096
SLACK_MAX_TEXT = 3000  # a section block's text
SMS_MAX_TEXT = 1600  # Twilio's limit for one (multi-part) message
SLACK_MAX_BUTTONS = 25  # an actions block's elements


class SendFailed(Exception):
    """The channel did not take the message (its reason, never the text)."""


class _Retryable(Exception):
    pass


@lru_cache(maxsize=8)
def _client(channel: str, timeout: float) -> httpx.Client:
    # The process's client for this channel: keep-alive connections to one API host.
    return httpx.Client(timeout=timeout, limits=httpx.Limits(max_connections=20, max_keepalive_connections=10))


def _post(settings: Settings, channel: str, url: str, **kwargs: Any) -> httpx.Response:
    client = _client(channel, settings.channel_timeout_seconds)
    retrying = Retrying(stop=stop_after_attempt(settings.channel_max_attempts),
                        wait=wait_exponential(multiplier=0.2, max=2), retry=retry_if_exception_type(_Retryable),
                        reraise=True)
    try:
        for attempt in retrying:
            with attempt:
                try:
                    response = client.post(url, **kwargs)
                except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                    raise _Retryable(type(exc).__name__) from None
                if response.status_code == 429:
                    raise _Retryable("429")
                return response
    except _Retryable as exc:
        raise SendFailed(f"{channel}: {exc}") from None
    except httpx.HTTPError as exc:
        raise SendFailed(f"{channel}: {type(exc).__name__}") from None
    raise SendFailed(f"{channel}: no attempt")  # unreachable: Retrying makes at least one


def _ok_json(channel: str, response: httpx.Response, ok_statuses: tuple[int, ...] = (200,)) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code not in ok_statuses or not isinstance(body, dict):
        raise SendFailed(f"{channel}: status {response.status_code}")
    return body


def telegram_send(settings: Settings, *, chat_id: str, text: str, buttons: list[tuple[str, str]]) -> None:
    """sendMessage, with the buttons as an inline keyboard (one per row; callback_data is the value)."""
    body: dict[str, Any] = {"chat_id": chat_id, "text": text[:TELEGRAM_MAX_TEXT]}
    if buttons:
        body["reply_markup"] = {"inline_keyboard": [[{"text": title[:64], "callback_data": value}]
                                                    for title, value in buttons]}
    url = f"{settings.telegram_api_url.rstrip('/')}/bot{settings.telegram_bot_token}/sendMessage"
    if not _ok_json("telegram", _post(settings, "telegram", url, json=body)).get("ok"):
        raise SendFailed("telegram: not ok")


def telegram_answer_callback(settings: Settings, *, callback_id: str) -> None:
    """answerCallbackQuery: stops the pressed button's spinner in the customer's Telegram."""
    url = f"{settings.telegram_api_url.rstrip('/')}/bot{settings.telegram_bot_token}/answerCallbackQuery"
    _ok_json("telegram", _post(settings, "telegram", url, json={"callback_query_id": callback_id}))


def slack_send(settings: Settings, *, user_id: str, text: str, buttons: list[tuple[str, str]]) -> None:
    """chat.postMessage to the user's direct message with the app, buttons as a Block Kit actions block."""
    body: dict[str, Any] = {"channel": user_id, "text": text[:SLACK_MAX_TEXT]}
    if buttons:
        body["blocks"] = [
            {"type": "section", "text": {"type": "plain_text", "text": text[:SLACK_MAX_TEXT] or " "}},
            {"type": "actions", "elements": [
                {"type": "button", "action_id": f"bankbot_option_{n}",
                 "text": {"type": "plain_text", "text": title[:75]}, "value": value}
                for n, (title, value) in enumerate(buttons[:SLACK_MAX_BUTTONS], start=1)]}]
    url = f"{settings.slack_api_url.rstrip('/')}/chat.postMessage"
    answer = _ok_json("slack", _post(settings, "slack", url, json=body,
                                     headers={"Authorization": f"Bearer {settings.slack_bot_token}"}))
    if not answer.get("ok"):  # Slack answers 200 with {"ok": false, "error": ...}
        raise SendFailed(f"slack: {str(answer.get('error'))[:60]}")


def twilio_send(settings: Settings, *, to: str, text: str) -> None:
    """Messages.json: one SMS (Twilio splits a long one into segments)."""
    sid = settings.twilio_account_sid
    url = f"{settings.twilio_api_url.rstrip('/')}/2010-04-01/Accounts/{sid}/Messages.json"
    _ok_json("twilio", _post(settings, "twilio", url, auth=(sid, settings.twilio_auth_token),
                             data={"To": to, "From": settings.twilio_from_number, "Body": text[:SMS_MAX_TEXT]}),
             ok_statuses=(200, 201))
