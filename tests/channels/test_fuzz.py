"""Correctly signed bodies of any shape: a channel webhook answers 2xx or a 4xx problem, never a 500."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.channels.conftest import CHANNEL_SECRETS, PUBLIC_BASE_URL, Channels
from tests.channels.signing import (
    SLACK_PATH,
    TELEGRAM_PATH,
    TWILIO_PATH,
    slack_headers,
    telegram_headers,
    twilio_headers,
)

EXAMPLES = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12),
                                                                                             inner, max_size=5),
                      max_leaves=20)
# Shapes close to the real ones reach deeper than random JSON does.
telegram_like = st.fixed_dictionaries({"update_id": st.integers() | st.text(max_size=5)},
                                      optional={"message": values, "callback_query": values,
                                                "edited_message": values})
slack_like = st.fixed_dictionaries({"type": st.sampled_from(["event_callback", "url_verification", "x"]) | values},
                                   optional={"event_id": values, "team_id": values, "event": values,
                                             "challenge": values})


def _ok(status: int) -> bool:
    return status in (200, 400, 413, 422)


def test_telegram_never_500(channels: Channels) -> None:
    headers = telegram_headers(CHANNEL_SECRETS["TELEGRAM_WEBHOOK_SECRET"])

    @EXAMPLES
    @given(body=telegram_like | values)
    def check(body: object) -> None:
        response = channels.client.post(TELEGRAM_PATH, content=json.dumps(body).encode(), headers=headers)
        assert _ok(response.status_code), (response.status_code, response.text)

    check()


def test_slack_never_500(channels: Channels) -> None:
    secret = CHANNEL_SECRETS["SLACK_SIGNING_SECRET"]

    @EXAMPLES
    @given(body=slack_like | values, form=st.booleans())
    def check(body: object, form: bool) -> None:
        raw = urlencode({"payload": json.dumps(body)}).encode() if form else json.dumps(body).encode()
        kind = "application/x-www-form-urlencoded" if form else "application/json"
        response = channels.client.post(SLACK_PATH, content=raw, headers=slack_headers(secret, raw, content_type=kind))
        assert _ok(response.status_code), (response.status_code, response.text)

    check()


def test_twilio_never_500(channels: Channels) -> None:
    token = CHANNEL_SECRETS["TWILIO_AUTH_TOKEN"]
    names = st.sampled_from(["MessageSid", "From", "Body", "To"]) | st.text(max_size=8)

    @EXAMPLES
    @given(form=st.dictionaries(names, st.text(max_size=40), max_size=6))
    def check(form: dict[str, str]) -> None:
        response = channels.client.post(TWILIO_PATH, data=form, headers=twilio_headers(token, PUBLIC_BASE_URL, form))
        assert _ok(response.status_code), (response.status_code, response.text)

    check()
