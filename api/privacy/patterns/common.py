"""Regex fragments shared by the rule sets."""

from __future__ import annotations

import re
from collections.abc import Callable

I = re.IGNORECASE  # noqa: E741 - a flag, read as such

# Words between a keyword and its value, within one clause: no digits, no sentence end.
GAP = r"(?P<gap>[^\d\n.!?]{0,24}?)"
# A value must not sit inside an amount (£1,234.56), a decimal, a date (12/03) or a longer number.
# "do you need the cvv? it's 066": the keyword in a question, the value in the answer.
QUESTION_GAP = r"[^\d\n.!?]{0,24}\?\s*(?:it'?s|it\s+is|that'?s|here(?:'s|\s+it\s+is)?)\s*(?::\s*)?"
NUM_START = r"(?<![\d£$€¥.,/\-])"
NUM_END = r"(?![\d/]|[.,]\d)"
# The end of a keyword: "exp" must not match the start of "expense".
KW_END = r"(?![a-z])"
# Between a keyword and a value, these words mean the number is something else: the last digits
# of a card or account ("card ending 4242"), an order, a count of attempts. "card" and "on" are
# not among them: "the pin for my card is 1234", "the number on the back is 123".
NOT_A_SECRET = re.compile(
    r"\b(?:ending|ends|last|order|ref|reference|transaction|payment|invoice|"
    r"times?|attempts?|tries|days?|hours?|minutes?|mins?)\b", I)

MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
         r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")


def digit_count(lo: int, hi: int) -> Callable[[str], bool]:
    def check(value: str) -> bool:
        n = sum(c.isdigit() for c in value)
        return lo <= n <= hi
    return check


def luhn_ok(value: str) -> bool:
    digits = [int(c) for c in value if c.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return len(digits) >= 12 and total % 10 == 0


def aba_ok(value: str) -> bool:
    d = [int(c) for c in value if c.isdigit()]
    return len(d) == 9 and sum(x * w for x, w in zip(d, (3, 7, 1) * 3, strict=True)) % 10 == 0
