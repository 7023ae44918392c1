"""Log redaction: the stdlib filter (also loaded by path in the bot's venv) and the structlog processor."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
from pathlib import Path

import structlog

from api.privacy.logfilter import RedactingFilter, install, redact_text
from api.privacy.structlog_processor import RedactProcessor, redact_event

LOGFILTER = Path(__file__).resolve().parents[2] / "api" / "privacy" / "logfilter.py"


def test_redact_text() -> None:
    out = redact_text("user a@b.com card 4111-1111-1111-1111 iban GB82WEST12345698765432 pin is 1234 "
                      "ssn 536-22-8726 tel +44 7700 900123 acct 55779911, at 2024-03-12T10:00:00 took 12 ms")
    for secret in ("a@b.com", "4111", "GB82", "1234 ", "536-22", "7700", "55779911"):
        assert secret not in out, out
    assert "2024-03-12T10:00:00" in out and "12 ms" in out
    assert "<CREDIT_CARD>" in out and "pin is <SECRET>" in out


def test_uuid_and_short_numbers_survive() -> None:
    text = "conversation 3f2b6a1c-9d4e-4f57-8a2b-0c1d2e3f4a5b retried 3 times in 250 ms"
    assert redact_text(text) == text


def _logger(name: str) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s %(text)s"))
    logger = logging.getLogger(name)
    logger.handlers[:] = [handler]
    logger.propagate = False
    install(logger)
    return logger, stream


def test_filter_redacts_message_args_and_extras() -> None:
    logger, stream = _logger("test.privacy.filter")
    logger.warning("customer wrote %s", "my pin is 4321, card 4111111111111111", extra={"text": "raw words"})
    line = stream.getvalue()
    assert "4321" not in line and "4111111111111111" not in line and "raw words" not in line
    assert "<dropped 9 chars>" in line


def test_filter_redacts_exception_text() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("test.privacy.exc")
    logger.handlers[:] = [handler]
    logger.propagate = False
    handler.addFilter(RedactingFilter())
    try:
        raise ValueError("bad email bob@example.com")
    except ValueError:
        logger.exception("failed")
    assert "bob@example.com" not in stream.getvalue() and "<EMAIL_ADDRESS>" in stream.getvalue()


def test_install_is_idempotent() -> None:
    logger, _ = _logger("test.privacy.idem")
    install(logger)
    assert sum(isinstance(f, RedactingFilter) for f in logger.handlers[0].filters) == 1


def test_logfilter_needs_only_the_standard_library() -> None:
    """The bot's venv has no Presidio: load the file by path with site-packages disabled (-S -I)."""
    code = (
        "import importlib.util, logging, sys\n"
        f"spec = importlib.util.spec_from_file_location('pii_logfilter', {str(LOGFILTER)!r})\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        "logging.basicConfig(stream=sys.stdout, format='%(message)s'); m.install()\n"
        "logging.getLogger('bot').warning('user said %s', 'password: hunter2 mail x@y.io')\n"
        "assert not any(n.startswith(('presidio', 'spacy', 'api')) for n in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-S", "-I", "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "user said password: <SECRET> mail <EMAIL_ADDRESS>"


def test_structlog_processor_drops_message_fields() -> None:
    event = redact_event(None, "info", {"event": "chat from bob@example.com", "text": "my pin is 1234",
                                        "conversation_id": "c-1", "nested": {"body": "hi", "n": 3},
                                        "items": ["4111 1111 1111 1111"]})
    assert event == {"event": "chat from <EMAIL_ADDRESS>", "text": "<dropped 14 chars>",
                     "conversation_id": "c-1", "nested": {"body": "<dropped 2 chars>", "n": 3},
                     "items": ["<CREDIT_CARD>"]}


def test_structlog_processor_with_presidio_and_extra_keys() -> None:
    proc = RedactProcessor(presidio=True, extra_keys=["note"])
    event = proc(None, "info", {"event": "x", "text": "my pin is 1234", "note": "free text"})
    assert event["text"] == "my pin is <PIN>" and event["note"] == "free text"


def test_structlog_pipeline() -> None:
    capture = structlog.testing.LogCapture()
    structlog.configure(processors=[redact_event, capture])
    try:
        structlog.get_logger().info("message received", text="call me on +44 7700 900123", user="u1")
    finally:
        structlog.reset_defaults()
    assert capture.entries == [{"event": "message received", "text": "<dropped 26 chars>", "user": "u1",
                                "log_level": "info"}]
