"""Phone numbers that need no validity check: a phone word after the number, or on the line before it.

"0681 563 12 72 office", "+41 53 147 37 99 fax", "9793 2356-Office" and "Phone:\\n021 555 0182" are phone
numbers whatever libphonenumber's plan says (international ones it finds anyway: recognizers.py,
FastPhoneRecognizer, takes any "+" number of a possible length). Separators here are spaces and tabs,
never a line break, so two numbers on two lines stay two spans.
"""

from __future__ import annotations

import re

from api.privacy.patterns.common import KW_END, I, digit_count
from api.privacy.rules import Rule, has_digit

NUMBER = (r"((?:\+|00)?\(?\d[\d \t().\-/]{4,22}\d"
          r"(?:[ \t]{0,3}(?:x|ext\.?)[ \t]{0,3}\d{1,6})?)")
WORD_AFTER = r"(?:office|fax|mobile|mob|cell|home|work|tel|phone|landline|direct|desk|whatsapp|voicemail)"
LABEL = (r"\b(?:phone|mobile|mob|cell|tel|telephone|fax|landline|whatsapp|contact|office|home|work)"
         r"(?:[ \t]{0,3}(?:number|no\.?|#))?")

# A national number as written at home: the trunk 0, an area code of one to four more digits, a space, dot
# or dash, then the subscriber number in one to four groups, 9 to 12 digits in all ("0312 0828589",
# "030-9018 2278", "01 45 67 89 10"). Numbering plans of more countries than libphonenumber's pass can afford
# (recognizers.py tries seven) write their numbers this way; an order, account or reference number seldom
# starts with 0 and has this grouping, and one after such a word is refused.
TRUNK_ZERO = (r"(?<![\w+£$€¥./\-])(?<!\d[ \t,])(0\d{1,4}(?:[ \t]|[ \t]?[.\-/][ \t]?)\d{2,8}"
              r"(?:(?:[ \t]|[ \t]?[.\-][ \t]?)\d{2,4}){0,3})(?![\w\-/]|[.,]\d)")
NOT_A_PHONE = re.compile(r"\b(?:account|acct|acc|a/c|iban|sort|order|ref|reference|invoice|transaction|tx|"
                         r"card|customer|policy|case|ticket|tracking|parcel|booking|id)\b[^\n]{0,20}$", I)


# The North American 3-3-4 shape with its separators, with or without "+1", "1-" or "001-" and an extension:
# "(093)226-9417", "167.321.4545", "001-167-321-4545x123". Written this way, it is a phone number whether
# or not its area code exists in libphonenumber's plan (which the recognizer requires of a bare number).
NANP = (r"(?<![\w+£$€¥./\-])((?:(?:\+|00)?1[ \t]?[.\-][ \t]?|\+1[ \t])?(?:\(\d{3}\)[ \t]?|\d{3}[.\-])\d{3}[.\-]\d{4}"
        r"(?:[ \t]{0,2}(?:x|ext\.?)[ \t]{0,2}\d{1,6})?)(?![\w\-/]|[.,]\d)")

RULES = (
    Rule("North American shape", re.compile(NANP, I), {1: "PHONE_NUMBER"}, 0.5, before_veto=NOT_A_PHONE),
    Rule("national number with its trunk 0, grouped", re.compile(TRUNK_ZERO), {1: "PHONE_NUMBER"}, 0.5,
         check=digit_count(9, 12), before_veto=NOT_A_PHONE),
    Rule("phone before a phone word", re.compile(
        r"(?<![\w+£$€¥./])(?<!\d,)" + NUMBER + r"[ \t]{0,3}(?:-[ \t]{0,3})?" + WORD_AFTER + KW_END, I),
        {1: "PHONE_NUMBER"}, 0.6, check=digit_count(6, 16)),
    Rule("phone on the line after its label", re.compile(
        LABEL + r"[ \t]{0,3}(?::[ \t]{0,3})?\r?\n[ \t]{0,8}" + NUMBER, I),
        {1: "PHONE_NUMBER"}, 0.6, check=digit_count(6, 16)),
)


def gate(text: str) -> bool:
    return has_digit(text)
