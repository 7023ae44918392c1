"""Secrets said in chat: PINs, passwords and one-time codes ("my pin is 1234", "password: hunter2")."""

from __future__ import annotations

import re

from api.privacy.patterns.common import GAP, KW_END, NOT_A_SECRET, NUM_END, NUM_START, QUESTION_GAP, I
from api.privacy.rules import Rule, Span

PIN_KW = r"\bpin(?:\s*(?:number|code|no\.?|#))?" + KW_END
# Any "code" counts ("the code is 493021", "verification code: 1234"); NOT_OTP_BEFORE vetoes the others.
OTP_KW = r"\b(?:otp|one[\s-]?time\s+(?:pass(?:code|word)?|pin)|codes?)" + KW_END
PW_KW = r"\b(?:pass(?:word|wd|phrase|code)s?|pwd|pw)" + KW_END
# "promo code 1234", "error code 5001", "postcode": codes that are not secrets.
NOT_OTP_BEFORE = re.compile(
    r"\b(?:promo(?:tional)?|discount|voucher|coupon|error|reference|ref|postal|post|zip|area|sort|"
    r"swift|bic|branch|country|dialling|dialing|merchant|transaction|tracking|order|product|item|"
    r"reason|decline|response|tax|bank|status|mcc|qr|bar)\s*$", I)

# Words that follow "my password is" without being a password.
_COMMON_WORDS = """
a an the my your our this that it not no wrong right correct incorrect invalid valid working broken
expired locked blocked stuck too very really still now being the same different weak strong long
short easy hard simple fine ok okay good bad required needed case sensitive changed reset forgotten
lost saved stored there here missing empty blank mine what which how why where when
"""
NOT_A_PASSWORD = frozenset(_COMMON_WORDS.split())

DIGITS = r"(\d{4,8}|\d{3}[\s-]\d{3}|\d(?:[\s-]\d){3,7})"
_TRAIL = ".,!?;:)]}\"'”’"


def password_span(text: str, m: re.Match[str], _group: int) -> Span | None:
    """The password itself: the quoted text, or the next word less its closing punctuation."""
    if m.group("q"):
        return m.span("q")
    start, end = m.span("v")
    while end > start + 1 and text[end - 1] in _TRAIL:
        end -= 1
    value = text[start:end]
    strict = m.group("conn").strip() in (":", "=")
    if not strict and value.lower() in NOT_A_PASSWORD:
        return None
    return (start, end) if len(value) >= 3 or strict else None


def _looks_secret(value: str) -> bool:
    """A digit or a symbol next to letters: "hunter2", "More$95", not "reset" or "2"."""
    value = value.rstrip(_TRAIL)
    return len(value) >= 4 and any(c.isalpha() for c in value) and \
        any(c.isdigit() or not c.isalnum() for c in value)


PW_VALUE = r"(?:[\"'“‘](?P<q>[^\"'”’\n]{2,64})[\"'”’]|(?P<v>[^\s\"'“‘][^\s]{0,63}))"

RULES = (
    Rule("pin after keyword", re.compile(PIN_KW + GAP + NUM_START + DIGITS + NUM_END, I), {1: "PIN"}, 0.85,
         gap_veto=NOT_A_SECRET),
    Rule("pin before keyword", re.compile(
        NUM_START + r"(\d{4,6})\s+(?:is|was|will\s+be|should\s+be)\s+(?:my|the)\s+"
        r"(?:new\s+|old\s+|current\s+|card\s+)?pin" + KW_END, I), {1: "PIN"}, 0.85),
    Rule("otp after keyword", re.compile(OTP_KW + GAP + NUM_START + DIGITS + NUM_END, I), {1: "OTP"}, 0.8,
         gap_veto=NOT_A_SECRET, before_veto=NOT_OTP_BEFORE),
    Rule("otp before keyword", re.compile(
        NUM_START + DIGITS + r"\s+(?:is|was)\s+(?:the|my|your)\s+(?:otp|code|"
        r"one[\s-]?time\s+(?:code|passcode|password)|verification\s+code|security\s+code)" + KW_END, I),
        {1: "OTP"}, 0.8),
    Rule("password after keyword", re.compile(
        PW_KW + r"(?P<gap>[^\n.!?:=\"']{0,30}?)(?P<conn>\s*[:=]\s*|\s+(?:is|was|is\s+now|should\s+be|"
        r"will\s+be)\s+(?::\s*)?)" + PW_VALUE, I), {0: "PASSWORD"}, 0.85, adjust=password_span),
    # "someone knows my password hunter2": no connector, so the value must look like a password.
    Rule("password right after keyword", re.compile(
        r"\b(?:pass(?:word|wd|code)|pwd)(?P<conn>\s+)(?P<q>)(?P<v>[^\s\"'“‘]{4,64})", I), {0: "PASSWORD"}, 0.7,
        adjust=lambda text, m, g: password_span(text, m, g) if _looks_secret(m.group("v")) else None),
    Rule("pin, code or cvv after a question", re.compile(
        r"\b(?:pin|otp|code|passcode)" + KW_END + QUESTION_GAP + NUM_START + DIGITS + NUM_END, I),
        {1: "PIN"}, 0.75),
    Rule("password changed to", re.compile(
        r"\b(?:chang|set|reset|updat)\w*\s+(?:my\s+|the\s+)?(?:pass(?:word|code)|pwd)\s+to(?P<conn>\s+)"
        + PW_VALUE, I), {0: "PASSWORD"}, 0.85, adjust=password_span),
)


def gate(text: str) -> bool:
    low = text.lower()
    return "pin" in low or "code" in low or "pass" in low or "pw" in low or "otp" in low
