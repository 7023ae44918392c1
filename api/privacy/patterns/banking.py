"""Bank identifiers: our account numbers and ids, sort codes, routing numbers, card extras.

Our account number format (decided here, see docs/privacy.md): UK-style 8-digit numbers, written
"12345678" or "1234 5678", which are PII only next to an account word or a sort code, since bare
8-digit numbers are also order and reference numbers; and internal account ids "ACC-" + 8 digits,
which are ours and redacted anywhere. A customer's own account numbers are also on the per
conversation deny list, which catches them without any context.
"""

from __future__ import annotations

import re

from api.privacy.patterns.common import (
    GAP,
    KW_END,
    MONTH,
    NOT_A_SECRET,
    NUM_END,
    NUM_START,
    QUESTION_GAP,
    I,
    digit_count,
    luhn_ok,
)
from api.privacy.rules import Rule, has_digit

ACCOUNT_KW = r"\b(?:account|acct|acc|a/c)s?(?:\s*(?:number|num|no\.?|#))?" + KW_END
SORT_KW = r"\bsort(?:ing)?[\s-]?codes?" + KW_END
ROUTING_KW = r"\b(?:routing|aba|rtn|transit)(?:\s*(?:transit\s*)?(?:number|num|no\.?|#|code))?" + KW_END
CARD_KW = (r"\b(?:card|cc|visa|master\s?card|maestro|amex|debit|credit)(?:\s*(?:number|num|no\.?|#))?"
           + KW_END)
EXPIRY_KW = (r"\b(?:exp(?:iry|iration|ires|ired|iring)?\.?|valid\s+(?:thru|through|until|till|to|from)|"
             r"good\s+(?:thru|through))(?:\s+date)?" + KW_END)
CVV_KW = (r"\b(?:cvv2?|cvc2?|csc|cvn|security\s+(?:code|number|digits)|card\s+security\s+code|"
          r"card\s+verification(?:\s+(?:code|value|number))?|"
          r"(?:three|3|four|4)[\s-]digits?(?:\s+(?:code|number|security\s+code))?(?:\s+on\s+the\s+back)?|"
          r"(?:digits|code|number)\s+on\s+the\s+back)" + KW_END)

# "account ending 5678", "card ends in 4242": the last digits, which stay readable.
# ("the account number ends up being 12345678" is a whole number.)
ENDING = re.compile(r"\b(?:ending|ends\s+(?:in|with)|last|order|ref)\b", I)
SORT_CODE_VALUE = r"(\d{2}[\s-]?\d{2}[\s-]?\d{2})(?!\d)"
CARD_VALUE = r"((?:\d[ -]?){12,18}\d)(?!\d)"
MMYY = r"((?:0?[1-9]|1[0-2])\s?[/\-.]\s?(?:20)?\d{2})(?![\d/])"

def _iban_ok(value: str) -> bool:
    v = re.sub(r"[\s-]", "", value).upper()
    if not (15 <= len(v) <= 34 and v[:2].isalpha() and v[2:4].isdigit() and v.isalnum()):
        return False
    return int("".join(str(int(c, 36)) for c in v[4:] + v[:4])) % 97 == 1


def iban_span(text: str, m: re.Match[str], group: int) -> tuple[int, int] | None:
    """The longest prefix of the match, cut at a space, that passes the IBAN checksum: the pattern
    may run on into the next word ("gb82 west 1234 5698 7654 32 please")."""
    start, end = m.span(group)
    while end - start >= 15:
        if _iban_ok(text[start:end]):
            return start, end
        cut = text.rfind(" ", start, end)
        if cut <= start:
            return None
        end = cut
    return None


RULES = (
    # Presidio's IbanRecognizer wants capitals; customers type "gb82 west 1234 ...".
    Rule("iban in any case", re.compile(r"\b([a-z]{2}\d{2}(?:[ \-]?[a-z0-9]{2,4}){3,9})\b", I), {1: "IBAN_CODE"},
         0.9, adjust=iban_span),
    Rule("account number after account word", re.compile(
        ACCOUNT_KW + GAP + NUM_START + r"(\d{4}[\s-]?\d{4})" + NUM_END, I),
        {1: "ACCOUNT_NUMBER"}, 0.85, gap_veto=ENDING),
    Rule("internal account id", re.compile(r"\b(ACC-?\d{8})\b", I), {1: "ACCOUNT_NUMBER"}, 0.95),
    Rule("sort code after keyword", re.compile(SORT_KW + GAP + NUM_START + SORT_CODE_VALUE, I),
         {1: "SORT_CODE"}, 0.9),
    Rule("sort code then account number", re.compile(
        r"(?<![\d-])(\d{2}(?P<sep>[-\s])\d{2}(?P=sep)\d{2})(?![\d-])[\s,;/|]*"
        r"(?:(?:a/c|acc(?:ount)?|acct)(?:\s*(?:no\.?|number|#))?[\s:]*)?(\d{4}\s?\d{4})(?!\d)", I),
        {1: "SORT_CODE", 2: "ACCOUNT_NUMBER"}, 0.85),
    Rule("account number then sort code", re.compile(
        r"(?<![\d-])(\d{8})[\s,;/|]+(?:(?:sort\s*code|sc)[\s:]*)?(\d{2}-\d{2}-\d{2})(?![\d-])", I),
        {1: "ACCOUNT_NUMBER", 2: "SORT_CODE"}, 0.85),
    # With an explicit keyword the checksum is not required: a mistyped routing number is still one.
    Rule("routing number after keyword", re.compile(
        ROUTING_KW + GAP + NUM_START + r"(\d{9}|\d{4}-\d{4}-\d|\d{3}[\s-]\d{3}[\s-]\d{3})(?!\d)", I),
        {1: "ABA_ROUTING_NUMBER"}, 0.9),
    # Luhn-invalid numbers after a card word are still card numbers (typos); valid ones score 1.0
    # through Presidio's own CreditCardRecognizer.
    Rule("card number after card word", re.compile(CARD_KW + GAP + NUM_START + CARD_VALUE, I),
         {1: "CREDIT_CARD"}, 0.6, check=digit_count(12, 19),  # 12: Maestro
         gap_veto=ENDING),
    # A Luhn-valid number of 12 to 19 digits with a card network's first digit is a card number with or
    # without a card word ("cc 4278...", a 12-digit Maestro, a 19-digit Visa); Presidio's pattern stops at 17.
    Rule("Luhn-valid card number", re.compile(NUM_START + r"([2-6]\d{3}(?:[ -]?\d){8,15})(?![\d/]|[.,]\d)"),
         {1: "CREDIT_CARD"}, 0.6, check=lambda v: luhn_ok(v) and digit_count(12, 19)(v),
         before_veto=re.compile(r"\b(?:account|acct|acc|a/c|iban|routing|order|ref\w*|tracking|invoice|"
                                r"transaction|policy|customer|member|case|ticket)\b[^\d]{0,20}$", I)),
    # "4111 1111 1111 1111 09/27 123": a pasted card block, expiry and CVV follow the number.
    Rule("card block", re.compile(
        NUM_START + CARD_VALUE + r"[\s,;/|]*(?:(?:exp\w*|valid\s+thru)[\s:.]*)?" + MMYY +
        r"(?:[\s,;/|]*(?:(?:cvv2?|cvc2?|csc|security\s+code)[\s:]*)?(\d{3,4})(?![\d/]))?", I),
        {1: "CREDIT_CARD", 2: "CARD_EXPIRY", 3: "CARD_CVV"}, 0.7),
    Rule("expiry after keyword", re.compile(
        EXPIRY_KW + GAP + NUM_START + r"(?:" + MMYY + r"|(" + MONTH + r",?\s+(?:20)?\d{2})\b)", I),
        {1: "CARD_EXPIRY", 2: "CARD_EXPIRY"}, 0.85),
    Rule("cvv after keyword", re.compile(CVV_KW + GAP + NUM_START + r"(\d{3,4})" + NUM_END, I),
         {1: "CARD_CVV"}, 0.85, gap_veto=NOT_A_SECRET,
         before_veto=re.compile(r"\b(?:last|first|final)\s*$", I)),  # "the last 4 digits are 4242"
    Rule("cvv after a question", re.compile(CVV_KW + QUESTION_GAP + NUM_START + r"(\d{3,4})" + NUM_END, I),
         {1: "CARD_CVV"}, 0.8),
    Rule("cvv before keyword", re.compile(
        NUM_START + r"(\d{3,4})\s+(?:is|was)\s+(?:my|the)\s+(?:cvv2?|cvc2?|security\s+code|"
        r"(?:three|3)[\s-]digits?(?:\s+code)?)" + KW_END, I), {1: "CARD_CVV"}, 0.85),
)


def gate(text: str) -> bool:
    return has_digit(text)
