"""The three signature schemes on their own (no database, no network): accepted, and refused for each reason."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from api.channels import signatures
from api.problems import Problem

SECRET = "a-telegram-secret-token_0123456789"


def _refused(call: Callable[[], None], code: str) -> None:
    with pytest.raises(Problem) as caught:
        call()
    assert caught.value.status == 401
    assert caught.value.code == code


def test_telegram_secret_token() -> None:
    signatures.verify_telegram(SECRET, SECRET)
    _refused(lambda: signatures.verify_telegram(SECRET, SECRET[:-1] + "x"), "signature_invalid")
    _refused(lambda: signatures.verify_telegram(SECRET, None), "signature_missing")
    _refused(lambda: signatures.verify_telegram(SECRET, ""), "signature_missing")
    _refused(lambda: signatures.verify_telegram(SECRET, SECRET + "é"), "signature_invalid")  # non-ASCII: no TypeError
    _refused(lambda: signatures.verify_telegram("", ""), "channel_not_configured")
    _refused(lambda: signatures.verify_telegram("", "anything"), "channel_not_configured")


def test_slack_v0_signature_matches_slacks_documented_scheme() -> None:
    # Cross-checked against slack_sdk's SignatureVerifier (which .venv-bot has): same value.
    assert signatures.slack_signature("8f742231b10e8888abcd99yyyzzz85a5", "1531420618",
                                      b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J") == \
        "v0=bca5eef5dd737ed259b428b18cd24f679baa18c3fc5f1cb2a6ac9f03e717969a"


def test_slack_signature_window_and_secret() -> None:
    secret, body, now = "slack-signing-secret-0123456789ab", b'{"type":"event_callback"}', time.time()
    ts = str(int(now))
    good = signatures.slack_signature(secret, ts, body)
    signatures.verify_slack(secret, 300, ts, good, body, now=now)
    signatures.verify_slack(secret, 300, ts, good, body, now=now + 299)
    _refused(lambda: signatures.verify_slack(secret, 300, ts, good, body, now=now + 301), "signature_expired")
    _refused(lambda: signatures.verify_slack(secret, 300, ts, good, body, now=now - 301), "signature_expired")
    _refused(lambda: signatures.verify_slack("another-secret-0123456789abcdef", 300, ts, good, body, now=now),
             "signature_invalid")
    _refused(lambda: signatures.verify_slack(secret, 300, ts, good, body + b" ", now=now), "signature_invalid")
    stale = str(int(now) - 400)  # an old request signed correctly for its own timestamp
    _refused(lambda: signatures.verify_slack(secret, 300, stale, signatures.slack_signature(secret, stale, body),
                                             body, now=now), "signature_expired")
    _refused(lambda: signatures.verify_slack(secret, 300, None, good, body, now=now), "signature_missing")
    _refused(lambda: signatures.verify_slack(secret, 300, ts, None, body, now=now), "signature_missing")
    _refused(lambda: signatures.verify_slack(secret, 300, "12e3", good, body, now=now), "signature_invalid")
    _refused(lambda: signatures.verify_slack(secret, 300, "٣٣", good, body, now=now), "signature_invalid")
    _refused(lambda: signatures.verify_slack("", 300, ts, good, body, now=now), "channel_not_configured")


def test_twilio_signature_matches_twilios_documented_example() -> None:
    # Twilio's own example (twilio-python's RequestValidator gives the same value).
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+12349013030", "Digits": "1234", "From": "+12349013030",
              "To": "+18005551212"}
    assert signatures.twilio_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2",
                                       list(params.items())) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_twilio_signature_covers_url_and_every_parameter() -> None:
    token, url = "twilio-auth-token-0123456789abcdef", "https://bank.example/v1/channels/twilio/sms"
    params = [("From", "+447700900123"), ("Body", "hello"), ("MessageSid", "SM1")]
    good = signatures.twilio_signature(token, url, params)
    signatures.verify_twilio(token, url, params, good)
    signatures.verify_twilio(token, url, list(reversed(params)), good)  # order does not matter: sorted
    _refused(lambda: signatures.verify_twilio(token, url, [*params[:1], ("Body", "hellO"), *params[2:]], good),
             "signature_invalid")
    _refused(lambda: signatures.verify_twilio(token, "http://evil.example/v1/channels/twilio/sms", params, good),
             "signature_invalid")
    _refused(lambda: signatures.verify_twilio("another-token-0123456789abcdefgh", url, params, good),
             "signature_invalid")
    _refused(lambda: signatures.verify_twilio(token, url, params, None), "signature_missing")
    _refused(lambda: signatures.verify_twilio("", url, params, good), "channel_not_configured")
