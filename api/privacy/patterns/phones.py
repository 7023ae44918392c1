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
# The same number typed without its grouping: the trunk 0, then a non-zero digit, 10 or 11 digits in all
# ("02079460958", "07700900123"). "00" starts an international number (recognizers.py).
TRUNK_ZERO_UNGROUPED = r"(?<![\w+£$€¥./\-])(?<!\d[ \t,])(0[1-9]\d{8,9})(?![\w\-/]|[.,]\d)"
# A phone word between such a word and the number wins: "customer phone 0471 5528830" is a phone number.
NOT_A_PHONE = re.compile(r"\b(?:account|acct|acc|a/c|iban|sort|order|ref|reference|invoice|transaction|tx|"
                         r"card|customer|policy|case|ticket|tracking|parcel|booking|id)\b"
                         r"(?:(?!phone|mobile|tel\b|cell|fax|landline|whatsapp)[^\n]){0,20}$", I)


# The North American 3-3-4 shape with its separators, with or without "+1", "1-" or "001-" and an extension:
# "(093)226-9417", "167.321.4545", "001-167-321-4545x123". Written this way, it is a phone number whether
# or not its area code exists in libphonenumber's plan (which the recognizer requires of a bare number).
NANP = (r"(?<![\w+£$€¥./\-])((?:(?:\+|00)?1[ \t]?[.\-][ \t]?|\+1[ \t])?(?:\(\d{3}\)[ \t]?|\d{3}[.\-])\d{3}[.\-]\d{4}"
        r"(?:[ \t]{0,2}(?:x|ext\.?)[ \t]{0,2}\d{1,6})?)(?![\w\-/]|[.,]\d)")

# A number grouped the way most of Europe writes a national number without a trunk 0 (Spain, Czechia,
# Norway, Poland, Denmark, Portugal...: "772 616 930", "914 54 925", "67 788 02 83", "28-64-27-85",
# "21 259 903 5696"), an area code in brackets ("(11) 7113-8192", "(88) 158-170"), or an area code of three
# or four digits and the subscriber number ("483-9548620", "9356 1286", "445 6271"), or of two digits and six
# or more after a space ("25 470375" in Cyprus): 7 to 12 digits in two to five groups, one kind of separator
# (a space, a dash or a dot) between them. A customer types few other numbers grouped like this;
# `_grouped_phone` refuses those that are: dates ("12 03 2024"), decimals, IP addresses, tax and social
# security numbers' shapes, and sums of money (a currency before or after; a round sum in thousands,
# "1 250 000", even without one). After an account, order, reference... word it is refused, as the shapes
# above are.
GROUPED = (r"(?<![\w+£$€¥./\-,:])(?<!\d[ \t])"
           r"((?:\(\d{1,4}\)[ \t]?\d{2,5}(?:[ \t.\-]\d{2,5}){0,2}"
           r"|\d{2,4}(?P<sep>[ \t.\-])\d{2,8}(?:(?P=sep)\d{2,4}){0,3}))"
           r"(?![\w\-/%£$€¥]|[.,]\d|[ \t]\d|[ \t]{0,2}(?:eur|euros?|gbp|usd|chf|sek|nok|dkk|pln|czk|kr|zł|"
           r"pounds?|dollars?|francs?|crowns?|pence|p)\b)")
MONEY_BEFORE = r"(?:[£$€¥]|\b(?:eur|gbp|usd|chf|sek|nok|dkk|pln|czk|kr|zł)\.?)[ \t]{0,2}$"
NOT_A_GROUPED_PHONE = re.compile(NOT_A_PHONE.pattern + "|" + MONEY_BEFORE, I)
_DIGIT_GROUPS = re.compile(r"\d+")


def _grouped_phone(value: str) -> bool:
    """Whether a grouped number could be a phone number rather than a date, an IP address or money."""
    groups = _DIGIT_GROUPS.findall(value)
    digits = sum(len(g) for g in groups)
    if not 7 <= digits <= 12:
        return False
    if value.startswith("("):
        return True
    if len(groups) == 2 and ("." in value or (len(groups[0]) < 3 and ("-" in value or len(groups[1]) < 6))):
        return False  # "105.856639" is a decimal, "53-2543263" an employer or tax number ("25 470375" a phone)
    if len(groups) == 3 and "-" in value and [len(g) for g in groups] == [3, 2, 4]:
        return False  # the social security number's shape, left to its own recognizer
    if len(groups) == 3 and (_is_date(groups) or _is_date(groups[::-1])):
        return False
    if len(groups) == 4 and "." in value and all(len(g) <= 3 and int(g) <= 255 for g in groups):
        return False  # an IP address
    # "1 250 000": a round sum in thousands, money without its currency
    return not (len(groups) >= 3 and all(len(g) == 3 for g in groups[1:]) and "000" in groups[1:])


def _is_date(groups: list[str]) -> bool:
    """Day and month (either order), then a four-digit year, or the reverse: "12 03 2024", "2024-03-12"."""
    day, month, year = groups
    if len(year) != 4 or not 1900 <= int(year) <= 2099:
        return False
    return 1 <= int(day) <= 31 and 1 <= int(month) <= 31


RULES = (
    Rule("North American shape", re.compile(NANP, I), {1: "PHONE_NUMBER"}, 0.5, before_veto=NOT_A_PHONE),
    Rule("national number with its trunk 0, grouped", re.compile(TRUNK_ZERO), {1: "PHONE_NUMBER"}, 0.5,
         check=digit_count(9, 12), before_veto=NOT_A_PHONE),
    Rule("national number with its trunk 0, ungrouped", re.compile(TRUNK_ZERO_UNGROUPED), {1: "PHONE_NUMBER"}, 0.5,
         before_veto=NOT_A_PHONE),
    Rule("national number in groups", re.compile(GROUPED, I), {1: "PHONE_NUMBER"}, 0.5, check=_grouped_phone,
         before_veto=NOT_A_GROUPED_PHONE),
    Rule("phone before a phone word", re.compile(
        r"(?<![\w+£$€¥./])(?<!\d,)" + NUMBER + r"[ \t]{0,3}(?:-[ \t]{0,3})?" + WORD_AFTER + KW_END, I),
        {1: "PHONE_NUMBER"}, 0.6, check=digit_count(6, 16)),
    Rule("phone on the line after its label", re.compile(
        LABEL + r"[ \t]{0,3}(?::[ \t]{0,3})?\r?\n[ \t]{0,8}" + NUMBER, I),
        {1: "PHONE_NUMBER"}, 0.6, check=digit_count(6, 16)),
)


def gate(text: str) -> bool:
    return has_digit(text)
