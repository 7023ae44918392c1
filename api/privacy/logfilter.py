"""Regex-only redaction for log records. Standard library only, on purpose.

The bot and action server (.venv-bot, Python 3.10) have no Presidio; they load this file by path:

    spec = importlib.util.spec_from_file_location("pii_logfilter", "<checkout>/api/privacy/logfilter.py")
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    mod.install()  # adds RedactingFilter to every handler of the root logger

It is a safety net for what should not reach a log in the first place: card, IBAN, SSN, email,
phone and long account-like numbers, and values after "pin/password/code is". Fields that carry
whole messages (MESSAGE_KEYS, as `extra=` attributes) are replaced by their length.
"""

from __future__ import annotations

import logging
import re

MESSAGE_KEYS = frozenset({
    "text", "message_text", "user_text", "bot_text", "body", "message_body", "utterance", "content",
    "transcript", "raw", "raw_text", "input", "input_text", "query", "prompt", "reply", "response_text",
})

_SECRET = re.compile(r"\b(pin|password|passwd|pwd|passcode|otp|cvv|cvc|code)(\s*(?:is|was|:|=)\s*)(\S+)", re.I)
_PATTERNS = (
    ("EMAIL_ADDRESS", re.compile(r"(?<![\w.+\-])[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")),  # starts a run: linear
    ("IBAN_CODE", re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")),
    ("CREDIT_CARD", re.compile(r"(?<![\d\w])(?:\d[ \-]?){12,18}\d(?!\d)")),
    ("US_SSN", re.compile(r"\b\d{3}-\d{2}-\d{4}\b")),
    ("PHONE_NUMBER", re.compile(r"(?<![\w+])(?:(?:\+|00)\d[\d\s().\-]{6,16}\d|0\d{2,4}[\s\-]\d{3,4}[\s\-]?\d{3,4})"
                                r"(?!\d)")),
    ("NUMBER", re.compile(r"(?<![\w\-.:])\d{8,}(?![\w\-.:])")),
)


def _luhn(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _card(m: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", m.group())
    return "<CREDIT_CARD>" if _luhn(digits) else "<NUMBER>"


def redact_text(text: str) -> str:
    """Replace likely PII in `text` by type tags; cheap enough for every log line."""
    if not text:
        return text
    text = _SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}<SECRET>", text)
    for name, pattern in _PATTERNS:
        text = pattern.sub(_card if name == "CREDIT_CARD" else f"<{name}>", text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (arguments merged in) and exception text, redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: log what we can, still redacted
            message = f"{record.msg} {record.args}"
        record.msg, record.args = redact_text(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        for key in MESSAGE_KEYS.intersection(record.__dict__):
            value = record.__dict__[key]
            record.__dict__[key] = f"<dropped {len(value)} chars>" if isinstance(value, str) else "<dropped>"
        return True


def install(logger: logging.Logger | None = None) -> RedactingFilter:
    """Add one RedactingFilter to every handler of `logger` (root by default).

    Handlers, not loggers: a logger's filters do not see records that propagate from its children.
    """
    target = logger or logging.getLogger()
    flt = RedactingFilter()
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(flt)
    return flt
