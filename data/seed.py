"""Load the demo data: idempotent, deterministic (fixed seed, dates relative to today).

    python -m data.seed                 # alice, bob, agent, compliance, and their year of history
    python -m data.seed --customers 500 # plus 500 synthetic customers for load tests

A customer who already exists is skipped whole, so running it twice changes nothing.
"""

from __future__ import annotations

import argparse
import random
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import psycopg
from psycopg.types.json import Jsonb

import ledger
from api.auth.security import hash_password
from api.bank_accounts import bank_account
from api.config import get_settings
from data.merchants import BY_NAME, MERCHANTS, Merchant

NAMESPACE = uuid.UUID("6f1d2c1e-7d4b-4c55-9f55-0b8c1d8e2a10")
DEMO_PASSWORD = "demo-password"  # noqa: S105 - documented demo credential, demo data only
HISTORY_DAYS = 365


def stable_id(*parts: object) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, ":".join(str(p) for p in parts))


@dataclass(frozen=True)
class Person:
    username: str
    full_name: str
    email: str
    phone: str
    roles: tuple[str, ...]
    kyc_status: str = "verified"
    address: str | None = None
    timezone: str = "Europe/Dublin"
    currency: str = "EUR"
    salary: int = 0  # monthly, minor units
    opening: int = 0

    @property
    def spend_scale(self) -> float:
        # Card spending scales with salary, so that nobody runs dry by design (declines stay rare).
        return min(1.0, self.salary / 385000)


DEMO_PEOPLE = (
    Person("alice", "Alice Martin", "alice.martin@example.com", "+353 87 123 4567", ("customer",),
           address="14 Harbour Road, Howth, Dublin D13 X2Y4", salary=385000, opening=250000),
    Person("bob", "Bob Keller", "bob.keller@example.com", "+353 86 765 4321", ("customer",),
           address="3 Mill Lane, Galway H91 K2P8", kyc_status="pending", salary=298000, opening=90000),
    Person("agent", "Sam Agent", "agent@bankbot.example", "+353 1 555 0100", ("agent",)),
    Person("compliance", "Casey Compliance", "compliance@bankbot.example", "+353 1 555 0199", ("compliance",)),
)


def synthetic_people(count: int) -> Iterator[Person]:
    rng = random.Random(77)
    first = ("Aoife", "Liam", "Emma", "Noah", "Mia", "Oisin", "Sofia", "Jack", "Ava", "Finn")
    last = ("Byrne", "Walsh", "Kelly", "Murphy", "Ryan", "Doyle", "Brennan", "Lynch", "Quinn", "Nolan")
    for n in range(count):
        name = f"{rng.choice(first)} {rng.choice(last)}"
        yield Person(f"customer{n:06d}", name, f"customer{n:06d}@example.com", f"+353 87 {n:07d}",
                     ("customer",), salary=rng.randrange(220000, 520000, 100), opening=rng.randrange(20000, 400000))


@dataclass(frozen=True)
class Posting:
    when: datetime
    source: str  # account role: checking, savings, funding, settlement
    target: str
    amount: int
    kind: str
    description: str
    merchant: Merchant | None = None


def _at(day: date, rng: random.Random, tz: ZoneInfo) -> datetime:
    local = datetime.combine(day, time(rng.randint(7, 20), rng.randint(0, 59), rng.randint(0, 59)), tz)
    return local.astimezone(UTC)


def _card_payment(day: date, rng: random.Random, tz: ZoneInfo, merchant: Merchant) -> Posting:
    amount = merchant.low if merchant.low == merchant.high else rng.randint(merchant.low, merchant.high)
    return Posting(_at(day, rng, tz), "checking", "settlement", amount, "card_payment", merchant.name, merchant)


# Daily probability of a card payment in each category, and the merchants that take it.
DAILY = (("coffee", 0.65), ("groceries", 0.3), ("restaurants", 0.17), ("transport", 0.45), ("shopping", 0.12),
         ("entertainment", 0.05), ("health", 0.05), ("cash", 0.04), ("travel", 0.01))
MONTHLY = {1: ("Greenfield Lettings",), 5: ("Netflix", "Spotify"), 18: ("Vodafone", "Electric Ireland")}


def history(person: Person, today: date) -> list[Posting]:
    """A year of a customer's money movements, oldest first."""
    rng = random.Random(person.username)
    tz = ZoneInfo(person.timezone)
    start = today - timedelta(days=HISTORY_DAYS)
    opening_at = datetime.combine(start - timedelta(days=1), time(9), tz).astimezone(UTC)
    postings = [Posting(opening_at, "funding", "checking", person.opening, "deposit", "Opening deposit")]
    by_category: dict[str, list[Merchant]] = {}
    for m in MERCHANTS:
        by_category.setdefault(m.category, []).append(m)
    for offset in range(HISTORY_DAYS):
        day = start + timedelta(days=offset)
        for name in MONTHLY.get(day.day, ()):
            postings.append(_card_payment(day, rng, tz, BY_NAME[name]))
        if day.day == 25:
            postings.append(Posting(_at(day, rng, tz), "funding", "checking", person.salary, "salary",
                                    "Salary"))
        if day.day == 26:
            postings.append(Posting(_at(day, rng, tz), "checking", "savings", person.salary // 2000 * 100,
                                    "internal_transfer", "Monthly savings"))
        for category, chance in DAILY:
            if rng.random() < chance * person.spend_scale:
                postings.append(_card_payment(day, rng, tz, rng.choice(by_category[category])))
    postings.sort(key=lambda p: p.when)
    return postings


def _bank_accounts(conn: psycopg.Connection, currency: str) -> dict[str, uuid.UUID]:
    return {role: bank_account(conn, role, currency).id for role in ("funding", "settlement", "clearing")}


def _insert_user(conn: psycopg.Connection, person: Person, password_hash: str) -> tuple[uuid.UUID, bool]:
    user_id = stable_id("user", person.username)
    row = conn.execute(
        """INSERT INTO users (id, username, password_hash, full_name, email, phone, address, roles, kyc_status,
           timezone) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (username) DO NOTHING RETURNING id""",
        (user_id, person.username, password_hash, person.full_name, person.email, person.phone, person.address,
         list(person.roles), person.kyc_status, person.timezone)).fetchone()
    return user_id, row is not None


def iban_ie(account_digits: str) -> str:
    """A checksum-valid Irish IBAN for demo payees (bank code BOFI, sort code 900017)."""
    bban = f"BOFI900017{account_digits:0>8}"
    digits = "".join(str(int(c, 36)) for c in bban + "IE00")
    return f"IE{98 - int(digits) % 97:02d}{bban}"


PAYEES = (("Mary Martin", "12345678"), ("Greenfield Lettings", "87654321"), ("Tom Hardy", "11223344"))
DECLINES = (("Amazon", "insufficient_funds"), ("Ryanair", "limit_exceeded"), ("Zara", "card_frozen"),
            ("ATM Withdrawal", "incorrect_pin"), ("Shell", "expired_card"), ("Amazon", "suspected_fraud"))


def _open_card(conn: psycopg.Connection, person: Person, user_id: uuid.UUID, account_id: uuid.UUID,
          today: date) -> uuid.UUID:
    rng = random.Random(f"card:{person.username}")
    card_id = stable_id("card", person.username)
    last4 = "4821" if person.username == "alice" else f"{rng.randrange(10000):04d}"
    delivered = datetime.combine(today - timedelta(days=200), time(11), UTC)
    conn.execute("""INSERT INTO cards (id, customer_id, account_id, last4, brand, kind, status, expires_month,
                    expires_year, shipped_at, delivered_at) VALUES (%s, %s, %s, %s, 'visa', 'physical', 'active',
                    %s, %s, %s, %s)""",
                 (card_id, user_id, account_id, last4, today.month, today.year + 3, delivered - timedelta(days=4),
                  delivered))
    return card_id


def _post(conn: psycopg.Connection, transaction_id: uuid.UUID, p: Posting, accounts: dict[str, uuid.UUID],
          currency: str) -> bool:
    """Post one history item; False when the ledger declines it for want of funds."""
    try:
        with conn.transaction():
            ledger.post_transfer(
                conn, transaction_id=transaction_id, from_account_id=accounts[p.source],
                to_account_id=accounts[p.target], amount=p.amount, currency=currency, kind=p.kind,
                reference=p.description, category=p.merchant.category if p.merchant else (
                    "income" if p.kind in ("salary", "deposit") else "transfers"),
                merchant=p.merchant.name if p.merchant else None,
                metadata={"mcc": p.merchant.mcc} if p.merchant else {}, effective_at=p.when)
        return True
    except ledger.InsufficientFunds:
        return False


def _history(conn: psycopg.Connection, person: Person, user_id: uuid.UUID, card_id: uuid.UUID,
             accounts: dict[str, uuid.UUID], today: date) -> None:
    authorizations, transfers = [], []
    for n, p in enumerate(history(person, today)):
        transaction_id = stable_id("txn", person.username, n)
        posted = _post(conn, transaction_id, p, accounts, person.currency)
        if p.merchant is not None:
            authorizations.append((stable_id("auth", person.username, n), card_id, p.merchant.name,
                                   p.merchant.category, p.merchant.mcc, p.amount, person.currency,
                                   "approved" if posted else "declined", None if posted else "insufficient_funds",
                                   transaction_id if posted else None, p.when))
        elif p.kind == "internal_transfer" and posted:
            transfers.append((stable_id("transfer", person.username, n), user_id, accounts["checking"],
                              accounts["savings"], None, p.amount, person.currency, p.description, "completed",
                              None, transaction_id, p.when, p.when))
    rng = random.Random(f"declines:{person.username}")
    for n, (merchant, reason) in enumerate(DECLINES):
        when = datetime.combine(today - timedelta(days=1 + 45 * n), time(rng.randint(8, 20), 15), UTC)
        m = BY_NAME[merchant]
        authorizations.append((stable_id("decline", person.username, n), card_id, m.name, m.category, m.mcc,
                               rng.randint(m.low, m.high), person.currency, "declined", reason, None, when))
    with conn.cursor() as cur:
        cur.executemany("""INSERT INTO card_authorizations (id, card_id, merchant, category, mcc, amount, currency,
                           status, decline_reason, ledger_transaction_id, created_at)
                           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""", authorizations)
        cur.executemany("""INSERT INTO transfers (id, customer_id, from_account_id, to_account_id, counterparty,
                           amount, currency, reference, status, failure_reason, ledger_transaction_id, created_at,
                           updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""", transfers)


def _payees_and_recent(conn: psycopg.Connection, person: Person, user_id: uuid.UUID, card_id: uuid.UUID,
                       accounts: dict[str, uuid.UUID], today: date) -> None:
    """Saved payees, a failed transfer to one of them, and two card payments still pending (holds)."""
    for name, digits in PAYEES:
        conn.execute("INSERT INTO payees (id, customer_id, name, iban) VALUES (%s, %s, %s, %s)",
                     (stable_id("payee", person.username, name), user_id, name, iban_ie(digits)))
    failed_at = datetime.combine(today - timedelta(days=3), time(10, 30), UTC)
    conn.execute("""INSERT INTO transfers (id, customer_id, from_account_id, counterparty, amount, currency,
                    reference, status, failure_reason, created_at, updated_at)
                    VALUES (%s, %s, %s, %s, %s, %s, %s, 'failed', 'beneficiary_account_closed', %s, %s)""",
                 (stable_id("transfer", person.username, "failed"), user_id, accounts["checking"],
                  Jsonb({"name": "Tom Hardy", "iban": iban_ie("11223344")}), 7500, person.currency,
                  "Concert tickets", failed_at, failed_at + timedelta(minutes=20)))
    for n, name in enumerate(("Tesco", "Uber")):
        merchant = BY_NAME[name]
        hold_id = stable_id("pending", person.username, n)
        amount = merchant.low + 137 * (n + 1)
        try:
            with conn.transaction():
                ledger.create_hold(conn, hold_id=hold_id, from_account_id=accounts["checking"],
                                   to_account_id=accounts["settlement"], amount=amount, currency=person.currency,
                                   kind="card_payment", reference=name, category=merchant.category, merchant=name,
                                   metadata={"mcc": merchant.mcc}, expires_at=datetime.now(UTC) + timedelta(days=7))
        except ledger.InsufficientFunds:
            continue
        conn.execute("""INSERT INTO card_authorizations (id, card_id, merchant, category, mcc, amount, currency,
                        status, ledger_transaction_id) VALUES (%s, %s, %s, %s, %s, %s, %s, 'pending', %s)""",
                     (stable_id("auth-pending", person.username, n), card_id, name, merchant.category,
                      merchant.mcc, amount, person.currency, hold_id))


def load_person(conn: psycopg.Connection, person: Person, password_hash: str, today: date) -> bool:
    """Insert one person and, for customers, their accounts, card and history. False if they existed."""
    with conn.transaction():
        user_id, created = _insert_user(conn, person, password_hash)
        if not created or "customer" not in person.roles:
            return created
        accounts = _bank_accounts(conn, person.currency)
        for kind, name in (("checking", "Everyday checking"), ("savings", "Rainy-day savings")):
            accounts[kind] = ledger.open_account(conn, owner_id=str(user_id), name=name, kind=kind,
                                                 currency=person.currency,
                                                 account_id=stable_id("account", person.username, kind)).id
        card_id = _open_card(conn, person, user_id, accounts["checking"], today)
        _history(conn, person, user_id, card_id, accounts, today)
        _payees_and_recent(conn, person, user_id, card_id, accounts, today)
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=0, help="synthetic customers to add for load tests")
    parser.add_argument("--database-url", default=get_settings().database_url)
    args = parser.parse_args(argv)
    assert 0 <= args.customers <= 1_000_000, "--customers must be between 0 and 1,000,000"
    today = datetime.now(UTC).date()
    password_hash = hash_password(DEMO_PASSWORD)  # one hash: argon2 is slow on purpose
    people = [*DEMO_PEOPLE, *synthetic_people(args.customers)]
    created = 0
    with psycopg.connect(args.database_url) as conn:
        for n, person in enumerate(people, 1):
            created += load_person(conn, person, password_hash, today)
            if args.customers and (n % 100 == 0 or n == len(people)):
                print(f"\rseeded {n}/{len(people)} people", end="", file=sys.stderr, flush=True)
    if args.customers:
        print(file=sys.stderr)
    print(f"demo data: {created} people added, {len(people) - created} already present")


if __name__ == "__main__":
    main()
