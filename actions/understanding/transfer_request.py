"""Which of the customer's accounts a transfer request takes money from and which it pays into.

`account_roles(text, accounts)` finds every mention of one of the customer's own accounts (by type
word, "checking", "savings", "current account", by a word of the account's own name, "rainy-day pot",
"everyday", or by a close misspelling, "savngs") and gives each a role from the sentence's structure,
never from which account word comes first:

- source: after "from", "out of", "off", "using", "withdraw ... from" ("take 25 out of my savings");
- destination: after "to", "into", "in", "onto", "towards", "top up", "fund", "add ... to"
  ("top up my savings", "put 20 in the rainy-day pot", "to savings from checking");
- an unmarked mention directly followed by a marked destination is the source ("savings to checking").

A mention with no marker keeps role None; the caller asks. Everything here is a single left-to-right
scan over the tokens (no backtracking regex), so the work is linear in the message's length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from typing import Any, Literal

from actions.understanding.amounts import parse_amount
from actions.understanding.categories import find_recipient

__all__ = ["AccountMention", "Role", "TransferDraft", "Turn", "account_roles", "apply_turn",
           "is_affirmative_text", "is_negative_text", "looks_like_transfer"]

Role = Literal["source", "destination"]

# Words that name an account type (singular forms; a trailing "s" is tolerated by the fuzzy match).
_TYPE_WORDS: dict[str, str] = {
    "checking": "checking", "chequing": "checking", "current": "checking", "everyday": "checking",
    "main": "checking", "debit": "checking", "daily": "checking",
    "savings": "savings", "saving": "savings", "rainy": "savings", "rainyday": "savings", "pot": "savings",
    "nest": "savings", "reserve": "savings", "reserves": "savings", "stash": "savings",
    "credit": "credit",
    # shorthand typed on phones ("xfer 65 chk to sav")
    "chk": "checking", "chq": "checking", "cheq": "checking", "chkg": "checking", "chking": "checking",
    "sav": "savings", "savs": "savings", "svgs": "savings", "svg": "savings",
}
# Only these may be matched by spelling similarity; short or everyday words must match exactly.
_FUZZY_WORDS = ("checking", "chequing", "savings", "everyday")
# Words close in spelling to an account word that are something else.
_NOT_ACCOUNT_WORDS = {"currency", "currencies", "currently", "currents", "checkin", "checkins", "shaving", "savings?"}
# Misspellings that are also words ("check in"): an account only right after a role word ("to checkin").
_MARKED_ONLY = {"checkin": "checking"}
# Account words that name an account only when "account" follows ("my current account", not "current balance").
_NEEDS_ACCOUNT_WORD = {"main", "daily", "debit", "current"}
_ACCOUNT_NOUNS = {"account", "acc", "acct", "acount", "accout", "one", "a/c"}
_FUZZY_RATIO = 0.8
# Words that may stand between a marker and the account word ("to my rainy day savings account").
_FILLER = {"my", "the", "our", "your", "a", "an", "me", "it", "that", "this", "them", "over", "back", "across",
           "account", "acc", "acct", "acount", "accout", "accounts", "day", "fund", "funds", "pot", "jar", "space",
           "money", "cash",
           "some", "euro", "euros", "eur", "bucks", "quid", "and", "please", "just", "straight", "all", "of"}
_NUMBERISH = re.compile(r"[€$£]?\d[\d.,]*(?:k|eur|€)?")
_SOURCE_MARKERS = {"from", "frm", "fom", "fro", "off", "outta", "using", "via", "withdraw", "debit"}
_DEST_MARKERS = {"to", "into", "in", "onto", "towards", "toward", "fund", "2", "->", "→", "=>"}
_TWO_WORD_SOURCE = {("out", "of"), ("away", "from"), ("dip", "into"), ("dipping", "into"), ("raid", "my")}
_TWO_WORD_DEST = {("top", "up"), ("topup", ""), ("pay", "into"), ("add", "to"), ("over", "to")}
_TOKEN = re.compile(r"->|=>|→|[\w€$£.,'-]+")


@dataclass(frozen=True)
class AccountMention:
    """One account named in the text: where, which of the customer's accounts, and its role."""

    position: int
    account_id: str
    role: Role | None


def _tokens(text: str) -> list[str]:
    return [t.strip(".,'").lower() for t in _TOKEN.findall(text)]


def _account_words(account: dict[str, Any]) -> set[str]:
    """Distinctive words of an account's own name ("Rainy-day savings" -> rainy, rainyday, savings)."""
    name = str(account.get("name") or "").lower()
    words = set(re.findall(r"[a-z]+", name)) | {name.replace("-", "").replace(" ", "")}
    return {w for w in words if len(w) >= 4 and w not in _FILLER and w not in ("account",)}


def _type_of_word(word: str) -> str | None:
    if word in _TYPE_WORDS:
        return _TYPE_WORDS[word]
    if len(word) >= 5 and word not in _NOT_ACCOUNT_WORDS:
        for target in _FUZZY_WORDS:
            if SequenceMatcher(None, word, target).ratio() >= _FUZZY_RATIO:
                return _TYPE_WORDS[target]
    return None


def _mentions(tokens: list[str], accounts: list[dict[str, Any]]) -> list[tuple[int, int, str]]:
    """(first token, last token, account id) for each account named; adjacent words of one name merge."""
    by_type: dict[str, list[str]] = {}
    for a in accounts:
        by_type.setdefault(str(a.get("type")), []).append(str(a["id"]))
    own_words = {w: str(a["id"]) for a in accounts for w in _account_words(a)}
    found: list[tuple[int, int, str]] = []
    for i, token in enumerate(tokens):
        word = token.replace("-", "")
        account_id = own_words.get(word)
        if account_id is None and "-" in token:  # "rainy-day" -> "rainy"
            account_id = own_words.get(token.split("-")[0])
        if account_id is None:
            kind = _type_of_word(word) or (_type_of_word(token.split("-")[0]) if "-" in token else None)
            if kind is None and word in _MARKED_ONLY and _marker_before(tokens, i, 0) is not None:
                kind = _MARKED_ONLY[word]
            ids = by_type.get(kind or "", [])
            if word in _NEEDS_ACCOUNT_WORD and (i + 1 >= len(tokens) or tokens[i + 1] not in _ACCOUNT_NOUNS) \
                    and _marker_before(tokens, i, 0) is None:
                continue  # "main" or "current" alone is not an account ("my main problem", "current balance")
            if kind == "savings" and word == "pot" and i > 0 and tokens[i - 1] in ("rainy", "rainyday", "savings"):
                continue  # part of the previous word's name
            if kind == "credit" and i + 1 < len(tokens) and tokens[i + 1] in ("card", "score", "rating"):
                continue
            account_id = ids[0] if len(ids) == 1 else None
        if account_id is None:
            continue
        if found and found[-1][2] == account_id and found[-1][1] >= i - 2:
            found[-1] = (found[-1][0], i, account_id)  # "rainy day savings", "savings pot"
        else:
            found.append((i, i, account_id))
    return found


def _marker_before(tokens: list[str], start: int, stop: int) -> Role | None:
    """The role word nearest before tokens[start], looking back over filler words only, not past `stop`."""
    i = start - 1
    while i >= stop:
        word = tokens[i]
        if i >= 1 and (tokens[i - 1], word) in _TWO_WORD_SOURCE:
            return "source"
        if (i >= 1 and (tokens[i - 1], word) in _TWO_WORD_DEST) or word in ("topup", "top-up", "replenish"):
            return "destination"
        if word in _SOURCE_MARKERS:
            return "source"
        if word in _DEST_MARKERS:
            return "destination"
        if word in _FILLER or _NUMBERISH.fullmatch(word):
            i -= 1
            continue
        return None
    return None


def account_roles(text: str, accounts: list[dict[str, Any]]) -> list[AccountMention]:
    """Every own account the text names, in order, each with its role (None when the text does not say)."""
    tokens = _tokens(text)
    mentions = _mentions(tokens, accounts)
    roles: list[Role | None] = []
    previous_end = 0
    for start, end, _ in mentions:
        roles.append(_marker_before(tokens, start, previous_end))
        previous_end = end + 1
    # "savings to checking": an unmarked account right before a destination is where the money comes from.
    for n in range(len(mentions) - 1):
        if roles[n] is None and roles[n + 1] == "destination":
            roles[n] = "source"
        elif roles[n] == "source" and roles[n + 1] is None and \
                _is_bare_link(tokens, mentions[n][1], mentions[n + 1][0]):
            roles[n + 1] = "destination"
    return [AccountMention(start, account_id, role)
            for (start, _, account_id), role in zip(mentions, roles, strict=True)]


def _is_bare_link(tokens: list[str], end: int, start: int) -> bool:
    """Only an arrow or "and" between two accounts ("from savings -> checking")."""
    between = tokens[end + 1:start]
    return bool(between) and all(t in ("->", "→", "=>", "2") for t in between)


# ---------------------------------------------------------------------------------------------------
# one customer turn applied to the transfer being prepared

# Yes and no are short: longer messages are never read as one (and the patterns stay cheap).
YES_NO_MAX_CHARS = 100
_NEGATIVE = re.compile(r"(?<!\W)\W*(?:no|nope|nah|cancel|stop|abort|forget\s+it|never\s*mind|nevermind|don'?t|"
                       r"do\s+not)\b",
                       re.I)
# "hmm ok leave it then": a wish to stop anywhere in a short message.
_CANCEL_ANYWHERE = re.compile(r"\b(?:leave\s+it|forget\s+(?:it|about\s+it|that)|cancel|never\s*mind|skip\s+it|"
                              r"drop\s+it|scrap\s+(?:it|that)|don'?t\s+(?:send|bother|do)|not\s+now|no\s+thanks)\b",
                              re.I)
# Words that make a "yes" something else ("ok but later", "yes no wait", "maybe").
_HEDGE = re.compile(r"\b(?:but|not|no|wait|hold|hang|later|maybe|unless|except|leave|hmm+|instead|actually)\b", re.I)
_YES_WORDS = (r"(?:y|yes|yeah|yep|yup|ok|okay|sure|thing|confirm(?:ed)?|correct|go\s+ahead|do\s+it|send\s+it|proceed|"
              r"absolutely|please\s+do|please|thanks|thank\s+you|that'?s\s+(?:right|fine|correct)|fine|perfect|great|"
              r"alright|all\s+right|go\s+for\s+it|with\s+the\s+transfer|(?:the|this|that)\s+(?:transfer|payment)|lovely|cool)")
_AFFIRMATIVE = re.compile(rf"{_YES_WORDS}(?:\s+{_YES_WORDS})*", re.I)
_CORE_YES = re.compile(r"\b(?:y|yes|yeah|yep|yup|ok|okay|sure|confirm(?:ed)?|correct|go\s+ahead|do\s+it|send\s+it|"
                       r"proceed|absolutely|please\s+do|right|fine|perfect|alright|go\s+for\s+it)\b")
_YES_FIRST = re.compile(r"(?:ok(?:ay)?\s+)?(?:yes|yeah|yep|yup|sure|correct)\b", re.I)
AFFIRM_CONFIDENCE = 0.9
_CORRECTION = re.compile(r"\b(?:make\s+(?:it|that)|change\s+(?:it|that)\s+to|actually|instead|change|only|just|"
                         r"rather|correction|sorry)\b", re.I)
_PAYEE_CUE = re.compile(r"\b(?:to|pay|paying|send|for)\b", re.I)
UNCLEAR_TURNS_BEFORE_GIVING_UP = 2
SHORT_CORRECTION_WORDS = 5
_SAVE_VERB = re.compile(r"\b(?:save|stash|squirrel(?:\s+away)?|put\s+aside|set\s+aside)\b", re.I)
_SLANG_MONEY = re.compile(r"\b(?:quid|bucks?|squid)\b", re.I)
_SWAP = re.compile(r"\b(?:(?:the\s+)?other\s+way\s+a?round|the\s+reverse|reverse\s+(?:it|that|the\s+direction)|"
                   r"swap\s+(?:them|it|the\s+accounts)|switch\s+(?:them|it)\s+(?:round|around)|backwards)\b", re.I)


# "my landlord": the one saved payee whose name says it is a letting agent or landlord.
_LANDLORD_NAME = re.compile(r"\b(?:lettings?|landlord|propert(?:y|ies)|estates?|rentals?|homes|housing)\b", re.I)
_LANDLORD_IN_TEXT = re.compile(r"\b(?:landlord|landlady)\b", re.I)


def payees_by_role(text: str, payees: list[dict[str, Any]]) -> list[str]:
    """The payee a role word means ("pay my landlord" -> "Greenfield Lettings"), only when exactly one fits."""
    if not _LANDLORD_IN_TEXT.search(text):
        return []
    fits = [str(p["id"]) for p in payees if _LANDLORD_NAME.search(str(p.get("name") or ""))]
    return fits if len(fits) == 1 else []


@dataclass(frozen=True)
class TransferDraft:
    """The transfer being prepared, as the conversation's slots hold it."""

    amount: str | None = None          # "25 EUR"
    recipient: str | None = None       # "account:<id>" or "payee:<id>"
    source: str | None = None          # account id
    stated: str | None = None          # the summary last said back, "<amount>|<source>|<recipient>"
    confirmed: bool = False
    cancelled: bool = False
    unclear_turns: int = 0
    candidates: tuple[str, ...] = ()   # payee ids a spoken name may mean

    def summary_key(self) -> str | None:
        """What a confirmation binds to; None until every detail is known."""
        if self.amount and self.recipient and self.source:
            return f"{self.amount}|{self.source}|{self.recipient}"
        return None


@dataclass(frozen=True)
class Turn:
    """The customer's latest message as the NLU saw it, and what the bot had asked."""

    text: str
    intent: str
    entities: dict[str, str]
    asking: str | None                 # the slot the bot asked for last
    confidence: float = 1.0            # of the intent


def _words(text: str) -> str:
    """Lower-case words separated by single spaces: what yes/no patterns are matched against."""
    return " ".join(re.findall(r"[\w']+", text[: YES_NO_MAX_CHARS * 2].lower()))


def is_negative_text(text: str) -> bool:
    """ "no", "cancel", "wait", "hmm ok leave it then": the customer does not want it (any short message)."""
    if len(text) > YES_NO_MAX_CHARS:
        return False
    return bool(_NEGATIVE.match(text) or _CANCEL_ANYWHERE.search(text))


def is_affirmative_text(text: str) -> bool:
    """ "yes", "ok go ahead", "sure, thanks": a plain yes, whatever the intent classifier said."""
    if len(text) > YES_NO_MAX_CHARS or is_negative_text(text) or _HEDGE.search(text):
        return False
    words = _words(text)
    return bool((_AFFIRMATIVE.fullmatch(words) and _CORE_YES.search(words)) or _YES_FIRST.match(words))


def _is_negative(turn: Turn) -> bool:
    return turn.intent == "deny" or is_negative_text(turn.text)


def _is_affirmative(turn: Turn) -> bool:
    """A yes in words, or the affirm intent said with confidence and without a hedge or a no."""
    if is_affirmative_text(turn.text):
        return True
    return turn.intent == "affirm" and turn.confidence >= AFFIRM_CONFIDENCE and len(turn.text) <= YES_NO_MAX_CHARS \
        and not is_negative_text(turn.text) and not _HEDGE.search(turn.text)


def _amount(turn: Turn, currency: str | None, held_currencies: set[str]) -> str | None:
    money = parse_amount(turn.entities.get("amount") or turn.text, currency)
    if money is None:
        return None
    # asking None: the form is starting, so this message is the transfer request itself; at the summary a
    # short message with a number changes the amount ("no wait, 30"); elsewhere only an amount with its
    # currency ("€40") is taken as one.
    expected = (turn.asking in (None, "transfer_amount") or turn.intent == "transfer_money"
                or bool(_CORRECTION.search(turn.text))
                or (turn.asking == "transfer_confirmation" and len(turn.text.split()) <= SHORT_CORRECTION_WORDS))
    if not expected:
        said = parse_amount(turn.text, None)
        expected = said is not None and said.currency is not None
    if not expected:
        return None
    code = money.currency
    if code and code != currency and _SLANG_MONEY.search(turn.text) and code not in held_currencies:
        code = currency  # "30 quid" from someone who banks in euros means 30 of their own money
    return f"{money.amount} {code or ''}".strip()


def apply_turn(draft: TransferDraft, turn: Turn, accounts: list[dict[str, Any]],
               payees: list[dict[str, Any]]) -> TransferDraft:
    """The draft after this message: details it names change, "no" cancels, a yes to the stated summary confirms.

    Nothing is ever picked for the customer except the source when the destination is one of their
    accounts and exactly one other account in the same currency exists.
    """
    own = {str(a["id"]): a for a in accounts}
    amount, recipient, source = draft.amount, draft.recipient, draft.source
    candidates = draft.candidates
    chosen_recipient, chosen_source = turn.entities.get("recipient_id"), turn.entities.get("source_id")
    known_recipients = {f"account:{i}" for i in own} | {f"payee:{p['id']}" for p in payees}
    recipient_now = source_now = None
    if chosen_recipient in known_recipients:
        recipient_now = chosen_recipient
    if chosen_source in own:
        source_now = chosen_source
    currency = next((str(a.get("currency")) for a in accounts if str(a["id"]) == (source or "")), None) or \
        next((str(a.get("currency")) for a in accounts), None)
    amount_now = _amount(turn, currency, {str(a.get("currency")) for a in accounts})
    named: dict[str, set[str]] = {"source": set(), "destination": set()}
    for mention in account_roles(turn.text, accounts):
        role = mention.role
        if role is None and turn.asking in ("transfer_source_id", "transfer_recipient_id"):
            role = "source" if turn.asking == "transfer_source_id" else "destination"
        if role is not None:
            named[role].add(mention.account_id)
    # Two different accounts in the same role ("dip into savings and move it to checking"): the words
    # contradict each other as read, so neither is taken and the customer is asked.
    if len(named["source"]) == 1 and source_now is None:
        source_now = next(iter(named["source"]))
    if len(named["destination"]) == 1 and recipient_now is None:
        recipient_now = f"account:{next(iter(named['destination']))}"
    if recipient_now is None and payees and (turn.asking == "transfer_recipient_id" or turn.intent == "transfer_money"
                                             or _PAYEE_CUE.search(turn.text)):
        names = find_recipient(turn.entities.get("recipient") or turn.text, [str(p["name"]) for p in payees])
        matches = [str(p["id"]) for p in payees if p["name"] in names] or payees_by_role(turn.text, payees)
        if len(matches) == 1:
            recipient_now = f"payee:{matches[0]}"
        elif len(matches) > 1:
            candidates = tuple(matches)
    # "no, from savings" when savings was the destination: the customer reverses the direction.
    if source_now and recipient_now is None and recipient == f"account:{source_now}":
        recipient = f"account:{source}" if source and source != source_now else None
    if recipient_now and source_now is None and recipient_now == f"account:{source}":
        source = recipient.split(":", 1)[1] if recipient and recipient.startswith("account:") else None
    if recipient_now is None and recipient is None and _SAVE_VERB.search(turn.text):
        savings = [i for i, a in own.items() if a.get("type") == "savings" and i != (source_now or source)]
        if len(savings) == 1:
            recipient_now = f"account:{savings[0]}"  # "save 30 from my everyday account"
    if _SWAP.search(turn.text) and source and recipient and recipient.startswith("account:") \
            and not (recipient_now or source_now):
        source_now, recipient_now = recipient.split(":", 1)[1], f"account:{source}"
    amount, recipient, source = amount_now or amount, recipient_now or recipient, source_now or source
    if recipient == f"account:{source}":
        recipient = None if recipient_now is None else recipient
        source = None if recipient_now is not None else source
    if recipient and recipient.startswith("account:") and source is None:
        target = own.get(recipient.split(":", 1)[1], {})
        others = [i for i, a in own.items() if f"account:{i}" != recipient
                  and a.get("currency") == target.get("currency") and a.get("type") in ("checking", "savings")]
        if len(others) == 1:
            source = others[0]
    changed = (amount, recipient, source) != (draft.amount, draft.recipient, draft.source)
    if changed:
        return replace(draft, amount=amount, recipient=recipient, source=source, confirmed=False, unclear_turns=0,
                       candidates=() if recipient != draft.recipient and recipient else candidates)
    if candidates != draft.candidates:
        return replace(draft, candidates=candidates, unclear_turns=0)
    if _is_negative(turn):
        return replace(draft, cancelled=True)
    if amount_now or source_now or recipient_now:
        # "right, move 30 from savings to checking" at the summary that says just that: a clear answer
        # (the summary is stated again), not an unclear one that brings the transfer closer to dropping.
        return replace(draft, unclear_turns=0)
    if turn.asking == "transfer_confirmation" and _is_affirmative(turn) and draft.stated is not None \
            and draft.stated == draft.summary_key():
        return replace(draft, confirmed=True)
    if turn.asking is None:
        return draft  # the request that started the form ("I want to send money"): nothing to be unclear about
    unclear = draft.unclear_turns + 1
    return replace(draft, unclear_turns=unclear, cancelled=unclear >= UNCLEAR_TURNS_BEFORE_GIVING_UP)


_TRANSFER_VERBS = ("transfer", "xfer", "send")
_TRANSFER_VERB_RATIO = 0.8


def _names_transfer_verb(text: str) -> bool:
    """ "trnsfer", "tranfser", "xfer": the word transfer, possibly misspelt (the first 12 words looked at)."""
    for word in _tokens(text)[:12]:
        if word in _TRANSFER_VERBS or (abs(len(word) - len("transfer")) <= 1 and
                                       SequenceMatcher(None, word, "transfer").ratio() >= _TRANSFER_VERB_RATIO):
            return True
    return False


def looks_like_transfer(text: str, accounts: list[dict[str, Any]]) -> bool:
    """An amount with an own account and a direction ("transfr 70 to my savigns"), or with the word transfer
    however spelt ("trnsfer 100 pls"): a transfer request the intent classifier was unsure of. The form then
    asks for whatever is missing."""
    if parse_amount(text) is None:
        return False
    return any(m.role for m in account_roles(text, accounts)) or _names_transfer_verb(text)
