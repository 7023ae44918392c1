"""Per-conversation deny lists: what the bank knows about the customer, as ad-hoc recognizers.

Every known value is turned into a tolerant regex (any case, any spacing or punctuation between
the digits of a phone or account number, with or without the country code), so "07700 900123",
"+44 7700-900-123" and "(07700) 900 123" all match the phone on file. Name parts are matched on
their own too, since customers sign with a first name; the few parts that are also common words
("Will", "May", "Mark") only match capitalised, so "I will pay" stays as it is.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from presidio_analyzer import EntityRecognizer

from api.privacy.models import KnownPII
from api.privacy.rules import Rule, RuleRecognizer

SCORE = 1.0  # the bank knows these are this customer's: they win every overlap
_SEP = r"[\s\-.()/]*"
_NAME_WORDS_TEXT = """
will may mark bill rose grace june april august summer faith hope joy page rich sue pat don guy art
bob dawn sky ray chance chase frank hunter major max miles penny robin sunny victor wade drew gene
jack jean lane lee long young white brown green black gray grey king hill wood bell cook baker
"""
_NAME_WORDS = frozenset(_NAME_WORDS_TEXT.split())
_UK_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b", re.I)


def _flex(value: str) -> str:
    """Literal text, any run of whitespace or punctuation between its words may differ."""
    words = re.findall(r"\w+", value)
    return r"[\s,.\-'’]*".join(re.escape(w) for w in words)


def _bounded(body: str) -> str:
    return r"(?<![\w@])(?:" + body + r")(?![\w@])"


def _digits_flex(digits: str) -> str:
    return _SEP.join(digits)


def _phone_regex(phone: str) -> str | None:
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 6:
        return None
    national, prefixes = digits, [r"(?:\+|00)\s*\d{1,3}" + _SEP + r"(?:\(?0\)?" + _SEP + r")?"]
    try:
        # A number on file without "+" is taken as a UK national number (the bank's home market).
        parsed = phonenumbers.parse(phone, None if phone.strip().startswith("+") else "GB")
        national = str(parsed.national_number)
        prefixes = [r"(?:\+|00)\s*" + str(parsed.country_code) + _SEP + r"(?:\(?0\)?" + _SEP + r")?"]
    except phonenumbers.NumberParseException:
        national = digits.lstrip("0")
    body = r"(?:" + "|".join(prefixes) + r"|\(?0\)?" + _SEP + r")?" + _digits_flex(national)
    return r"(?<![\d+])" + body + r"(?!\d)"


def _identifier_regex(value: str) -> str | None:
    chars = re.sub(r"[\W_]", "", value)
    if len(chars) < 6:
        return None  # short ids ("1234") would redact card last-fours and amounts
    return r"(?<![\w])" + r"[\s\-]?".join(re.escape(c) for c in chars) + r"(?![\w])"


def _address_regexes(address: str) -> list[str]:
    parts = [p.strip() for p in re.split(r"[,\n]+", address) if p.strip()]
    out = [_bounded(_flex(address))]
    for part in parts:
        # The street line and the postcode identify the customer; the town alone does not.
        if any(c.isdigit() for c in part) and len(part) >= 4:
            out.append(_bounded(_flex(part)))
    out += [_bounded(_flex(m.group())) for m in _UK_POSTCODE.finditer(address)]
    return out


def _name_regexes(name: str) -> tuple[list[str], list[str]]:
    """(case-insensitive, case-sensitive) patterns for a full name and its parts."""
    words = [w for w in re.findall(r"[\w'’\-]+", name) if len(w) >= 2]
    loose = [_bounded(_flex(name))] if words else []
    strict: list[str] = []
    if len(words) >= 3:
        loose.append(_bounded(_flex(f"{words[0]} {words[-1]}")))
    for w in words:
        if w.lower() in _NAME_WORDS:
            strict.append(_bounded(re.escape(w[:1].upper() + w[1:].lower())))
        elif len(w) >= 3:
            loose.append(_bounded(re.escape(w)))
    return loose, strict


def _rule(entity: str, name: str, regexes: list[str], flags: int = re.IGNORECASE) -> Rule | None:
    regexes = [r for r in regexes if r]
    if not regexes:
        return None
    # Longest first: alternation is ordered, and the full name must win over its first name.
    regexes.sort(key=len, reverse=True)
    return Rule(name, re.compile("(" + "|".join(f"(?:{r})" for r in regexes) + ")", flags), {1: entity}, SCORE)


@lru_cache(maxsize=2048)
def known_recognizers(known: KnownPII) -> tuple[EntityRecognizer, ...]:
    """Compiled once per customer profile (KnownPII is frozen, so it is a cache key).

    A RuleRecognizer rather than Presidio's deny-list PatternRecognizer: the standard `re` module
    compiles these alternations several times faster than `regex`, and a new conversation pays
    that compile on its first message.
    """
    loose_names: list[str] = []
    strict_names: list[str] = []
    for n in (known.full_name, *known.payee_names):
        if n:
            loose, strict = _name_regexes(n)
            loose_names += loose
            strict_names += [f"(?-i:{r})" for r in strict]
    ibans = [_identifier_regex(a) for a in known.account_numbers if re.match(r"[A-Za-z]{2}\d{2}", a)]
    others = [_identifier_regex(a) for a in known.account_numbers if not re.match(r"[A-Za-z]{2}\d{2}", a)]
    rules = (
        _rule("PERSON", "known name", loose_names + strict_names),
        _rule("EMAIL_ADDRESS", "known email", [_bounded(re.escape(known.email))] if known.email else []),
        _rule("PHONE_NUMBER", "known phone", [_phone_regex(known.phone) or ""] if known.phone else []),
        _rule("STREET_ADDRESS", "known address", _address_regexes(known.address) if known.address else []),
        _rule("ACCOUNT_NUMBER", "known account", [r or "" for r in others]),
        _rule("IBAN_CODE", "known iban", [r or "" for r in ibans]),
    )
    present = [r for r in rules if r is not None]
    return (RuleRecognizer("KnownPII", present),) if present else ()
