"""The recognizers the engine registers: Presidio built-ins, configured offline, plus our rule sets.

Built-ins: CREDIT_CARD (Luhn), IBAN_CODE (checksum), US_SSN, EMAIL_ADDRESS, PHONE_NUMBER (the
regions we serve), US_BANK_NUMBER (banking context words). Ours: see api/privacy/patterns/.
"""

from __future__ import annotations

import re

import phonenumbers
import tldextract
from presidio_analyzer import EntityRecognizer, Pattern, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    PhoneRecognizer,
    UkNinoRecognizer,
    UsBankRecognizer,
    UsSsnRecognizer,
)

from api.privacy.budget import check_deadline
from api.privacy.patterns import addresses, banking, personal, phones, secrets
from api.privacy.rules import RuleRecognizer, has_digit

CARD_PATTERN = (r"\b(?!1\d{12}(?!\d))((4\d{3})|(5[0-5]\d{2})|(2[2-7]\d{2})|(6\d{3})|(1\d{3})|(3\d{3}))"
                r"[- ]?(\d{3,4})[- ]?(\d{3,4})[- ]?(\d{3,5})\b")
PHONE_REGIONS = ("US", "GB", "DE", "FR", "IE", "NL", "ES")

# tldextract's default extractor fetches the public suffix list over the network on first use;
# an empty URL list makes it use the snapshot bundled in the package, so nothing leaves the host.
_OFFLINE_TLD = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


class _Skipped:
    """Skips the recognizer when a cheap test shows the text cannot hold its entity.

    Presidio runs every pattern of every recognizer on every message, with its `regex` engine and per-call
    bookkeeping; most chat lines hold no digit and no "@", and then card, IBAN, SSN, NINO, bank account
    numbers and e-mail addresses cannot be in them.
    """

    def could_match(self, text: str) -> bool:
        return has_digit(text)

    def analyze(self, text: str, entities: list[str],
                nlp_artifacts: NlpArtifacts | None = None) -> list[RecognizerResult]:
        if not self.could_match(text):
            return []
        return super().analyze(text, entities, nlp_artifacts)  # type: ignore[misc]


class DigitCreditCardRecognizer(_Skipped, CreditCardRecognizer):
    pass


class DigitIbanRecognizer(_Skipped, IbanRecognizer):
    pass


class DigitUsSsnRecognizer(_Skipped, UsSsnRecognizer):
    pass


class DigitUkNinoRecognizer(_Skipped, UkNinoRecognizer):
    pass


class DigitUsBankRecognizer(_Skipped, UsBankRecognizer):
    pass


class OfflineEmailRecognizer(_Skipped, EmailRecognizer):
    def could_match(self, text: str) -> bool:
        return "@" in text

    def validate_result(self, pattern_text: str) -> bool:
        return _OFFLINE_TLD(pattern_text.rsplit("@", 1)[-1]).fqdn != ""


class FastPhoneRecognizer(PhoneRecognizer):
    """PhoneRecognizer, faster and warier of bare digit runs.

    The stock recognizer runs libphonenumber's matcher over the whole text once per region, which
    is most of the cost of a long message. Here a cheap regex finds the digit runs that could be a
    phone number and the matcher only sees those. A run of digits with no "+", no trunk "0" and no
    separator ("order 3547754952") is a valid US number as often as it is an order or reference
    number: it scores below the threshold, and only a phone context word lifts it back.
    """

    BARE_SCORE = 0.1
    EXTENSION = re.compile(r"(?<!\s)\s*(?:x|ext\.?|extension)\s*\d{1,6}\b", re.IGNORECASE)  # matched at a number's end
    # National numbers of these regions start with the trunk prefix 0; US and Spanish ones do not.
    TRUNK_ZERO = ("GB", "DE", "FR", "IE", "NL")

    def _regions(self, candidate: str) -> tuple[str, ...]:
        regions = tuple(self.supported_regions)
        if candidate.startswith("+"):
            return regions[:1]  # an international number parses the same whatever the region
        if candidate.startswith("00"):
            return ("GB",)  # "00" is the international prefix in GB and most of Europe; the US dials 011
        digits = candidate.lstrip("(")
        zero = tuple(r for r in regions if r in self.TRUNK_ZERO)
        other = tuple(r for r in regions if r not in self.TRUNK_ZERO)
        return zero if digits.startswith("0") else other
    CANDIDATE = re.compile(r"(?:\+|\b00)?\(?\d[\d\s().\-/]{5,24}\d")

    def analyze(self, text: str, entities: list[str],
                nlp_artifacts: NlpArtifacts | None = None) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        if not has_digit(text):
            return results
        for cand in self.CANDIDATE.finditer(text):
            if sum(c.isdigit() for c in cand.group()) < 7:
                continue
            check_deadline()
            # Abroad ("+41 53 147 37 99"), a number of a possible length is a phone number, valid in
            # libphonenumber's plan or not: nothing else a customer types starts with "+" and 8+ digits.
            # ("00..." may be an account number: it must be VALID.)
            abroad = cand.group().startswith("+")
            # At home, a number after an account, order or reference word is that, not a phone number,
            # as for the phone rules (patterns/phones.py).
            if not abroad and phones.NOT_A_PHONE.search(text, max(0, cand.start() - 30), cand.start()):
                continue
            leniency = phonenumbers.Leniency.POSSIBLE if abroad else self.leniency
            for region in self._regions(cand.group()):
                for match in phonenumbers.PhoneNumberMatcher(cand.group(), region, leniency=leniency):
                    r = self._get_recognizer_result(match, text, region, nlp_artifacts)
                    r.start, r.end = cand.start() + match.start, cand.start() + match.end
                    if ext := self.EXTENSION.match(text, r.end):
                        r.end = ext.end()
                    value = text[r.start:r.end]
                    if value.isdigit() and not value.startswith("0"):
                        r.score = self.BARE_SCORE
                    results.append(r)
        return EntityRecognizer.remove_duplicates(results)


def builtin_recognizers() -> list[EntityRecognizer]:
    return [
        # Presidio's pattern predates Mastercard's 2-series (2221-2720): ours adds it, Luhn still applies.
        DigitCreditCardRecognizer(patterns=[Pattern("card number (weak)", CARD_PATTERN, 0.3)],
                             context=["card", "cards", "cc", "credit", "debit", "visa", "mastercard", "maestro", "amex",
                                      "number"]),
        DigitIbanRecognizer(),
        DigitUsSsnRecognizer(context=["social", "security", "ssn", "ssns", "ssn#", "ss#", "ssid", "sin"]),
        OfflineEmailRecognizer(),
        DigitUkNinoRecognizer(),  # a UK bank's customers quote their National Insurance number
        FastPhoneRecognizer(supported_regions=PHONE_REGIONS,
                            # Not "number": "my order number is 6589264094". "my number is ..." is
                            # caught by the phone rule in patterns/personal.py, which knows orders.
                            context=["phone", "mobile", "call", "cell", "tel", "telephone", "landline",
                                     "whatsapp", "text", "contact", "reach", "ring", "phones", "mob",
                                     "cellphone", "dial", "fax", "sms", "voicemail"]),
        # 9 to 17 digits: 8-digit numbers are our own ACCOUNT_NUMBER format (patterns/banking.py).
        # Not after a letter or hyphen, so "TX-123456789" stays a transaction id.
        DigitUsBankRecognizer(
            patterns=[Pattern("bank account number (weak)", r"(?<![\w\-])\d{9,17}(?![\w\-])", 0.05)],
            context=["account", "accounts", "acct", "checking", "savings", "deposit", "bank"]),
    ]


def rule_recognizers() -> list[EntityRecognizer]:
    return [
        RuleRecognizer("BankingRules", banking.RULES, gate=banking.gate),
        RuleRecognizer("SecretRules", secrets.RULES, gate=secrets.gate),
        RuleRecognizer("PersonalRules", personal.RULES),
        RuleRecognizer("PhoneRules", phones.RULES, gate=phones.gate),
        RuleRecognizer("AddressRules", addresses.RULES, gate=phones.gate),
        RuleRecognizer("IntersectionRules", addresses.NO_DIGIT_RULES),
    ]
