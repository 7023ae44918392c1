"""Synthetic chat lines with labelled PII spans, for bench/redaction_bench.py.

Six template pools, each written before it was first run. "dev" is the one recognizer work looked
at from the start; "test", "holdout", "final" and "report" were each held out for one run, then
looked at (docs/privacy.md gives their first-run figures); "blind" was written after the last
change to the recognizers, is not tuned on, and gives the reported figures. All are generated from fixed
seeds with Faker values (names, addresses, IBANs, cards, SSNs, e-mails in seven locales) and our
own generators where Faker's output is not what a customer would type (phone numbers that follow
each country's numbering plan; Faker's own phone formats are kept as a separate stress group,
"faker_phone"). None of these sentences is in tests/privacy, which uses hand-written ones.

    python -m bench.pii_eval_set --split holdout -n 5    # print a few examples
"""

from __future__ import annotations

import argparse
import random
import re
from dataclasses import dataclass, field
from datetime import date

from faker import Faker

from api.privacy.models import KnownPII

LOCALES = ("en_GB", "en_US", "en_IE", "de_DE", "fr_FR", "es_ES", "nl_NL")
PHONE_COUNTRIES = ("US", "GB", "DE", "FR", "IE", "NL", "ES")


@dataclass(frozen=True)
class Span:
    type: str
    start: int
    end: int
    known: bool = False  # on the conversation's deny list
    source: str = ""  # generator name, for stress groups (faker_phone)


@dataclass
class Example:
    text: str
    spans: list[Span]
    known: KnownPII
    split: str
    template: str = ""
    extra: dict[str, str] = field(default_factory=dict)


# --- templates ----------------------------------------------------------------------------------
# {PLACEHOLDER}s are PII unless listed in NEUTRAL. Lines without PII measure precision.
DEV_TEMPLATES = [
    # cards
    "my card number is {CARD} can you check it",
    "Card: {CARD}, exp {EXP}, cvv {CVV}",
    "{CARD} {EXP} {CVV}",
    "the card {CARD} was charged twice for {AMOUNT}",
    "is {CARD} blocked?",
    "cvv is {CVV}",
    "expiry date {EXP}",
    # bank details
    "iban {IBAN}",
    "please send it to {IBAN}",
    "sort code {SORT} account number {ACCT}",
    "{SORT} {ACCT}",
    "my account number is {ACCT}",
    "acc no {ACCT} please",
    "reference for my account {ACCID}",
    "routing number {ROUTING}",
    "checking account {USBANK} routing {ROUTING}",
    "my savings account number is {USBANK}",
    # ids
    "my ssn is {SSN}",
    "social security number {SSN}",
    # contact
    "email me at {EMAIL}",
    "my email is {EMAIL}",
    "call me on {PHONE}",
    "my phone number is {PHONE}",
    "mobile: {PHONE}",
    "new number {FPHONE}",
    # secrets
    "my pin is {PIN}",
    "PIN: {PIN}",
    "password: {PW}",
    "my password is {PW}",
    "the code is {OTP}",
    "otp {OTP}",
    "verification code: {OTP}",
    # personal
    "date of birth {DOB}",
    "I was born on {DOB}",
    "dob: {DOB}",
    "I live at {ADDR}",
    "my address is {ADDR}",
    "my name is {NAME}",
    "hi, I'm {NAME}",
    "send {AMOUNT} to {NAME}",
    # known PII
    "this is {KNAME}",
    "{KFIRST} here, need help",
    "my email {KEMAIL} doesn't get your messages",
    "call {KPHONE}",
    "I moved from {KADDR}",
    "pay {KPAYEE} {AMOUNT} from {KACCT}",
    "did {KPAYEE} get the money?",
    # no PII
    "what did I spend on {MERCHANT} last month?",
    "I paid {AMOUNT} on {TXDATE} to {MERCHANT}",
    "order {ORDER} hasn't arrived",
    "card ending {LAST4} is frozen",
    "transaction {TXID} looks wrong",
    "how much is left on my savings",
    "freeze my card please",
    "I want to talk to a person",
    "refund of {AMOUNT} for order {ORDER} on {TXDATE}",
]

TEST_TEMPLATES = [
    # cards
    "hi, the number on my card is {CARD}",
    "this payment on {CARD} isn't mine",
    "card {CARD} exp {EXP} security code {CVV}",
    "here are my details {CARD} / {EXP} / {CVV}",
    "it's a visa {CARD}",
    "can you unblock {CARD}",
    "the 3 digits on the back are {CVV}",
    "expires {EXP}",
    "valid thru {EXP}, does that matter?",
    # bank details
    "my IBAN is {IBAN}",
    "transfer 200 to {IBAN} please",
    "sort code: {SORT}, acct {ACCT}",
    "account {ACCT} sort code {SORT}",
    "pay into {SORT} {ACCT}",
    "why is account {ACCT} overdrawn",
    "my account id is {ACCID}",
    "aba {ROUTING}",
    "the routing number is {ROUTING} and my checking account is {USBANK}",
    "wire it to bank account {USBANK}",
    # ids
    "SSN {SSN}",
    "here's my social: {SSN}",
    # contact
    "you can email {EMAIL}",
    "contact me: {EMAIL} or {PHONE}",
    "{EMAIL}",
    "please call {PHONE} after 5",
    "my mobile number changed to {PHONE}",
    "ring me on {PHONE}",
    "tel {PHONE}",
    "reach me at {FPHONE}",
    # secrets
    "I think my PIN {PIN} was seen by someone",
    "the pin for my card is {PIN}",
    "is it ok that my password is {PW}",
    "password = {PW}",
    "I got the code {OTP} by text",
    "one-time code {OTP}",
    "your code was {OTP} right?",
    # personal
    "my date of birth is {DOB}",
    "DOB {DOB}",
    "born {DOB}",
    "my address: {ADDR}",
    "please send the new card to {ADDR}",
    "I've moved to {ADDR}",
    "my name's {NAME}",
    "this is {NAME} speaking",
    "transfer {AMOUNT} to {NAME} please",
    "Mr {LAST} called me about it",
    # known PII
    "{KNAME}",
    "hello it's {KFIRST}",
    "{KFIRST_LOWER} here",
    "you have my email as {KEMAIL}",
    "text me on {KPHONE}",
    "my address is still {KADDR}",
    "send {AMOUNT} to {KPAYEE}",
    "has {KPAYEE} been paid from {KACCT}?",
    "from account {KACCT} to {KPAYEE_LOWER}",
    # no PII
    "how much did I spend on {MERCHANT} in October",
    "there's a payment of {AMOUNT} on {TXDATE} I don't recognise",
    "my order {ORDER} was cancelled",
    "the card ending in {LAST4} was declined",
    "transaction id {TXID}",
    "why was I charged {AMOUNT} twice",
    "what's my balance",
    "show me my last five payments to {MERCHANT}",
    "I was charged {AMOUNT} at 10:45 on {TXDATE}",
    "can I pay {AMOUNT} by {TXDATE}",
    "unblock my card ending {LAST4}",
]

# Written after the recognizers were tuned on DEV_TEMPLATES and TEST_TEMPLATES; run once, then its
# misses were looked at and fixed, so it is no longer held out (first-run figures: docs/privacy.md).
HOLDOUT_TEMPLATES = [
    # cards
    "someone used my card {CARD} in another country",
    "card no. {CARD}",
    "I typed {CARD} and it said invalid",
    "Visa {CARD} expiring {EXP}",
    "ok so it's {CARD}, {EXP}, and the cvc is {CVV}",
    "the security number on the back is {CVV}",
    "exp date: {EXP}",
    "my mastercard {CARD} got declined at {MERCHANT}",
    # bank details
    "beneficiary IBAN: {IBAN}",
    "can you confirm {IBAN} is correct",
    "my old account was {ACCT} with sort code {SORT}",
    "sort {SORT} / {ACCT}",
    "a/c {ACCT}",
    "account no: {ACCT}",
    "I need statements for {ACCID}",
    "ABA routing {ROUTING}, account {USBANK}",
    "deposit it into my savings, account number {USBANK}",
    # ids
    "my social security number is {SSN}",
    "ssn: {SSN}",
    # contact
    "is {EMAIL} the email you have?",
    "update my email to {EMAIL} please",
    "I sent it from {EMAIL} yesterday",
    "my number is {PHONE}",
    "whatsapp me {PHONE}",
    "please update my phone to {PHONE}",
    "you called me from {PHONE}, was that you?",
    "contact number {FPHONE}",
    # secrets
    "I changed my pin to {PIN} yesterday",
    "{PIN} is my pin, is that secure?",
    "pin number: {PIN}",
    "my online banking password is {PW}",
    "login pw: {PW}",
    "the otp you sent is {OTP}",
    "{OTP} is the code",
    "I entered the verification code {OTP} but nothing happened",
    # personal
    "I was born {DOB}",
    "my birthday is {DOB}",
    "d.o.b. {DOB}",
    "address is {ADDR}",
    "my home address is {ADDR}, has it been updated?",
    "I live at {ADDR} now",
    "I'm {NAME}, your customer",
    "my full name is {NAME}",
    "pay {NAME} {AMOUNT} for the rent",
    "Dr {LAST} asked me to pay the invoice",
    # known PII
    "Hi, {KNAME} here",
    "it's {KFIRST_LOWER}",
    "Regards, {KFIRST}",
    "my email on file is {KEMAIL}",
    "my mobile is {KPHONE}",
    "is {KADDR} still my registered address?",
    "move {AMOUNT} from {KACCT} to savings",
    "I owe {KPAYEE} money",
    "{KPAYEE_LOWER} is my landlord",
    # no PII
    "what's my balance on savings",
    "I spent {AMOUNT} at {MERCHANT} on {TXDATE}, is that right?",
    "my order number is {ORDER}",
    "my card ending {LAST4} keeps getting declined",
    "the reference is {TXID}",
    "how much did I spend on groceries this year",
    "I'd like to dispute {AMOUNT} from {TXDATE}",
    "payment {TXID} failed twice",
    "the last 4 digits are {LAST4}",
    "I withdrew {AMOUNT} at 3pm",
    "is there a fee for paying {AMOUNT} abroad",
    "block card {LAST4}",
]

# Written after the recognizers were tuned on the pools above; run once, then its misses were
# looked at and fixed, so it is no longer held out (first-run figures: docs/privacy.md).
FINAL_TEMPLATES = [
    # cards
    "{CARD} is the long number on the front",
    "why did {CARD} get charged by {MERCHANT}",
    "pls cancel card {CARD}",
    "details: {CARD} exp. {EXP} cvv2 {CVV}",
    "the card expires on {EXP}",
    "do you need the cvv? it's {CVV}",
    "number {CARD}, valid until {EXP}",
    # bank details
    "I'm sending money to IBAN {IBAN}",
    "{IBAN} is the account I want to add",
    "UK account {ACCT}, sort code {SORT}",
    "my sort code is {SORT}",
    "the account number ends up being {ACCT}",
    "close account {ACCID} please",
    "my bank's routing number is {ROUTING}",
    "my US checking account is {USBANK}",
    "account # {USBANK}",
    # ids
    "SSN is {SSN}, do you need anything else",
    "for the tax form: social security {SSN}",
    # contact
    "new email address: {EMAIL}",
    "my work email is {EMAIL}, use that",
    "they emailed me from {EMAIL} asking for my pin",
    "phone: {PHONE}",
    "best number to reach me is {PHONE}",
    "text {PHONE} when it's done",
    "I got a call from {PHONE} pretending to be you",
    "call back on {FPHONE}",
    # secrets
    "do I need my PIN {PIN} for contactless?",
    "my new PIN will be {PIN}",
    "someone knows my password {PW}",
    "pwd: {PW}",
    "the passcode is {PW}",
    "got a one time passcode {OTP} but I didn't ask for it",
    "code {OTP}",
    "security code {OTP}, is that a scam?",
    # personal
    "my birth date is {DOB}",
    "born on {DOB} if that helps",
    "DOB: {DOB}",
    "I moved house, new address {ADDR}",
    "card should go to {ADDR}",
    "my billing address: {ADDR}",
    "this is {NAME}, I called earlier",
    "name: {NAME}",
    "transfer {AMOUNT} to {NAME} for dinner",
    "Mrs {LAST} is my mother, can she call you?",
    # known PII
    "regards, {KNAME}",
    "thanks {KFIRST}",
    "this is {KFIRST_LOWER}",
    "my email {KEMAIL} is correct",
    "you can reach me on {KPHONE}",
    "I still live at {KADDR}",
    "{KACCT} is my main account",
    "pay {KPAYEE} again please",
    "last payment to {KPAYEE_LOWER}?",
    # no PII
    "what did I spend on takeaway in March",
    "refund {AMOUNT} from {MERCHANT} on {TXDATE}",
    "the tracking number for order {ORDER} is wrong",
    "card ending {LAST4} please freeze it",
    "can you check transaction {TXID}",
    "my balance was {AMOUNT} on {TXDATE}",
    "I set up a standing order of {AMOUNT}",
    "the ATM took {AMOUNT} at 9:30",
    "I've been a customer for 12 years",
    "my last 4 are {LAST4}",
    "pay my credit card bill of {AMOUNT}",
]

# Written after the recognizers were tuned on the pools above; run once, then two misses were
# looked at and fixed, so it is no longer held out (first-run figures: docs/privacy.md).
REPORT_TEMPLATES = [
    # cards
    "hello, I need to report a stolen card, the number was {CARD}",
    "I think {CARD} has been cloned",
    "{CARD} exp {EXP}",
    "ok here: {CARD} expiry {EXP} cvc {CVV}",
    "it expires at the end of {EXP}",
    "the cvc number is {CVV}",
    "my debit card {CARD} doesn't work abroad",
    # bank details
    "my iban: {IBAN}",
    "salary goes into {IBAN}",
    "bank details are sort code {SORT}, account number {ACCT}",
    "sorry the sort code was {SORT}",
    "can you switch my direct debit to account {ACCT}",
    "open a new pot linked to {ACCID}",
    "routing {ROUTING}",
    "I have a checking account {USBANK} at another bank",
    # ids
    "my SSN: {SSN}",
    "need to update my social security number to {SSN}",
    # contact
    "pls email the statement to {EMAIL}",
    "{EMAIL} is my new email",
    "my phone is {PHONE}",
    "my mobile number is {PHONE}, text me",
    "can you call {PHONE} instead",
    "my landline {PHONE}",
    "new mobile {FPHONE}",
    # secrets
    "pin {PIN}",
    "i set the pin as {PIN}",
    "my online password is {PW} is that strong enough",
    "password is {PW}",
    "the sms code was {OTP}",
    "authentication code: {OTP}",
    "i received code {OTP} from you",
    # personal
    "date of birth: {DOB}",
    "i was born {DOB} in Dublin",
    "birthday {DOB}",
    "my address is {ADDR}",
    "can you post it to {ADDR}",
    "I'm now living at {ADDR}",
    "my name is {NAME}",
    "I am {NAME}",
    "please transfer {AMOUNT} to {NAME}",
    "Ms {LAST} from your branch told me to write",
    # known PII
    "{KNAME} speaking",
    "hey it's {KFIRST} again",
    "kind regards {KFIRST}",
    "I didn't get the mail at {KEMAIL}",
    "is {KPHONE} still on my account",
    "my address {KADDR} is correct",
    "from {KACCT} please",
    "send {KPAYEE} the usual",
    "{KPAYEE} sent me money",
    # no PII
    "what did I spend at {MERCHANT} last week",
    "why is there a charge of {AMOUNT} on {TXDATE}",
    "where is my order {ORDER}",
    "card ending {LAST4} was swallowed by the atm",
    "transaction {TXID} is a duplicate",
    "set a budget of {AMOUNT} for groceries",
    "i need a statement for {TXDATE}",
    "how do I change my pin",
    "how many days until my card arrives",
    "can you increase my limit to {AMOUNT}",
    "there are 2 payments of {AMOUNT} on {TXDATE}",
    "my card number ends in {LAST4}",
]

# Written last, after every change to the recognizers, and not tuned on: the reported figures.
BLIND_TEMPLATES = [
    # cards
    "can you tell me if {CARD} is still active",
    "I lost the card {CARD} on the bus",
    "full card details {CARD} {EXP} {CVV} sorry if I shouldn't share",
    "expiry is {EXP} I think",
    "my visa debit {CARD} exp {EXP}",
    "security code {CVV}",
    "a merchant asked for the cvv, I gave them {CVV}",
    # bank details
    "can I get money sent to {IBAN}?",
    "iban = {IBAN}",
    "my sort code {SORT} and my account {ACCT}",
    "account number: {ACCT}",
    "please close {ACCID} and move the balance",
    "bank routing number {ROUTING}",
    "checking acct {USBANK}",
    "direct deposit to account {USBANK} please",
    # ids
    "social security: {SSN}",
    "ssn {SSN}, dob {DOB}",
    # contact
    "send the receipt to {EMAIL} thanks",
    "my e-mail is {EMAIL}",
    "the scam email came from {EMAIL}",
    "call me at {PHONE} between 9 and 5",
    "my new mobile number: {PHONE}",
    "they rang me from {PHONE}",
    "phone number {PHONE}",
    "mobile {FPHONE}",
    # secrets
    "the PIN I chose is {PIN}",
    "is {PIN} a safe pin",
    "my pin code is {PIN}",
    "password {PW}",
    "I use the password {PW} everywhere",
    "they asked for the one time password and I said {OTP}",
    "the verification code is {OTP}",
    "I typed the code {OTP}",
    # personal
    "dob is {DOB}",
    "my date of birth: {DOB}",
    "I was born in {DOB}",
    "my address is {ADDR}, please update it",
    "deliver it to {ADDR}",
    "I live at {ADDR}",
    "my name is {NAME}, I'm a customer",
    "hi I'm {NAME}",
    "send {AMOUNT} to {NAME} now",
    "Mr {LAST} is my accountant",
    # known PII
    "hi, {KNAME}",
    "{KFIRST} again",
    "cheers, {KFIRST_LOWER}",
    "please use {KEMAIL}",
    "please ring me on {KPHONE}",
    "I'm at {KADDR}",
    "balance of {KACCT}?",
    "pay {KPAYEE} {AMOUNT}",
    "{KPAYEE_LOWER} says they didn't get it",
    # no PII
    "how much did I spend on eating out last month",
    "the {AMOUNT} payment on {TXDATE} was a mistake",
    "is order {ORDER} refunded yet",
    "why was my card ending {LAST4} blocked",
    "dispute transaction {TXID}",
    "what's the fee for {AMOUNT}",
    "can I get {AMOUNT} cash back",
    "I'll call you back at 5",
    "my card expires soon, what happens",
    "I got a text asking for my pin, is it you?",
    "{MERCHANT} charged me {AMOUNT} on {TXDATE}",
    "the last four are {LAST4}",
]

FILLER = [
    "Hi there.", "Thanks for your help.", "I have a question about my account.", "It's urgent.",
    "I was abroad last week and something odd happened.", "Can you look into this?",
    "The app keeps logging me out.", "I already tried turning it off and on again.",
    "Sorry for the long message.", "Let me know what you need from me.",
]
MERCHANTS = ("Tesco", "Starbucks", "Amazon", "Uber", "Netflix", "Pret A Manger", "Lidl", "Shell",
             "Spotify", "Deliveroo", "Costa Coffee", "Zara")

# --- value generators ---------------------------------------------------------------------------


class Values:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.fake = {loc: Faker(loc) for loc in LOCALES}
        for i, f in enumerate(self.fake.values()):
            f.seed_instance(seed * 31 + i)

    def faker(self) -> Faker:
        return self.fake[self.rng.choice(LOCALES)]

    def card(self) -> str:
        number = self.fake["en_US"].credit_card_number(self.rng.choice(["visa16", "mastercard", "amex", "discover"]))
        style = self.rng.random()
        if len(number) == 16 and style < 0.4:
            return " ".join(number[i:i + 4] for i in range(0, 16, 4))
        if len(number) == 16 and style < 0.6:
            return "-".join(number[i:i + 4] for i in range(0, 16, 4))
        if len(number) == 15 and style < 0.5:
            return f"{number[:4]} {number[4:10]} {number[10:]}"
        return number

    def iban(self) -> str:
        value = self.faker().iban()
        return " ".join(value[i:i + 4] for i in range(0, len(value), 4)) if self.rng.random() < 0.5 else value

    def ssn(self) -> str:
        value = self.fake["en_US"].ssn()
        return value.replace("-", " ") if self.rng.random() < 0.15 else value

    def email(self) -> str:
        f = self.faker()
        value = self.rng.choice([f.email, f.free_email, f.company_email])()
        return value.upper() if self.rng.random() < 0.05 else value

    def phone(self) -> str:
        r, d = self.rng, lambda n: "".join(str(self.rng.randint(0, 9)) for _ in range(n))
        c = r.choice(PHONE_COUNTRIES)
        if c == "US":
            a = r.choice(["212", "213", "305", "312", "415", "503", "617", "646", "702", "713", "718", "206", "404"])
            e, n = str(r.randint(201, 989)), d(4)
            return r.choice([f"({a}) {e}-{n}", f"{a}-{e}-{n}", f"{a}.{e}.{n}", f"+1 {a} {e} {n}", f"1-{a}-{e}-{n}"])
        if c == "GB":
            if r.random() < 0.6:
                m = "7" + r.choice("123459") + d(8)
                return r.choice([f"0{m[:4]} {m[4:]}", f"+44 {m[:4]} {m[4:]}", f"+44 (0){m[:4]} {m[4:]}", f"0{m}"])
            m = "20" + r.choice("78") + d(7)
            return r.choice([f"020 {m[2:6]} {m[6:]}", f"+44 20 {m[2:6]} {m[6:]}"])
        if c == "DE":
            p = r.choice(["151", "152", "160", "170", "171", "176", "179"])
            s = d(8 if p.startswith("15") else 7)
            return r.choice([f"0{p} {s}", f"+49 {p} {s}", f"0{p}/{s}", f"+49 (0){p} {s}"])
        if c == "FR":
            s = r.choice("67") + d(8)
            pairs = " ".join(s[i:i + 2] for i in range(1, 9, 2))
            return r.choice([f"0{s[0]} {pairs}", f"+33 {s[0]} {pairs}", f"0{s}"])
        if c == "IE":
            p = r.choice(["83", "85", "86", "87", "89"])
            s = d(7)
            return r.choice([f"0{p} {s[:3]} {s[3:]}", f"+353 {p} {s[:3]} {s[3:]}", f"0{p}-{s}"])
        if c == "NL":
            s = d(8)
            return r.choice([f"06-{s}", f"06 {s}", f"+31 6 {s}", f"+31 (0)6 {s[:2]} {s[2:5]} {s[5:]}"])
        s = r.choice("67") + d(8)
        return r.choice([f"{s[:3]} {s[3:6]} {s[6:]}", f"+34 {s[:3]} {s[3:5]} {s[5:7]} {s[7:]}", s])

    def faker_phone(self) -> str:
        return self.faker().phone_number()

    def digits(self, n: int) -> str:
        return str(self.rng.randint(1, 9)) + "".join(str(self.rng.randint(0, 9)) for _ in range(n - 1))

    def acct(self) -> str:
        v = self.digits(8)
        return f"{v[:4]} {v[4:]}" if self.rng.random() < 0.2 else v

    def accid(self) -> str:
        return "ACC-" + "".join(str(self.rng.randint(0, 9)) for _ in range(8))

    def sort(self) -> str:
        v = [f"{self.rng.randint(0, 99):02d}" for _ in range(3)]
        return "-".join(v) if self.rng.random() < 0.8 else " ".join(v)

    def routing(self) -> str:
        return self.fake["en_US"].aba()

    def usbank(self) -> str:
        return self.digits(self.rng.choice([10, 11, 12]))

    def cvv(self) -> str:
        return "".join(str(self.rng.randint(0, 9)) for _ in range(self.rng.choice([3, 3, 3, 4])))

    def exp(self) -> str:
        m, y = self.rng.randint(1, 12), self.rng.randint(25, 32)
        return self.rng.choice([f"{m:02d}/{y}", f"{m}/{y}", f"{m:02d}/20{y}", f"{m:02d}-{y}"])

    def pin(self) -> str:
        return "".join(str(self.rng.randint(0, 9)) for _ in range(self.rng.choice([4, 4, 4, 6])))

    def pw(self) -> str:
        f = self.fake["en_US"]
        kind = self.rng.randrange(3)
        if kind == 0:
            return f.password(length=self.rng.randint(8, 14))
        if kind == 1:
            return f.word() + str(self.rng.randint(1, 999))
        return f"{f.word().capitalize()}{self.rng.choice('!#$%&*')}{self.rng.randint(10, 99)}"

    def otp(self) -> str:
        v = self.digits(self.rng.choice([6, 6, 6, 4, 8]))
        return f"{v[:3]} {v[3:]}" if len(v) == 6 and self.rng.random() < 0.15 else v

    def dob(self) -> str:
        d: date = self.fake["en_US"].date_of_birth(minimum_age=18, maximum_age=90)
        suffix = "th" if 11 <= d.day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(d.day % 10, "th")
        return self.rng.choice([
            d.strftime("%d/%m/%Y"), d.strftime("%m/%d/%Y"), d.strftime("%Y-%m-%d"), d.strftime("%d.%m.%Y"),
            f"{d.day} {d:%B %Y}", f"{d:%B} {d.day}, {d.year}", f"{d.day}{suffix} of {d:%B %Y}", f"{d.day} {d:%b %Y}"])

    def addr(self) -> str:
        f = self.faker()
        street = f.street_address().replace("\n", ", ").strip()
        r = self.rng.random()
        if r < 0.35:
            return street
        if r < 0.7:
            return f"{street}, {f.city()}"
        return f"{street}, {f.city()} {f.postcode()}" if f is not self.fake["en_US"] \
            else f"{street}, {f.city()}, {f.state_abbr()} {f.postcode()}"

    def name(self) -> str:
        f = self.faker()
        return f.first_name() + " " + f.last_name()

    def last(self) -> str:
        return self.faker().last_name()

    def amount(self) -> str:
        v = self.rng.randint(1, 300000) / 100
        return self.rng.choice([f"£{v:,.2f}", f"${v:,.2f}", f"€{v:.2f}", f"{v:.2f} EUR", f"{int(v)} pounds"])

    def txdate(self) -> str:
        d = date(2024, self.rng.randint(1, 12), self.rng.randint(1, 28))
        return self.rng.choice([f"{d.day} {d:%B}", f"{d:%d/%m}", f"{d:%A}", f"{d:%d %b}", f"{d:%Y-%m-%d}"])

    def order(self) -> str:
        return self.rng.choice([self.digits(8), self.digits(10), "#" + self.digits(6), "AB-" + self.digits(7)])

    def txid(self) -> str:
        return self.rng.choice(["TX-" + self.digits(8), "txn_" + self.digits(12),
                                self.digits(4) + "-" + self.digits(4)])


POOLS = {"dev": DEV_TEMPLATES, "test": TEST_TEMPLATES, "holdout": HOLDOUT_TEMPLATES, "final": FINAL_TEMPLATES,
         "report": REPORT_TEMPLATES, "blind": BLIND_TEMPLATES}
SEEDS = {"dev": 7, "test": 20241, "holdout": 90210, "final": 4242, "report": 31337, "blind": 8675309}

# placeholder -> (label or None, generator name, known)
PLACEHOLDERS: dict[str, tuple[str | None, str, bool]] = {
    "CARD": ("CREDIT_CARD", "card", False), "IBAN": ("IBAN_CODE", "iban", False),
    "SSN": ("US_SSN", "ssn", False), "EMAIL": ("EMAIL_ADDRESS", "email", False),
    "PHONE": ("PHONE_NUMBER", "phone", False), "FPHONE": ("PHONE_NUMBER", "faker_phone", False),
    "USBANK": ("US_BANK_NUMBER", "usbank", False), "ACCT": ("ACCOUNT_NUMBER", "acct", False),
    "ACCID": ("ACCOUNT_NUMBER", "accid", False), "SORT": ("SORT_CODE", "sort", False),
    "ROUTING": ("ABA_ROUTING_NUMBER", "routing", False), "CVV": ("CARD_CVV", "cvv", False),
    "EXP": ("CARD_EXPIRY", "exp", False), "PIN": ("PIN", "pin", False), "PW": ("PASSWORD", "pw", False),
    "OTP": ("OTP", "otp", False), "DOB": ("DATE_OF_BIRTH", "dob", False),
    "ADDR": ("STREET_ADDRESS", "addr", False), "NAME": ("PERSON", "name", False),
    "LAST": ("PERSON", "last", False),
    "AMOUNT": (None, "amount", False), "TXDATE": (None, "txdate", False), "ORDER": (None, "order", False),
    "TXID": (None, "txid", False), "LAST4": (None, "last4", False), "MERCHANT": (None, "merchant", False),
}
KNOWN = {  # placeholder -> (label, profile field)
    "KNAME": ("PERSON", "name"), "KFIRST": ("PERSON", "first"), "KFIRST_LOWER": ("PERSON", "first_lower"),
    "KEMAIL": ("EMAIL_ADDRESS", "email"), "KPHONE": ("PHONE_NUMBER", "phone"),
    "KADDR": ("STREET_ADDRESS", "address"), "KACCT": ("ACCOUNT_NUMBER", "account"),
    "KPAYEE": ("PERSON", "payee"), "KPAYEE_LOWER": ("PERSON", "payee_lower"),
}
_FIELD = re.compile(r"\{([A-Z0-9_]+)\}")


def _profile(v: Values) -> tuple[KnownPII, dict[str, str]]:
    f = v.faker()
    first, last = f.first_name(), f.last_name()
    payee = v.name()
    phone = v.phone()
    account = v.digits(8)
    address = v.addr()
    email = f"{first}.{last}@example.com".lower().replace(" ", "")
    known = KnownPII(full_name=f"{first} {last}", email=email, phone=phone, address=address,
                     account_numbers=(account,), payee_names=(payee,))
    values = {"name": f"{first} {last}", "first": first, "first_lower": first.lower(), "email": email,
              "phone": _reformat_phone(v, phone), "address": address, "account": account, "payee": payee,
              "payee_lower": payee.lower()}
    return known, values


def _reformat_phone(v: Values, phone: str) -> str:
    """The customer types their number differently from the way the bank has it on file."""
    digits = re.sub(r"\D", "", phone)
    if phone.startswith("+") and v.rng.random() < 0.5:
        return " ".join(digits[i:i + 3] for i in range(0, len(digits), 3)).join(["+", ""])
    return phone if v.rng.random() < 0.5 else phone.replace(" ", "")


def render(template: str, v: Values, profile: dict[str, str]) -> tuple[str, list[Span]]:
    out: list[str] = []
    spans: list[Span] = []
    pos = 0
    length = 0
    for m in _FIELD.finditer(template):
        literal = template[pos:m.start()]
        out.append(literal)
        length += len(literal)
        key = m.group(1)
        if key in KNOWN:
            label, fld = KNOWN[key]
            value, known, source = profile[fld], True, "known_" + fld
        else:
            label, gen, known = PLACEHOLDERS[key]
            source = gen
            if gen == "merchant":
                value = v.rng.choice(MERCHANTS)
            elif gen == "last4":
                value = v.digits(4)
            else:
                value = getattr(v, gen)()
        if label is not None:
            spans.append(Span(label, length, length + len(value), known, source))
        out.append(value)
        length += len(value)
        pos = m.end()
    out.append(template[pos:])
    return "".join(out), spans


def generate(split: str, n: int = 400, seed: int | None = None) -> list[Example]:
    """`n` single-line examples (each template used in turn) plus one long message per 10."""
    templates = POOLS[split]
    v = Values(seed if seed is not None else SEEDS[split])
    examples: list[Example] = []
    known, profile = _profile(v)
    for i in range(n):
        if i % 8 == 0:  # a new conversation, a new customer
            known, profile = _profile(v)
        template = templates[i % len(templates)] if i < len(templates) else v.rng.choice(templates)
        text, spans = render(template, v, profile)
        if v.rng.random() < 0.1:
            text = text[:1].upper() + text[1:] + v.rng.choice([".", "!", "?", " thanks", ""])
        examples.append(Example(text, spans, known, split, template))
    for _ in range(n // 10):
        examples.append(_long_message(v, templates, split))
    return examples


def _long_message(v: Values, templates: list[str], split: str) -> Example:
    """A paragraph of filler and PII sentences, up to about 1 KB."""
    known, profile = _profile(v)
    text, spans = "", []
    while len(text) < v.rng.randint(300, 900):
        if v.rng.random() < 0.5:
            piece, piece_spans = v.rng.choice(FILLER), []
        else:
            piece, piece_spans = render(v.rng.choice(templates), v, profile)
            piece = piece[:1].upper() + piece[1:] + "."
        offset = len(text) + (1 if text else 0)
        text = f"{text} {piece}" if text else piece
        spans += [Span(s.type, s.start + offset, s.end + offset, s.known, s.source) for s in piece_spans]
    return Example(text[:1024], [s for s in spans if s.end <= 1024], known, split, "long")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--split", choices=sorted(POOLS), default="dev")
    p.add_argument("-n", type=int, default=10)
    args = p.parse_args()
    for ex in generate(args.split, n=max(args.n, 1))[: args.n]:
        print(ex.text)
        for s in ex.spans:
            print(f"    {s.type:<18} {ex.text[s.start:s.end]!r}{' (known)' if s.known else ''}")


if __name__ == "__main__":
    main()
