"""Spending categories, merchants, payees, accounts and cards named in a customer's message.

- `find_category(text)`: one of the contract category ids (coffee, groceries, ...) from the words
  customers use ("eating out" -> restaurants, "lattes" -> coffee, "bills" -> utilities).
  The longest matching phrase wins, so "food shopping" is groceries and "ATM fees" is fees, not cash.
- `find_merchant(text, merchants)`: the customer's own merchant name the text refers to ("starbucks",
  "pret", "tfl"), by exact words, a small alias table, acronyms and a careful difflib fuzzy match.
- `find_recipient(text, payees)`: the payees a spoken name may mean (several: the bot disambiguates).
- `find_account(text)` / `find_accounts(text)`: checking, savings or credit.
- `find_card_last4(text)`: "card ending 4242" -> "4242".

Choices: gym and fitness are health; bars, pubs and nights out are entertainment; mortgage counts as
rent (housing); taxis, fuel and parking are transport, flights and hotels travel; "bills" are utilities;
merchant names (Uber, Netflix, Amazon) are never categories: they go through find_merchant.
"""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher
from itertools import pairwise

__all__ = ["CATEGORIES", "CATEGORY_SYNONYMS", "find_account", "find_accounts", "find_card_last4", "find_category",
           "find_merchant", "find_recipient", "merchant_is_certain"]

CATEGORIES: tuple[str, ...] = ("coffee", "groceries", "restaurants", "transport", "rent", "subscriptions",
                               "shopping", "utilities", "entertainment", "travel", "health", "cash", "fees",
                               "income", "transfers")

# Phrases per category, lower case; a trailing "s"/"es" plural is matched automatically.
CATEGORY_SYNONYMS: dict[str, tuple[str, ...]] = {
    "coffee": ("coffee", "coffee shop", "caffeine", "coffee place", "cafe", "café", "latte", "cappuccino", "espresso",
               "flat white", "americano", "macchiato", "mocha", "barista"),
    "groceries": ("grocery", "groceries", "grocery shopping", "food shopping", "food shop", "supermarket",
                  "supermarket shopping", "weekly shop", "food store", "grocer", "greengrocer", "butcher",
                  "bakery", "bakeries"),
    "restaurants": ("restaurant", "eating out", "dining", "dining out", "meal out", "meals out", "takeaway",
                    "take-away", "takeout", "food delivery", "delivery food", "fast food", "lunch", "lunches",
                    "dinner", "dinners out", "brunch", "breakfast out", "food out"),
    "transport": ("transport", "transportation", "public transport", "public transit", "transit", "taxi",
                  "taxis", "cab", "ride share", "rideshare", "ride-hailing", "train", "train ticket", "bus",
                  "bus fare", "tram", "metro", "tube", "subway", "commute", "commuting", "fuel", "petrol", "diesel",
                  "gas station", "parking", "toll", "travel card", "travelcard", "bike hire", "scooter",
                  "car sharing", "getting around"),
    "rent": ("rent", "rental payment", "landlord", "housing", "mortgage", "mortgage payment"),
    "subscriptions": ("subscription", "streaming", "streaming service", "music streaming", "app subscription",
                      "recurring subscription", "membership fee"),
    "shopping": ("shopping", "online shopping", "clothes", "clothing", "shoes", "fashion", "retail",
                 "electronics", "gadget", "homeware", "furniture", "department store", "books", "gifts", "presents",
                 "beauty", "cosmetics"),
    "utilities": ("utility", "utilities", "utility bill", "bill", "bills", "household bills", "electricity",
                  "electric bill", "power bill", "gas bill", "water bill", "energy", "energy bill", "heating",
                  "internet", "broadband", "wifi", "phone bill", "mobile bill", "phone contract", "council tax"),
    "entertainment": ("entertainment", "cinema", "movie", "film", "concert", "gig", "theatre", "theater",
                      "game", "gaming", "video game", "going out", "night out", "nights out", "bar", "pub", "drinks",
                      "club", "nightclub", "festival", "museum", "hobby", "hobbies", "leisure"),
    "travel": ("travel", "travelling", "traveling", "trip", "holiday", "vacation", "flight", "airline",
               "airfare", "plane ticket", "hotel", "hostel", "accommodation", "car rental", "rental car",
               "rent a car", "car hire", "airport"),
    "health": ("health", "healthcare", "health care", "pharmacy", "pharmacies", "chemist", "drugstore",
               "doctor", "gp", "dentist", "dental", "medicine", "medication", "medical", "prescription", "optician",
               "glasses", "hospital", "therapy", "therapist", "physio", "gym", "gym membership", "fitness",
               "sport", "sports", "yoga", "wellness"),
    "cash": ("cash", "cash withdrawal", "atm", "atm withdrawal", "cashpoint", "cash machine", "withdrawal",
             "withdrawn cash", "taking out cash"),
    "fees": ("fee", "fees", "bank fee", "bank fees", "charge", "charges", "bank charge", "service charge",
             "atm fee", "transfer fee", "exchange fee", "fx fee", "foreign transaction fee", "card fee",
             "interest charge", "penalty", "penalties", "overdraft fee", "commission"),
    "income": ("income", "salary", "salaries", "wage", "wages", "pay check", "paycheck", "paycheque", "payroll",
               "earnings", "money in", "incoming payment", "pension", "benefits", "dividend"),
    "transfers": ("transfer", "bank transfer", "money transfer", "transfers out", "money sent", "sent money",
                  "payments to friends", "p2p", "standing order"),
}


def _norm(text: str) -> str:
    """Lower case, accents kept for matching but "&" -> "and", apostrophes dropped, punctuation -> space."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("&", " and ").replace("'", "").replace("’", "")
    return " " + re.sub(r"[^\w]+", " ", text).strip() + " "


def _plural_pattern(phrase: str) -> str:
    words = [re.escape(w) for w in _norm(phrase).split()]
    last = words[-1]
    if last.endswith("y") and len(last) > 2 and last[-2] not in "aeiou":
        last = last[:-1] + "(?:y|ies)"
    else:
        last += "(?:s|es)?"
    return r"\s".join([*words[:-1], last])


_CATEGORY_PATTERNS: list[tuple[re.Pattern[str], str, int]] = sorted(
    ((re.compile(rf"(?<=\s){_plural_pattern(p)}(?=\s)"), category, len(p))
     for category, phrases in CATEGORY_SYNONYMS.items() for p in {*phrases, category}),
    key=lambda t: -t[2],
)
# Words that look like a category word but are not a spending category in context.
_CATEGORY_NOT = re.compile(r"\scharge\s+(?:my|it|the|me|them)\s")


# One-word category phrases that a misspelling may mean ("groceriess", "transprot", "subscritions").
_FUZZY_CATEGORY_WORDS = {p: c for c, phrases in CATEGORY_SYNONYMS.items() for p in (*phrases, c)
                         if " " not in p and len(p) >= 6}
_CATEGORY_TYPO_RATIO = 0.86


_TYPO_TOKENS_MAX = 40
# Fuzzy merchant matching looks at this many distinct words and word pairs at most (bounded work).
_FUZZY_GRAMS_MAX = 60
_FUZZY_GRAM_MAX_CHARS = 40  # distinct words looked at: a bound on the work for any message


def _category_by_spelling(norm: str) -> str | None:
    """A category named with a typo: a word of 6+ letters within a small edit of a category word, or of
    5 letters with one letter of a 6-letter word dropped ("cofee")."""
    tokens = [t for t in dict.fromkeys(norm.split()) if 5 <= len(t) <= 20 and t not in _COMMON_WORDS]
    for token in tokens[:_TYPO_TOKENS_MAX]:
        for phrase, category in _FUZZY_CATEGORY_WORDS.items():
            if len(token) == 5 and not (len(phrase) == 6 and _one_letter_dropped(token, phrase)):
                continue
            if abs(len(phrase) - len(token)) <= 2 and \
                    SequenceMatcher(None, token, phrase).ratio() >= _CATEGORY_TYPO_RATIO:
                return category
    return None


def _one_letter_dropped(short: str, word: str) -> bool:
    """`short` is `word` with one letter left out ("cofee", "coffee")."""
    return len(word) == len(short) + 1 and any(word[:i] + word[i + 1:] == short for i in range(len(word)))


def find_category(text: str, *, typos: bool = True) -> str | None:
    """The contract category id the text is about, or None ("how much on lattes" -> "coffee").

    With `typos`, a misspelt category word counts too ("resturants" -> restaurants)."""
    if not text:
        return None
    norm = _norm(text)
    best: tuple[int, int, str] | None = None  # (-length, position, category)
    for pattern, category, _ in _CATEGORY_PATTERNS:
        for m in pattern.finditer(norm):
            if any(m.start() >= x.start() and m.end() <= x.end() for x in _CATEGORY_NOT.finditer(norm)):
                continue
            key = (-(m.end() - m.start()), m.start(), category)
            if best is None or key < best:
                best = key
    if best is None and typos:
        return _category_by_spelling(norm)
    return best[2] if best else None


# ---------------------------------------------------------------------------------------------------
# merchants

# Nicknames and abbreviations customers use -> words of the merchant's name (matched against the
# caller's merchant list, so an alias only ever returns a merchant the customer really has).
MERCHANT_ALIASES: dict[str, str] = {
    "tfl": "transport for london", "pret": "pret a manger", "maccies": "mcdonalds", "maccas": "mcdonalds",
    "mickey ds": "mcdonalds", "mcds": "mcdonalds", "mcd": "mcdonalds", "sbux": "starbucks", "amzn": "amazon",
    "m and s": "marks and spencer", "marks and sparks": "marks and spencer",
    "sainsburys": "sainsbury", "sainsbury": "sainsbury", "tescos": "tesco", "kfc": "kentucky fried chicken",
    "bk": "burger king", "h and m": "h and m", "cex": "cex", "o2": "o2", "bt": "bt",
    "ikea": "ikea", "costa": "costa coffee", "nero": "caffe nero", "spotify premium": "spotify",
    "apple music": "apple", "prime": "amazon prime", "amazon prime": "amazon prime", "deutsche bahn": "deutsche bahn",
    "sncf": "sncf", "ryan air": "ryanair", "easy jet": "easyjet", "airbnb": "airbnb", "deliveroo": "deliveroo",
    "just eat": "just eat", "uber eats": "uber eats", "ubereats": "uber eats", "lidl": "lidl", "aldi": "aldi",
    "dublin bus": "dublin bus", "irish rail": "irish rail", "luas": "luas", "leap card": "transport for ireland",
    "tfi": "transport for ireland",
}

# Everyday words that must never fuzzy-match a merchant ("spent" is not "Spar", "card" not "Cardo").
_COMMON_TEXT = """
a about above account accounts after again all am amount an and any are as at back bank be been before being
bill bills both bought but buy by can card cards cash charge charged charges check cheque coffee cost costs costing
could day days
did do does doing done each euro euros every expense expenses few food for from get give go going got had has
have how i if in into is it its just last less like look lot made make many me money month months more most
much my need new no not now of off on once one only or other our out over paid pay payment payments per place
please purchase purchases recent recently rent right same saw say see send sent shop shopping should show
since so some spend spending spent still store such take than thank thanks that the their them then there
these they thing this those through time times to today too total transaction transactions transfer transfers
up us use used very want was we week weeks went were what when where which while who why will with would year
years yes yesterday you your
"""
_COMMON_WORDS = frozenset(_COMMON_TEXT.split())


def _merchant_forms(name: str) -> tuple[str, list[str], str]:
    norm = _norm(name).strip()
    words = norm.split()
    initials = "".join(w[0] for w in words) if len(words) >= 2 else ""
    return norm, words, initials


def find_merchant(text: str, merchants: list[str], *, fuzzy: bool = True) -> str | None:
    """The caller's merchant (exact spelling from `merchants`) the text refers to, or None.

    In order: the merchant's full name in the text; an alias ("tfl", "pret", "maccies"); its first
    distinctive word ("tesco" for "Tesco Express"); its initials ("tfl" for "Transport for London");
    then, unless `fuzzy` is False, a difflib match of a text word or two against names and first words
    (ratio >= 0.85, words of at least 4 letters that are not common English words), so "starbuck" finds
    "Starbucks": a guess, which the bot confirms before it answers with a figure.
    """
    if not text or not merchants:
        return None
    norm_text = _norm(text)
    tokens = norm_text.split()
    forms = [(m, *_merchant_forms(m)) for m in merchants if m and m.strip()]

    # 1. the full name, longest first (so "Uber Eats" beats "Uber"), also as a plural ("ubers")
    for merchant, norm, _words, _initials in sorted(forms, key=lambda f: -len(f[1])):
        if any(f" {form} " in norm_text for form in (norm, norm.replace(" ", ""), f"{norm}s")):
            return merchant

    # 2. aliases
    for alias in sorted(MERCHANT_ALIASES, key=len, reverse=True):
        if f" {alias} " in norm_text:
            target = MERCHANT_ALIASES[alias]
            for merchant, norm, _words, _initials in forms:
                squashed = norm.replace(" ", "")
                if squashed.startswith(target.replace(" ", "")) or f" {target} " in f" {norm} ":
                    return merchant

    # 3. a distinctive first word, and 4. initials
    for merchant, _norm_name, words, initials in forms:
        first = words[0] if words else ""
        if len(words) > 1 and len(first) >= 4 and first not in _COMMON_WORDS and first in tokens:
            return merchant
        if len(initials) >= 3 and initials in tokens:
            return merchant

    if not fuzzy:
        return None
    # 5. fuzzy, on candidate words of at least 4 letters that are not everyday words
    grams = [t for t in tokens if len(t) >= 4 and t not in _COMMON_WORDS]
    grams += [f"{a} {b}" for a, b in pairwise(tokens)
              if a not in _COMMON_WORDS and b not in _COMMON_WORDS and len(a + b) >= 5]
    grams = list(dict.fromkeys(g for g in grams if len(g) <= _FUZZY_GRAM_MAX_CHARS))[:_FUZZY_GRAMS_MAX]
    best: tuple[float, str] | None = None
    for merchant, norm, words, _initials in forms:
        targets = {norm, norm.replace(" ", "")}
        if words and len(words[0]) >= 4 and words[0] not in _COMMON_WORDS:
            targets.add(words[0])
        for gram in grams:
            for target in targets:
                ratio = SequenceMatcher(None, gram, target).ratio()
                if ratio >= 0.85 and (best is None or ratio > best[0]):
                    best = (ratio, merchant)
    return best[1] if best else None


# Merchant names that are also everyday words: "spent on shell suits", "apples", "new boots".
_WORDLIKE_MERCHANTS = {"shell", "apple", "boots", "next", "target", "gap", "three", "orange", "subway", "spar",
                       "post", "oasis", "jet", "game", "iceland", "sky", "eat", "office", "river island"}
_AT_MERCHANT = re.compile(r"\b(?:at|from|with|@)\s+(?:the\s+)?$", re.I)
_DESCRIBED_AS_SHOP = re.compile(r"(?<!\s)\s+(?:the\s+)?(?:chemists?|pharmacy|shop|store|stores|supermarket|garage|"
                                r"petrol\s+station|station|app|website|online)\b", re.I)
_IDIOM_AFTER = re.compile(r"(?<!\s)\s*(?:out|outs|suits?|fish|company|companies|shock|of\s+(?:its|his|her|my|a))\b",
                          re.I)


# First words of merchant names that are ordinary things to buy ("pizza" in "Pizza Express", "burger" in
# "Burger King"): the word alone is the thing, not the shop, unless it is written as the shop's name.
_ORDINARY_FIRST_WORDS = frozenset(
    {w for phrases in CATEGORY_SYNONYMS.values() for p in phrases for w in p.split()} |
    {"pizza", "burger", "burgers", "chicken", "fried", "noodle", "noodles", "sushi", "taco", "tacos", "bagel",
     "donut", "doughnut", "sandwich", "pie", "kebab", "curry", "wok", "bread", "cake", "coffee", "tea", "juice",
     "pasta", "salad", "steak", "fish", "chips", "wine", "beer", "flowers", "books", "shoes", "sports", "pets",
     "toys", "phone", "car", "fitness", "express", "super", "city", "green", "blue", "red", "golden"})


def merchant_is_certain(text: str, merchant: str) -> bool:
    """Whether an exactly matched merchant is meant as the merchant: a one-word name that is also an
    ordinary word ("at shell"), or a name found by a first word that is an ordinary thing to buy ("pizza"
    for "Pizza Express"), counts only when written with a capital or after "at"/"from"/"with"."""
    name = _norm(merchant).strip()
    if " " in name:
        first = name.split()[0]
        said = _norm(text)
        if f" {name} " in said or first not in _ORDINARY_FIRST_WORDS or f" {first} " not in said:
            return True  # the whole name, a distinctive word, or an alias or initials ("tfl")
        name = first  # only the first word was said: is it said as the shop?
    elif name not in _WORDLIKE_MERCHANTS:
        return True
    for m in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.IGNORECASE):
        if _IDIOM_AFTER.match(text, m.end()):
            continue  # "shell out", "a shell of its former self"
        if _DESCRIBED_AS_SHOP.match(text, m.end()):
            return True  # "boots the chemist", "shell garage"
        capitalised = m.group()[:1].isupper() and text[:m.start()].strip()
        if capitalised or _AT_MERCHANT.search(text[max(0, m.start() - 12):m.start()]):
            return True
    return False


# ---------------------------------------------------------------------------------------------------
# payees

# First names that are also everyday words: matched only when written with a capital letter, not as
# the message's first word ("I will send" is not "Will Smith", "May I" is not "May Chen").
_WORDLIKE_NAMES = {"will", "may", "mark", "bill", "rose", "grace", "hope", "art", "sue", "pat", "jack", "frank",
                   "june", "april", "summer", "dawn", "faith", "joy", "rob", "sunny", "max", "chase", "drew",
                   "guy", "gene", "ray", "don", "ken", "nick", "carol", "penny", "holly", "ivy", "iris", "lily",
                   "amber", "ruby", "crystal", "page", "harry", "brook", "dean", "miles", "reed", "rich", "sandy",
                   "stone", "wood", "young", "white", "black", "brown", "green", "price", "bond", "cash", "card",
                   "bank", "long", "west", "north", "king", "hall", "ward", "bell", "rice", "mum", "dad"}


_NOT_NAMES = (_COMMON_WORDS - _WORDLIKE_NAMES) | {"ltd", "limited", "plc", "gmbh", "inc", "llc", "co", "mr", "mrs",
                                                  "ms", "dr"}


def _name_in_text(token: str, text: str, norm_text: str) -> bool:
    if f" {token} " not in norm_text:
        return False
    if token not in _WORDLIKE_NAMES:
        return True
    for m in re.finditer(rf"(?<![\w'’]){re.escape(token)}(?![\w])", text, re.IGNORECASE):
        word = m.group()
        if word[:1].isupper() and text[: m.start()].strip() and not re.search(r"[.!?]\s*$", text[: m.start()]):
            return True
    return False


def find_recipient(text: str, payees: list[str]) -> list[str]:
    """The payees (exact spelling from `payees`) the text may mean; several when a first name is shared.

    A full name in the text wins over partial matches ("Mary Martin" -> only her); otherwise any payee
    whose first or last name appears ("Mary" -> every Mary); failing that, close spellings (ratio >= 0.85,
    names of four letters or more: "Marry" -> Mary). Empty list when nobody matches.
    """
    if not text or not payees:
        return []
    norm_text = _norm(text)
    full: list[str] = []
    partial: list[str] = []
    for payee in payees:
        norm = _norm(payee).strip()
        if not norm:
            continue
        if f" {norm} " in norm_text:
            full.append(payee)
        elif any(len(t) >= 2 and t not in _NOT_NAMES and _name_in_text(t, text, norm_text) for t in norm.split()):
            partial.append(payee)
    if full:
        return list(dict.fromkeys(full))
    if partial:
        return list(dict.fromkeys(partial))
    tokens = [t for t in norm_text.split() if len(t) >= 4 and t not in _COMMON_WORDS]
    fuzzy = [payee for payee in payees
             if any(len(n) >= 4 and n not in _WORDLIKE_NAMES and SequenceMatcher(None, t, n).ratio() >= 0.85
                    for n in _norm(payee).split() for t in tokens)]
    return list(dict.fromkeys(fuzzy))


# ---------------------------------------------------------------------------------------------------
# accounts and cards

_ACCOUNT_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bcredit[\s-]*card\s+account\b|\bcredit\s+(?:account|line)\b|\bcredit[\s-]*card\b", re.I),
     "credit"),
    (re.compile(r"\b(?<!in\s)credit\b(?!\s+(?:score|rating|check|history|transfer))", re.I), "credit"),
    (re.compile(r"\bsavings?(?:\s+(?:account|pot|pots|jar|vault|space))?\b|\b(?:rainy[\s-]day|saving)\s+pot\b|"
                r"\bdeposit\s+account\b", re.I), "savings"),
    (re.compile(r"\b(?:checking|chequing|current|main|everyday|day[\s-]to[\s-]day|personal|debit|spending)\s+"
                r"account\b|\bchecking\b|\bchequing\b", re.I), "checking"),
]


def find_accounts(text: str) -> list[str]:
    """Every account type the text names, in the order mentioned ("from checking to savings")."""
    if not text:
        return []
    hits: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []
    for pattern, kind in _ACCOUNT_PATTERNS:
        for m in pattern.finditer(text):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            taken.append((m.start(), m.end()))
            hits.append((m.start(), kind))
    return list(dict.fromkeys(kind for _, kind in sorted(hits)))


def find_account(text: str) -> str | None:
    """checking, savings or credit: the first account type the text names, or None."""
    found = find_accounts(text)
    return found[0] if found else None


# No two quantifiers here compete for the same spaces (each optional word brings its own leading space),
# so a long run of spaces costs linear time: the earlier forms were cubic (3.7 s at 800 spaces).
_CARD_PATTERNS = [
    re.compile(r"\bend(?:s|ing|ed)?(?=\s)(?:\s+(?:in|with|on)\b)?(?:\s+digits\b)?[*x•.\s]*(\d{4})(?!\s?\d)", re.I),
    re.compile(r"\blast\s+(?:four|4)(?:\s+digits)?(?:\s+(?:are|is|of|being))?\s*(?:[:\-]\s*)?(\d{4})(?!\s?\d)", re.I),
    re.compile(r"\bcard(?=[\s#])(?:\s+number\b|\s+no\b\.?|\s*#)?(?:\s+ending\b)?[*x•.\s]*(\d{4})(?!\s?\d)", re.I),
    re.compile(r"(?:(?<![*•])[*•]{2,}|\bx{2,}|\bx)\s*(\d{4})(?!\s?\d)", re.I),
    re.compile(r"\bthe\s+(\d{4})\s+(?:card|one)\b", re.I),
]


def find_card_last4(text: str) -> str | None:
    """The last four digits of a card the text names ("card ending 4242", "the one ending in 1234")."""
    if not text:
        return None
    hits = [(m.start(), m.group(1)) for p in _CARD_PATTERNS for m in p.finditer(text)]
    return min(hits)[1] if hits else None
