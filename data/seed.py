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

import ledger
from api.auth.security import hash_password
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
    timezone: str = "Europe/Dublin"
    currency: str = "EUR"
    salary: int = 0  # monthly, minor units
    opening: int = 0


DEMO_PEOPLE = (
    Person("alice", "Alice Martin", "alice.martin@example.com", "+353 87 123 4567", ("customer",),
           salary=385000, opening=250000),
    Person("bob", "Bob Keller", "bob.keller@example.com", "+353 86 765 4321", ("customer",),
           kyc_status="pending", salary=298000, opening=90000),
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


def _card(day: date, rng: random.Random, tz: ZoneInfo, merchant: Merchant) -> Posting:
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
            postings.append(_card(day, rng, tz, BY_NAME[name]))
        if day.day == 25:
            postings.append(Posting(_at(day, rng, tz), "funding", "checking", person.salary, "salary",
                                    "Salary"))
        if day.day == 26:
            postings.append(Posting(_at(day, rng, tz), "checking", "savings", 20000, "internal_transfer",
                                    "Monthly savings"))
        for category, chance in DAILY:
            if rng.random() < chance:
                postings.append(_card(day, rng, tz, rng.choice(by_category[category])))
    postings.sort(key=lambda p: p.when)
    return postings


def _bank_accounts(conn: psycopg.Connection, currency: str) -> dict[str, uuid.UUID]:
    funding = ledger.open_account(conn, owner_id=None, name=f"Bank funding {currency}", kind="bank_funding",
                                  currency=currency, allow_negative=True,
                                  account_id=stable_id("bank", "funding", currency))
    settlement = ledger.open_account(conn, owner_id=None, name=f"Card settlement {currency}",
                                     kind="merchant_settlement", currency=currency, allow_negative=False,
                                     account_id=stable_id("bank", "settlement", currency))
    return {"funding": funding.id, "settlement": settlement.id}


def _insert_user(conn: psycopg.Connection, person: Person, password_hash: str) -> tuple[uuid.UUID, bool]:
    user_id = stable_id("user", person.username)
    row = conn.execute(
        """INSERT INTO users (id, username, password_hash, full_name, email, phone, roles, kyc_status, timezone)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (username) DO NOTHING RETURNING id""",
        (user_id, person.username, password_hash, person.full_name, person.email, person.phone,
         list(person.roles), person.kyc_status, person.timezone)).fetchone()
    return user_id, row is not None


def load_person(conn: psycopg.Connection, person: Person, password_hash: str, today: date) -> bool:
    """Insert one person and, for customers, their accounts and history. False if they already existed."""
    with conn.transaction():
        user_id, created = _insert_user(conn, person, password_hash)
        if not created or "customer" not in person.roles:
            return created
        accounts = _bank_accounts(conn, person.currency)
        for kind, name in (("checking", "Everyday checking"), ("savings", "Rainy-day savings")):
            accounts[kind] = ledger.open_account(conn, owner_id=str(user_id), name=name, kind=kind,
                                                 currency=person.currency,
                                                 account_id=stable_id("account", person.username, kind)).id
        for n, p in enumerate(history(person, today)):
            try:
                with conn.transaction():
                    ledger.post_transfer(
                        conn, transaction_id=stable_id("txn", person.username, n),
                        from_account_id=accounts[p.source], to_account_id=accounts[p.target], amount=p.amount,
                        currency=person.currency, kind=p.kind, reference=p.description,
                        category=p.merchant.category if p.merchant else None,
                        merchant=p.merchant.name if p.merchant else None,
                        metadata={"mcc": p.merchant.mcc} if p.merchant else {}, effective_at=p.when)
            except ledger.LedgerError as exc:
                if exc.code != "insufficient_funds":
                    raise
                # A declined card payment: nothing posted (the cards domain records the authorization).
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
